"""PyTorch eager reference for one prompt-tuning training step of a frozen decoder.

Reads a safetensors file written by train-step.ts: the model — either its weights (llama2.c
names, row-major (out, in), a Llama run by forward_loss below) or metadata `hf_folder`, a Hugging
Face folder of any family run by test/reference/reference.py's forward (needs its transformers and
safetensors) — the batch (`tokens` [B, T] ids stored as float32, `loss_mask` [B, T], 1 where token t
is predicted), the initial `prompt_embeddings` [P, dim], and a `__metadata__` with the hyperparameters
and step settings. Runs warmup + timed steps of forward + backward (w.r.t. the prompt only) +
global-norm clipping + AdamW, and prints one JSON line with the median step time, the step-0 loss
(to check both sides compute the same thing), a 512^3 MatMul GFLOP/s figure, the BLAS torch was
in use (see blas()), and peak RSS.

Usage: PYTHON torch_step.py FILE.safetensors
"""
import json
import math
import os
import re
import resource
import struct
import sys
import time

import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": torch.float32}
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        buf = bytearray(raw[base + start : base + end])
        tensors[name] = torch.frombuffer(buf, dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors, meta


def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope_tables(seq, head, theta):
    i = torch.arange(0, head, 2, dtype=torch.float32)
    freqs = theta ** (-i / head)
    angles = torch.outer(torch.arange(seq, dtype=torch.float32), freqs)
    return angles.cos(), angles.sin()


def rope(x, cos, sin):
    # adjacent pairs (x[2i], x[2i+1]), llama2.c / Meta layout; x: [B, H, S, hd]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


def forward_loss(w, cfg, prompt, tokens, mask):
    B, T = tokens.shape
    P, dim = prompt.shape
    H, KV = cfg["nHeads"], cfg["nKvHeads"]
    hd = dim // H
    S = P + T
    x = torch.cat((prompt.unsqueeze(0).expand(B, P, dim), w["tok_embeddings"][tokens]), dim=1)
    cos, sin = rope_tables(S, hd, cfg["ropeTheta"])
    causal = torch.full((S, S), float("-inf")).triu(1)
    for l in range(cfg["nLayers"]):
        p = f"layers.{l}."
        h = rmsnorm(x, w[p + "attention_norm"], cfg["normEps"])
        q = (h @ w[p + "wq"].T).view(B, S, H, hd).transpose(1, 2)
        k = (h @ w[p + "wk"].T).view(B, S, KV, hd).transpose(1, 2)
        v = (h @ w[p + "wv"].T).view(B, S, KV, hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + causal, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, S, dim)
        x = x + o @ w[p + "wo"].T
        h = rmsnorm(x, w[p + "ffn_norm"], cfg["normEps"])
        x = x + (torch.nn.functional.silu(h @ w[p + "w1"].T) * (h @ w[p + "w3"].T)) @ w[p + "w2"].T
    x = rmsnorm(x, w["norm"], cfg["normEps"])
    return masked_nll(x[:, P : S - 1, :] @ w["output"].T, tokens, mask)


def masked_nll(logits, tokens, mask):
    """logits [B, T-1, vocab] at positions P..P+T-2: position P + t - 1 predicts token t (t >= 1), as in the ONNX training graph"""
    nll = -torch.log_softmax(logits, dim=-1).gather(-1, tokens[:, 1:].unsqueeze(-1)).squeeze(-1)
    m = mask[:, 1:]
    return (nll * m).sum() / m.sum()


def reference_loss(folder, dtype):
    """loss function of (prompt, tokens, mask) for the family model in `folder`, by reference.py in `dtype`"""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../test/reference"))
    import reference  # noqa: E402

    model = reference.load(folder, dtype)

    def loss(prompt, tokens, mask):
        P, T = prompt.shape[0], tokens.shape[1]
        # the reference's head runs on all P + T positions (P + 1 more rows than the T - 1 needed)
        return masked_nll(reference.forward(model, tokens, prompt=prompt)[:, P : P + T - 1].float(), tokens, mask)

    return loss


def peak_rss_mb():
    """This process's own peak RSS (VmHWM): getrusage's maxrss carries the forked parent's over at exec."""
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"^VmHWM:\s+(\d+) kB$", f.read(), re.M)
        if m:
            return int(m.group(1)) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def blas():
    """torch.__config__.show()'s BLAS_INFO ("mkl", "open"); Debian's torch says "generic" and uses whichever
    libblas.so.3 the alternatives system names, so the BLAS library this process has mapped is added"""
    info = (re.search(r"BLAS_INFO=(\w+)", torch.__config__.show()) or [None, "unknown"])[1]
    if info != "generic":
        return info
    with open("/proc/self/maps") as f:
        libs = sorted({os.path.basename(line.split()[-1]) for line in f if re.search(r"blas|mkl", line.split()[-1].rsplit("/", 1)[-1])})
    return f"{info}: {', '.join(libs)}" if libs else info


def matmul_gflops():
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    for _ in range(5):
        a @ b
    n = 40
    t = time.perf_counter()
    for _ in range(n):
        a @ b
    return 2 * 512**3 * n / (time.perf_counter() - t) / 1e9


def main():
    tensors, meta = read_safetensors(sys.argv[1])
    step_cfg = json.loads(meta["step"])
    torch.set_num_threads(step_cfg["threads"])
    torch.manual_seed(0)
    tokens, mask = tensors.pop("tokens").long(), tensors.pop("loss_mask")
    prompt = tensors.pop("prompt_embeddings").clone().requires_grad_(True)
    if "hf_folder" in meta:
        loss_of = reference_loss(meta["hf_folder"], getattr(torch, step_cfg.get("torchDtype", "float32")))
    else:
        cfg, w = json.loads(meta["config"]), tensors  # frozen: no requires_grad
        loss_of = lambda p, t, m: forward_loss(w, cfg, p, t, m)  # noqa: E731
    opt = torch.optim.AdamW([prompt], lr=step_cfg["lr"], weight_decay=step_cfg["weightDecay"])
    times, first_loss, first_grad_norm = [], None, None
    for i in range(step_cfg["warmup"] + step_cfg["repeats"]):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_of(prompt, tokens, mask)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([prompt], step_cfg["gradClip"]).item()
        opt.step()
        dt = (time.perf_counter() - t) * 1000
        if first_loss is None:
            first_loss, first_grad_norm = loss.item(), norm
        if i >= step_cfg["warmup"]:
            times.append(dt)
    times.sort()
    print(json.dumps({
        "torch": torch.__version__,
        "blas": blas(),
        "threads": torch.get_num_threads(),
        "step_ms_median": times[len(times) // 2],
        "first_loss": first_loss,
        "first_grad_norm": first_grad_norm,
        "matmul512_gflops": matmul_gflops(),
        "peak_rss_mb": peak_rss_mb(),
    }))


if __name__ == "__main__":
    main()
