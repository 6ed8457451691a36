"""
Reference forward passes, in float64 PyTorch, for the decoder families ptune runs: Llama (3.x rope
scaling), Mistral, Qwen2, Qwen3, Gemma, Gemma 2, Gemma 3 (text), Phi-3 and GPT-2.

Written from each architecture's published definition (the papers and the model cards' modeling
descriptions), as plain tensor algebra with no transformers modules, so it documents the math the
engine's graph must reproduce. Hyperparameters come from transformers' AutoConfig (which applies
each family's defaults to config.json); weights from the folder's safetensors files under the
family's own tensor names.

forward(folder or load(folder, dtype), ids, prompt=None, prefix=None) -> logits [positions, vocab]
  (float64 unless loaded in another dtype; ids may also be a LongTensor [B, T] -> [B, positions, vocab])
  prompt: [P, dim] soft-prompt embeddings, prepended to the (scaled, for Gemma) token embeddings,
          themselves unscaled; they take positions 0..P-1.
  prefix: per layer (keys [n_kv_heads, P, head_dim], values [n_kv_heads, P, head_dim]), as
          transformers' past_key_values holds them: keys already normalized and rotated, used as
          stored; the tokens then take positions P..P+T-1.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

import torch
from safetensors.torch import load_file
from transformers import AutoConfig

F = torch.float64


def load_tensors(folder: str, dtype: torch.dtype = F) -> dict[str, torch.Tensor]:
    index = os.path.join(folder, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    out: dict[str, torch.Tensor] = {}
    for f in files:
        out.update({k: v.to(dtype) for k, v in load_file(os.path.join(folder, f)).items()})
    return out


@dataclass
class Arch:
    family: str
    dim: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    eps: float
    norm: str  # rms | gemma_rms | layer
    qk_norm: bool
    sandwich: bool
    ffn: str  # swiglu | geglu | gelu_mlp
    query_scale: float
    attn_softcap: float | None
    final_softcap: float | None
    embed_scale: float
    window: int | None
    sliding: list[bool]
    rope: list[dict | None]  # per layer: rope parameters (None: learned positions)
    rotary_dim: int
    tied: bool


def arch_of(folder: str) -> Arch:
    c = AutoConfig.from_pretrained(folder)
    mt = c.model_type
    family = {"gemma3_text": "gemma3"}.get(mt, mt)
    if family == "gpt2":
        d, h = c.n_embd, c.n_head
        return Arch(family, d, c.n_layer, h, h, d // h, c.vocab_size, c.layer_norm_epsilon, "layer", False, False,
                    "gelu_mlp", (d // h) ** -0.5, None, None, 1.0, None, [False] * c.n_layer, [None] * c.n_layer, 0,
                    c.tie_word_embeddings)
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    gemma = family.startswith("gemma")
    layer_types = getattr(c, "layer_types", None) or ["full_attention"] * c.num_hidden_layers
    sliding = [t == "sliding_attention" for t in layer_types]
    window = getattr(c, "sliding_window", None)
    if family == "mistral" or family == "phi3":
        sliding = [window is not None] * c.num_hidden_layers
    rp = c.rope_parameters
    per_layer = [rp.get(t, rp) if isinstance(rp, dict) and t in rp else rp for t in layer_types]
    partial = (per_layer[0] or {}).get("partial_rotary_factor", getattr(c, "partial_rotary_factor", 1.0)) or 1.0
    if family == "gemma2" or family == "gemma3":
        query_scale = c.query_pre_attn_scalar ** -0.5
    else:
        query_scale = head_dim ** -0.5
    return Arch(
        family, c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads, head_dim,
        c.vocab_size, c.rms_norm_eps, "gemma_rms" if gemma else "rms", family in ("qwen3", "gemma3"),
        family in ("gemma2", "gemma3"), "geglu" if gemma else "swiglu", query_scale,
        getattr(c, "attn_logit_softcapping", None) if gemma else None,
        getattr(c, "final_logit_softcapping", None) if gemma else None,
        math.sqrt(c.hidden_size) if gemma else 1.0, window if any(sliding) else None, sliding,
        [dict(p, max_position_embeddings=c.max_position_embeddings) for p in per_layer], int(head_dim * partial),
        c.tie_word_embeddings,
    )


# ---- weights under each family's checkpoint names -> one dict per layer ------------------------

def layer_weights(a: Arch, t: dict[str, torch.Tensor], i: int) -> dict[str, torch.Tensor | None]:
    if a.family == "gpt2":
        p = f"transformer.h.{i}."
        w = {k: t.get(p + k) for k in ["ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias", "attn.c_attn.bias", "attn.c_proj.bias", "mlp.c_fc.bias", "mlp.c_proj.bias"]}
        # Conv1D stores [in, out]: y = x W + b
        qkv = t[p + "attn.c_attn.weight"].T
        q, k, v = qkv.split(a.dim, 0)
        bq, bk, bv = w["attn.c_attn.bias"].split(a.dim, 0)
        return {"in_w": w["ln_1.weight"], "in_b": w["ln_1.bias"], "q": q, "k": k, "v": v, "bq": bq, "bk": bk, "bv": bv,
                "o": t[p + "attn.c_proj.weight"].T, "bo": w["attn.c_proj.bias"], "ffn_w": w["ln_2.weight"], "ffn_b": w["ln_2.bias"],
                "up": t[p + "mlp.c_fc.weight"].T, "bup": w["mlp.c_fc.bias"], "down": t[p + "mlp.c_proj.weight"].T, "bdown": w["mlp.c_proj.bias"]}
    p = f"model.layers.{i}."
    g = lambda k: t.get(p + k)  # noqa: E731
    if a.family == "phi3":
        q, k, v = g("self_attn.qkv_proj.weight").split([a.heads * a.head_dim, a.kv_heads * a.head_dim, a.kv_heads * a.head_dim], 0)
        gate, up = g("mlp.gate_up_proj.weight").chunk(2, 0)
    else:
        q, k, v = g("self_attn.q_proj.weight"), g("self_attn.k_proj.weight"), g("self_attn.v_proj.weight")
        gate, up = g("mlp.gate_proj.weight"), g("mlp.up_proj.weight")
    return {
        "in_w": g("input_layernorm.weight"), "q": q, "k": k, "v": v,
        "bq": g("self_attn.q_proj.bias"), "bk": g("self_attn.k_proj.bias"), "bv": g("self_attn.v_proj.bias"),
        "o": g("self_attn.o_proj.weight"), "bo": g("self_attn.o_proj.bias"),
        "q_norm": g("self_attn.q_norm.weight"), "k_norm": g("self_attn.k_norm.weight"),
        # Gemma 2/3: post_attention_layernorm closes the attention block and pre_feedforward_layernorm opens the MLP;
        # elsewhere post_attention_layernorm is the MLP's input norm
        "post_attn": g("post_attention_layernorm.weight") if a.sandwich else None,
        "ffn_w": g("pre_feedforward_layernorm.weight") if a.sandwich else g("post_attention_layernorm.weight"),
        "post_ffn": g("post_feedforward_layernorm.weight") if a.sandwich else None,
        "gate": gate, "up": up, "down": g("mlp.down_proj.weight"),
        "bgate": g("mlp.gate_proj.bias"), "bup": g("mlp.up_proj.bias"), "bdown": g("mlp.down_proj.bias"),
    }


# ---- the math --------------------------------------------------------------------------------

def norm(a: Arch, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    if a.norm == "layer":
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + a.eps) * w + b
    y = x / torch.sqrt((x * x).mean(-1, keepdim=True) + a.eps)
    return y * (1 + w) if a.norm == "gemma_rms" else y * w


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    y = x @ w.T
    return y + b if b is not None else y


def inv_freq(p: dict, rotary_dim: int) -> tuple[torch.Tensor, float]:
    """RoPE frequencies for one rope-parameter dict, and the factor that multiplies cos and sin."""
    base = p["rope_theta"]
    freqs = 1.0 / base ** (torch.arange(0, rotary_dim, 2, dtype=F) / rotary_dim)
    kind = p.get("rope_type", "default")
    if kind == "default":
        return freqs, 1.0
    if kind == "linear":
        return freqs / p["factor"], 1.0
    if kind == "llama3":
        # Llama 3.1: keep high frequencies, divide low ones by `factor`, blend in between
        factor, lo, hi, orig = p["factor"], p["low_freq_factor"], p["high_freq_factor"], p["original_max_position_embeddings"]
        wavelen = 2 * math.pi / freqs
        smooth = (orig / wavelen - lo) / (hi - lo)
        out = torch.where(wavelen > orig / lo, freqs / factor, freqs)
        medium = (wavelen <= orig / lo) & (wavelen >= orig / hi)
        return torch.where(medium, (1 - smooth) * freqs / factor + smooth * freqs, out), 1.0
    if kind == "yarn":
        # YaRN (Peng et al. 2023): interpolate dims that rotate slowly, extrapolate fast ones, ramp between
        factor, orig = p["factor"], p["original_max_position_embeddings"]
        beta_fast, beta_slow = p.get("beta_fast") or 32, p.get("beta_slow") or 1
        attention_factor = p.get("attention_factor") or (0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0)

        def dim_for(rotations: float) -> float:
            return rotary_dim * math.log(orig / (rotations * 2 * math.pi)) / (2 * math.log(base))

        low, high = dim_for(beta_fast), dim_for(beta_slow)
        if p.get("truncate", True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, rotary_dim - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(rotary_dim // 2, dtype=F) - low) / (high - low)).clamp(0, 1)
        extrapolate = 1 - ramp
        return freqs / factor * (1 - extrapolate) + freqs * extrapolate, attention_factor
    raise ValueError(f"rope type {kind}")


def rope(x: torch.Tensor, positions: torch.Tensor, p: dict, rotary_dim: int) -> torch.Tensor:
    """rotate-half RoPE on the first rotary_dim dims of each head; x [heads, T, head_dim]"""
    f, scale = inv_freq(p, rotary_dim)
    ang = positions.to(F)[:, None] * f[None, :]
    cos = (torch.cat([ang.cos(), ang.cos()], -1) * scale).to(x.dtype)
    sin = (torch.cat([ang.sin(), ang.sin()], -1) * scale).to(x.dtype)
    r, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    half = rotary_dim // 2
    rotated = torch.cat([-r[..., half:], r[..., :half]], -1)
    return torch.cat([r * cos + rotated * sin, rest], -1)


@dataclass
class Loaded:
    arch: Arch
    tensors: dict[str, torch.Tensor]


def load(folder: str, dtype: torch.dtype = F) -> Loaded:
    """the folder's hyperparameters and weights (in `dtype`), to run forward() on repeatedly"""
    return Loaded(arch_of(folder), load_tensors(folder, dtype))


def forward(model: str | Loaded, ids, prompt: torch.Tensor | None = None,
            prefix: list[tuple[torch.Tensor, torch.Tensor]] | None = None) -> torch.Tensor:
    """ids: a list of token ids (-> logits [n, vocab]) or a LongTensor [B, T] (-> [B, n, vocab])"""
    m = load(model) if isinstance(model, str) else model
    a, t = m.arch, m.tensors
    pre = "transformer." if a.family == "gpt2" else "model."
    embed = t[pre + ("wte.weight" if a.family == "gpt2" else "embed_tokens.weight")]
    dtype = embed.dtype
    tokens = torch.as_tensor(ids)
    single = tokens.dim() == 1
    tokens = tokens[None] if single else tokens
    b = tokens.shape[0]
    x = embed[tokens] * a.embed_scale
    if prompt is not None:
        x = torch.cat([prompt.to(dtype).expand(b, -1, -1), x], 1)
    past = prefix[0][0].shape[1] if prefix else 0
    n = x.shape[1]
    pos = torch.arange(past, past + n)
    if a.family == "gpt2":
        x = x + t["transformer.wpe.weight"][pos]
    q_pos, k_pos = pos[:, None], torch.arange(past + n)[None, :]
    for i in range(a.layers):
        w = layer_weights(a, t, i)
        h = norm(a, x, w["in_w"], w.get("in_b"))
        q = linear(h, w["q"], w["bq"]).view(b, n, a.heads, a.head_dim).transpose(1, 2)
        k = linear(h, w["k"], w["bk"]).view(b, n, a.kv_heads, a.head_dim).transpose(1, 2)
        v = linear(h, w["v"], w["bv"]).view(b, n, a.kv_heads, a.head_dim).transpose(1, 2)
        if a.qk_norm:
            q, k = norm(a, q, w["q_norm"]), norm(a, k, w["k_norm"])
        if a.rope[i] is not None:
            q, k = rope(q, pos, a.rope[i], a.rotary_dim), rope(k, pos, a.rope[i], a.rotary_dim)
        if prefix:
            k = torch.cat([prefix[i][0].to(dtype).expand(b, -1, -1, -1), k], 2)
            v = torch.cat([prefix[i][1].to(dtype).expand(b, -1, -1, -1), v], 2)
        group = a.heads // a.kv_heads
        k, v = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
        s = (q @ k.transpose(-1, -2)) * a.query_scale
        if a.attn_softcap:
            s = a.attn_softcap * torch.tanh(s / a.attn_softcap)
        visible = k_pos <= q_pos
        if a.sliding[i] and a.window is not None:
            visible &= k_pos > q_pos - a.window
        s = s.masked_fill(~visible, float("-inf"))
        o = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(b, n, a.heads * a.head_dim)
        o = linear(o, w["o"], w["bo"])
        if a.sandwich:
            o = norm(a, o, w["post_attn"])
        x = x + o
        h = norm(a, x, w["ffn_w"], w.get("ffn_b"))
        if a.ffn == "gelu_mlp":
            f = linear(gelu_tanh(linear(h, w["up"], w["bup"])), w["down"], w["bdown"])
        else:
            act = torch.nn.functional.silu if a.ffn == "swiglu" else gelu_tanh
            f = linear(act(linear(h, w["gate"], w["bgate"])) * linear(h, w["up"], w["bup"]), w["down"], w["bdown"])
        if a.sandwich:
            f = norm(a, f, w["post_ffn"])
        x = x + f
    final = "transformer.ln_f." if a.family == "gpt2" else "model.norm."
    x = norm(a, x, t[final + "weight"], t.get(final + "bias"))
    head = embed if a.tied else t["lm_head.weight"]
    logits = x @ head.T
    if a.final_softcap:
        logits = a.final_softcap * torch.tanh(logits / a.final_softcap)
    return logits[0] if single else logits
