"""
Regenerates services/engine/model/hf/fixtures/transformers5-configs.json: each family's tiny
generated model loaded by transformers and written back with save_pretrained, whose config.json
uses transformers 5's own field layout (rope_parameters, layer_types, …). The loader must read it
as the same spec as the generator's legacy-style config.

  .venv-reference/bin/python test/reference/save-with-transformers.py       (from the repository root)
"""
import json
import os
import subprocess
import tempfile

import torch
from transformers import AutoModelForCausalLM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "services", "engine", "model", "hf", "fixtures", "transformers5-configs.json")

work = tempfile.mkdtemp(prefix="ptune-resave-")
lines = subprocess.run(["npx", "tsx", "test/reference/write-models.ts", work, "3"], cwd=ROOT, check=True,
                       capture_output=True, text=True).stdout.splitlines()
configs = {}
for line in lines:
    info = json.loads(line)
    saved = info["dir"] + "-saved"
    AutoModelForCausalLM.from_pretrained(info["dir"], dtype=torch.float32).save_pretrained(saved)
    configs[info["family"]] = json.load(open(os.path.join(saved, "config.json")))
with open(OUT, "w") as f:
    json.dump(configs, f, indent=1, sort_keys=True)
