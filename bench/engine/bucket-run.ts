/**
 * One tuning run's memory over several length buckets, in its own process (its peak RSS is its
 * own): the bench85m preset, batch 4, one training step per bucket length given, twice over (so
 * every bucket's session exists and is used again). Prints one JSON line.
 * Usage: node --import tsx bench/engine/bucket-run.ts 16,32,48,64,80,96,112,128
 */
import { promptTuning } from '../../services/engine/graph/decoder-graph.js';
import { generateLlama, presets } from '../../services/engine/model/generate.js';
import { decoderModelFromLlama } from '../../services/engine/model/llama.js';
import { Rng } from '../../services/engine/model/rng.js';
import { PromptRunner } from '../../services/engine/train/prompt-runner.js';
import { randomBatch, THREADS, VIRTUAL_TOKENS } from './cases.js';
import { peakRssMb } from './peak-rss.js';

const lengths = (process.argv[2] ?? '').split(',').map(Number);
if (lengths.length === 0 || lengths.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`bucket lengths: ${process.argv[2]}`);
const model = decoderModelFromLlama(generateLlama(presets.bench85m.config, 0, { tiedClassifier: presets.bench85m.tiedClassifier }));
const runner = new PromptRunner(model, { virtualTokens: promptTuning(VIRTUAL_TOKENS) }, { threads: THREADS });
const rng = Rng.fromSeed(1);
const params = { prompt_embeddings: rng.fillNormal(new Float32Array(VIRTUAL_TOKENS * model.spec.dim), 0.02) };
const started = performance.now();
for (let pass = 0; pass < 2; pass++) {
  for (const T of lengths) await runner.train(randomBatch(model.spec.vocabSize, 1, rng, 4, T), params);
}
const ms = performance.now() - started;
await runner.release();
process.stdout.write(JSON.stringify({ lengths, steps: 2 * lengths.length, ms, peak_rss_mb: peakRssMb() }) + '\n');
