"""Loads the weights torch-check.ts wrote into PyTorch modules with PEFT's structure and compares outputs."""
import json
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, t in header.items():
        start, end = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype=np.float32).reshape(t["shape"]).copy())
    return out, meta


tensors, meta = read_safetensors(sys.argv[1])
c = json.loads(meta["config"])
P = int(meta["virtual_tokens"])
dim, L, n_kv = c["dim"], c["nLayers"], c["nKvHeads"]
hs = dim // c["nHeads"]
kv = n_kv * hs


def weights(label, prefix):
    return {k[len(label) + 1 + len(prefix):]: v for k, v in tensors.items() if k.startswith(f"{label}/{prefix}")}


def report(name, got, expected):
    print(f"{name:<34} max |ours - torch| = {(got - expected).abs().max().item():.2e}")


with torch.no_grad():
    # P-tuning MLP: mlp_head = Linear(dim, h) ReLU Linear(h, h) ReLU Linear(h, dim)
    w = weights("mlp", "prompt_encoder.")
    h = w["mlp_head.0.weight"].shape[0]
    mlp = torch.nn.Sequential(torch.nn.Linear(dim, h), torch.nn.ReLU(), torch.nn.Linear(h, h), torch.nn.ReLU(), torch.nn.Linear(h, dim))
    mlp.load_state_dict({k[len("mlp_head."):]: v for k, v in w.items() if k.startswith("mlp_head.")})
    report("P-tuning MLP encoder", tensors["mlp/expected"], mlp(w["embedding.weight"]))

    # P-tuning LSTM: lstm_head = LSTM(dim, h, 2 layers, bidirectional, batch_first), mlp_head = Linear(2h, 2h) ReLU Linear(2h, dim)
    w = weights("lstm", "prompt_encoder.")
    h = w["lstm_head.weight_hh_l0"].shape[1]
    lstm = torch.nn.LSTM(input_size=dim, hidden_size=h, num_layers=2, bidirectional=True, batch_first=True)
    lstm.load_state_dict({k[len("lstm_head."):]: v for k, v in w.items() if k.startswith("lstm_head.")})
    head = torch.nn.Sequential(torch.nn.Linear(2 * h, 2 * h), torch.nn.ReLU(), torch.nn.Linear(2 * h, dim))
    head.load_state_dict({k[len("mlp_head."):]: v for k, v in w.items() if k.startswith("mlp_head.")})
    report("P-tuning LSTM encoder", tensors["lstm/expected"], head(lstm(w["embedding.weight"].unsqueeze(0))[0])[0])

    # prefix projection: transform = Linear(kv, h) Tanh Linear(h, L*2*kv)
    w = weights("projection", "prefix_encoder.")
    h = w["transform.0.weight"].shape[0]
    transform = torch.nn.Sequential(torch.nn.Linear(kv, h), torch.nn.Tanh(), torch.nn.Linear(h, L * 2 * kv))
    transform.load_state_dict({k[len("transform."):]: v for k, v in w.items() if k.startswith("transform.")})
    report("prefix projection", tensors["projection/expected"], transform(w["embedding.weight"]))

    # PEFT get_prompt: view(batch, P, L*2, heads, head_dim).permute([2, 0, 3, 1, 4]).split(2); layer l = (key, value)
    pkv = tensors["prefix/stored"].unsqueeze(0).view(1, P, L * 2, n_kv, hs).permute([2, 0, 3, 1, 4]).split(2)
    worst = 0.0
    for l, pair in enumerate(pkv):
        key, value = pair[0][0], pair[1][0]
        worst = max(worst, (tensors[f"prefix/key{l}"] - key).abs().max().item(), (tensors[f"prefix/value{l}"] - value).abs().max().item())
    print(f"{'prefix per-layer key/value split':<34} max |ours - torch| = {worst:.2e}")
