/**
 * Cross-check against real PyTorch (Debian's python3-torch, as bench:engine installs it): our
 * P-tuning encoders (MLP, bidirectional 2-layer LSTM), the prefix projection and the prefix's
 * per-layer key/value split are computed here with random weights, then `torch_check.py` loads the
 * same weights by their PEFT/PyTorch names into torch.nn.Linear / nn.LSTM modules, reproduces
 * PEFT's view → permute([2, 0, 3, 1, 4]) → split(2) of a prefix, and prints the largest differences.
 *   npx tsx bench/methods/torch-check.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors, type TensorToWrite } from '../../services/engine/formats/safetensors.js';
import { GraphBuilder } from '../../services/engine/graph/builder.js';
import { GraphSession } from '../../services/engine/graph/run.js';
import { computeStoredTensor, createMethod, prefixLayers, prefixWidth, type MethodOptions } from '../../services/engine/methods/index.js';
import type { LlamaConfig } from '../../services/engine/model/llama.js';
import { Rng } from '../../services/engine/model/rng.js';

// stories260K's shape: GQA with 8 query heads over 4 KV heads of size 8, five layers
const config: LlamaConfig = {
  dim: 64,
  hiddenDim: 172,
  nLayers: 5,
  nHeads: 8,
  nKvHeads: 4,
  vocabSize: 512,
  contextLength: 512,
  normEps: 1e-5,
  ropeTheta: 10000,
};
const P = 6;
const cases: [string, MethodOptions][] = [
  ['mlp', { method: 'p_tuning', encoder: 'mlp', encoderHiddenSize: 24 }],
  ['lstm', { method: 'p_tuning', encoder: 'lstm', encoderHiddenSize: 12 }],
  ['projection', { method: 'prefix_tuning', prefixProjection: true, encoderHiddenSize: 16 }],
];

const tensors: Record<string, TensorToWrite> = {};
const rng = Rng.fromSeed(11);
for (const [label, options] of cases) {
  const method = createMethod(options, config, P);
  const params = Object.fromEntries(
    method.parameters.map((p) => [p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => rng.nextFloat() - 0.5)]),
  );
  for (const p of method.parameters) tensors[`${label}/${p.name}`] = { dtype: 'F32', shape: [...p.shape], data: params[p.name] };
  tensors[`${label}/expected`] = { dtype: 'F32', shape: [P, method.storedWidth], data: await computeStoredTensor(method, params) };
}

// the prefix split: our graph's per-layer keys and values of a random stored prefix
const prefix = Float32Array.from({ length: P * prefixWidth(config) }, () => rng.nextFloat() - 0.5);
const g = new GraphBuilder('split');
const stored = g.input('stored', 'float32', [P, prefixWidth(config)]);
prefixLayers(g, stored, config).forEach(({ key, value }, l) => {
  g.output(key, `key${l}`);
  g.output(value, `value${l}`);
});
const session = await GraphSession.create(g);
const split = await session.run({ stored: { data: prefix, dims: [P, prefixWidth(config)] } });
await session.release();
tensors['prefix/stored'] = { dtype: 'F32', shape: [P, prefixWidth(config)], data: prefix };
for (const [name, t] of Object.entries(split))
  tensors[`prefix/${name}`] = { dtype: 'F32', shape: [...t.dims], data: t.data as Float32Array };

const dir = mkdtempSync(path.join(tmpdir(), 'ptune-torch-check-'));
try {
  const file = path.join(dir, 'check.safetensors');
  writeFileSync(file, writeSafetensors(tensors, { config: JSON.stringify(config), virtual_tokens: String(P) }));
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_check.py');
  process.stdout.write(execFileSync('/usr/bin/python3', [script, file], { encoding: 'utf8' }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
