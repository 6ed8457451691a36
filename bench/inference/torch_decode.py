"""PyTorch eager greedy decoding with a key/value cache: the reference for bench/inference.

Reads a safetensors file written by bench/inference/run.ts: the model's weights under llama2.c names
(row-major (out, in)) with metadata `config` (LlamaConfig JSON), `tokens` [B, T] input ids stored as
float32 (every row the same length), and metadata `decode` ({"threads", "new_tokens", "repeats"}).
Prefills the batch in one forward, then decodes new_tokens - 1 more tokens one step at a time for
the whole batch, each step reading the cached keys/values (preallocated, written in place), greedy.
Prints one JSON line: decode tokens/s (new tokens after the first, over the decode steps' time, best
of `repeats`), the first row's generated ids (the parity check against ours), torch and BLAS.

Usage: PYTHON torch_decode.py FILE.safetensors
"""
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../engine"))
from torch_step import blas, read_safetensors, rmsnorm, rope, rope_tables  # noqa: E402


@torch.no_grad()
def generate(w, cfg, tokens, new_tokens):
    B, T = tokens.shape
    dim, H, KV, L = cfg["dim"], cfg["nHeads"], cfg["nKvHeads"], cfg["nLayers"]
    hd = dim // H
    total = T + new_tokens
    cos, sin = rope_tables(total, hd, cfg["ropeTheta"])
    k_cache = [torch.zeros(B, KV, total, hd) for _ in range(L)]
    v_cache = [torch.zeros(B, KV, total, hd) for _ in range(L)]

    def forward(ids, start):
        S = ids.shape[1]
        x = w["tok_embeddings"][ids]
        c, s = cos[start : start + S], sin[start : start + S]
        mask = torch.full((S, start + S), float("-inf")).triu(start + 1) if S > 1 else None
        for l in range(L):
            p = f"layers.{l}."
            h = rmsnorm(x, w[p + "attention_norm"], cfg["normEps"])
            q = (h @ w[p + "wq"].T).view(B, S, H, hd).transpose(1, 2)
            k = (h @ w[p + "wk"].T).view(B, S, KV, hd).transpose(1, 2)
            v = (h @ w[p + "wv"].T).view(B, S, KV, hd).transpose(1, 2)
            q, k = rope(q, c, s), rope(k, c, s)
            k_cache[l][:, :, start : start + S] = k
            v_cache[l][:, :, start : start + S] = v
            keys = k_cache[l][:, :, : start + S].repeat_interleave(H // KV, dim=1)
            values = v_cache[l][:, :, : start + S].repeat_interleave(H // KV, dim=1)
            att = q @ keys.transpose(-1, -2) / math.sqrt(hd)
            if mask is not None:
                att = att + mask
            o = (torch.softmax(att, dim=-1) @ values).transpose(1, 2).reshape(B, S, dim)
            x = x + o @ w[p + "wo"].T
            h = rmsnorm(x, w[p + "ffn_norm"], cfg["normEps"])
            x = x + (torch.nn.functional.silu(h @ w[p + "w1"].T) * (h @ w[p + "w3"].T)) @ w[p + "w2"].T
        return rmsnorm(x[:, -1], w["norm"], cfg["normEps"]) @ w["output"].T

    out = [forward(tokens, 0).argmax(-1)]
    t = time.perf_counter()
    for i in range(1, new_tokens):
        out.append(forward(out[-1].unsqueeze(1), T + i - 1).argmax(-1))
    decode_s = time.perf_counter() - t
    return torch.stack(out, dim=1), decode_s


def main():
    tensors, meta = read_safetensors(sys.argv[1])
    settings = json.loads(meta["decode"])
    torch.set_num_threads(settings["threads"])
    cfg = json.loads(meta["config"])
    tokens = tensors.pop("tokens").long()
    best, ids = 0.0, None
    for _ in range(settings["repeats"]):
        ids, decode_s = generate(tensors, cfg, tokens, settings["new_tokens"])
        best = max(best, tokens.shape[0] * (settings["new_tokens"] - 1) / decode_s)
    print(json.dumps({"torch": torch.__version__, "blas": blas(), "threads": torch.get_num_threads(), "decode_tokens_per_s": best, "first_row_ids": ids[0].tolist()}))


if __name__ == "__main__":
    main()
