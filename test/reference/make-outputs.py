"""
Regenerates test/reference/outputs/<family>.json: the reference logits the engine's parity test
compares against (CI never runs Python).

  .venv-reference/bin/python test/reference/make-outputs.py        (from the repository root)

For each family: the TypeScript generator writes the tiny model (seed SEED) as a Hugging Face
folder; reference.py computes float64 logits at every position for the token ids alone (plain),
with a soft prompt, and with a prefix; the same three are computed by transformers itself
(AutoModelForCausalLM, eager attention, float32: `inputs_embeds` for the prompt, `past_key_values`
for the prefix) and the largest difference is recorded as `crossCheck`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache

sys.path.insert(0, os.path.dirname(__file__))
from reference import arch_of, forward  # noqa: E402

SEED = 20261206
TEXT = "Once upon a time the dog"
PROMPT_LENGTH = 2
PREFIX_LENGTH = 2
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "reference", "outputs")


def b64(t: torch.Tensor) -> str:
    return base64.b64encode(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).decode()


def main() -> None:
    work = tempfile.mkdtemp(prefix="ptune-reference-")
    lines = subprocess.run(["npx", "tsx", "test/reference/write-models.ts", work, str(SEED)], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.splitlines()
    os.makedirs(OUT, exist_ok=True)
    for line in lines:
        info = json.loads(line)
        family, folder = info["family"], info["dir"]
        a = arch_of(folder)
        ids = AutoTokenizer.from_pretrained(folder)(TEXT)["input_ids"]
        g = torch.Generator().manual_seed(SEED)
        prompt = torch.randn(PROMPT_LENGTH, a.dim, generator=g, dtype=torch.float32) * 0.5
        prefix = [(torch.randn(a.kv_heads, PREFIX_LENGTH, a.head_dim, generator=g) * 0.5,
                   torch.randn(a.kv_heads, PREFIX_LENGTH, a.head_dim, generator=g) * 0.5) for _ in range(a.layers)]

        ref = {"plain": forward(folder, ids), "prompt": forward(folder, ids, prompt=prompt),
               "prefix": forward(folder, ids, prefix=prefix)}

        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
        with torch.no_grad():
            x = torch.tensor([ids])
            hf = {"plain": model(input_ids=x).logits[0]}
            embeds = torch.cat([prompt, model.get_input_embeddings()(x)[0]], 0)[None]
            hf["prompt"] = model(inputs_embeds=embeds).logits[0]
            cache = DynamicCache(config=model.config)
            for i, (k, v) in enumerate(prefix):
                cache.update(k[None], v[None], i)
            mask = torch.ones(1, PREFIX_LENGTH + len(ids), dtype=torch.long)
            hf["prefix"] = model(input_ids=x, past_key_values=cache, attention_mask=mask).logits[0]
        cross = {k: float((ref[k] - hf[k].to(torch.float64)).abs().max()) for k in ref}

        weights = [f for f in info["files"] if f.endswith(".safetensors")]
        digest = hashlib.sha256()
        for f in sorted(weights):
            digest.update(open(os.path.join(folder, f), "rb").read())
        fixture = {
            "family": family, "preset": "tiny", "seed": SEED, "dtype": "f32",
            "weightsSha256": digest.hexdigest(),
            "text": TEXT, "ids": ids,
            "dim": a.dim, "vocabSize": a.vocab, "nLayers": a.layers, "nKvHeads": a.kv_heads, "headDim": a.head_dim,
            "prompt": {"length": PROMPT_LENGTH, "data": b64(prompt)},
            "prefix": {"length": PREFIX_LENGTH, "layers": [{"keys": b64(k), "values": b64(v)} for k, v in prefix]},
            "logits": {k: b64(v) for k, v in ref.items()},
            "crossCheck": cross,
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__},
        }
        with open(os.path.join(OUT, f"{family}.json"), "w") as f:
            json.dump(fixture, f, indent=1)
            f.write("\n")
        print(f"{family:8s} ids={len(ids)} cross-check max|ref - transformers|: " +
              " ".join(f"{k}={v:.2e}" for k, v in cross.items()))


if __name__ == "__main__":
    main()
