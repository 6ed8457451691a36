/**
 * One prompt-tuning training step (forward + backward through onnxruntime) per family on E's
 * ~100M `bench` preset (random weights in memory), batch 4 × 128 tokens, 8 virtual tokens, the
 * last 16 tokens predicted. Prints one JSON line per family: median step ms of `--repeats`
 * steps after one warmup, and the ratio to Llama's. Usage:
 *   node --import tsx bench/engine/families.ts [--repeats 3] [--threads 2] [family …]
 */
import { parseArgs } from 'node:util';
import { promptTuning } from '../../services/engine/graph/decoder-graph.js';
import { specFromHfConfig } from '../../services/engine/model/hf/config.js';
import { randomWeights } from '../../services/engine/model/hf/generate-hf.js';
import { hfFamilyPreset } from '../../services/engine/model/hf/presets.js';
import { Rng } from '../../services/engine/model/rng.js';
import { families, type Family } from '../../services/engine/model/spec.js';
import { PromptRunner } from '../../services/engine/train/prompt-runner.js';

const { values, positionals } = parseArgs({ options: { repeats: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' } }, allowPositionals: true });
const repeats = Number(values.repeats);
const threads = Number(values.threads);
const chosen = (positionals.length > 0 ? positionals : families) as Family[];
const B = 4;
const T = 128;
const P = 8;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let llamaMs: number | undefined;
for (const family of chosen) {
  const { spec } = specFromHfConfig(hfFamilyPreset(family, 'bench').config, `${family} bench`);
  const model = { spec, tensors: randomWeights(spec, 0) };
  const params = [...model.tensors.values()].reduce((n, t) => n + t.data.length, 0);
  const rng = Rng.fromSeed(1);
  const tokens = BigInt64Array.from({ length: B * T }, () => BigInt(3 + rng.nextInt(spec.vocabSize - 3)));
  const lossMask = Float32Array.from({ length: B * T }, (_, i) => (i % T >= T - 16 ? 1 : 0));
  const prompt = Float32Array.from({ length: P * spec.dim }, () => 0.02 * (rng.nextFloat() - 0.5));
  const runner = new PromptRunner(model, { virtualTokens: promptTuning(P) }, { threads });
  const times: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const start = performance.now();
    await runner.train({ batch: B, seqLen: T, tokens, lossMask }, { prompt_embeddings: prompt });
    if (i > 0) times.push(performance.now() - start);
  }
  await runner.release();
  const ms = median(times);
  if (family === 'llama') llamaMs = ms;
  console.log(JSON.stringify({ family, parameters: params, step_ms_median: Math.round(ms), ratio_to_llama: llamaMs ? Number((ms / llamaMs).toFixed(2)) : null }));
}
