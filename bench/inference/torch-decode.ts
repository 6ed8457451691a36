/**
 * PyTorch's side of the decode comparison: the model's weights (llama2.c names, float32) and the
 * batch's input ids in one safetensors file, read by torch_decode.py in its own process with the
 * same thread count (passive OpenMP waiting, OpenBLAS: see bench/engine/README.md).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors, type TensorToWrite } from '../../services/engine/formats/safetensors.js';
import type { LoadedModel } from '../../services/engine/index.js';
import { llamaWeightsFromDecoder, type F32Tensor } from '../../services/engine/model/llama.js';
import { layerNames } from '../engine/case-file.js';
import { INPUT, THREADS } from './engine-load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REFERENCE_PYTHON = process.env.PTUNE_REFERENCE_PYTHON ?? '.venv-reference/bin/python';

export interface TorchDecode {
  decodeTokensPerSecond: number;
  firstRowIds: number[];
  torch: string;
  blas: string;
}

export function torchDecode(model: LoadedModel, file: string, o: { batch: number; tokens: number; rounds: number }): TorchDecode {
  const w = llamaWeightsFromDecoder(model);
  const t = (x: F32Tensor): TensorToWrite => ({ dtype: 'F32', shape: x.dims, data: x.data });
  const ids = model.tokenizer.encode(INPUT);
  const tensors: Record<string, TensorToWrite> = {
    tokens: {
      dtype: 'F32',
      shape: [o.batch, ids.length],
      data: Float32Array.from({ length: o.batch * ids.length }, (_, i) => ids[i % ids.length]),
    },
    tok_embeddings: t(w.tokenEmbedding),
    norm: t(w.outputNorm),
    output: t(w.output),
  };
  w.layers.forEach((layer, l) => {
    for (const [key, name] of Object.entries(layerNames)) tensors[`layers.${l}.${name}`] = t(layer[key as keyof typeof layerNames]);
  });
  const decode = { threads: THREADS, new_tokens: o.tokens, repeats: o.rounds };
  writeFileSync(file, writeSafetensors(tensors, { config: JSON.stringify(w.config), decode: JSON.stringify(decode) }));
  const r = spawnSync(REFERENCE_PYTHON, [path.join(here, 'torch_decode.py'), file], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, OMP_NUM_THREADS: String(THREADS), OPENBLAS_NUM_THREADS: String(THREADS), OMP_WAIT_POLICY: 'PASSIVE' },
  });
  if (r.status !== 0) throw new Error(`${REFERENCE_PYTHON} torch_decode.py failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    decode_tokens_per_s: number;
    first_row_ids: number[];
    torch: string;
    blas: string;
  };
  return { decodeTokensPerSecond: out.decode_tokens_per_s, firstRowIds: out.first_row_ids, torch: out.torch, blas: out.blas };
}
