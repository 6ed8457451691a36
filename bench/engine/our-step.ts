/**
 * Our side of the training-step benchmark, run in its own process so that its peak RSS is its
 * own: reads a case file (and the Hugging Face folder it names, for a family case), then times
 * warmup + repeats of forward + backward (onnxruntime) + global-norm clipping + AdamW, exactly as
 * the training loop does. Prints one JSON line.
 * Usage: node --import tsx bench/engine/our-step.ts CASE.safetensors
 */
import { readFile } from 'node:fs/promises';
import { promptTuning } from '../../services/engine/graph/decoder-graph.js';
import { adamwStep, createAdamWState, defaultAdamWConfig } from '../../services/engine/train/adamw.js';
import { clipGlobalNorm } from '../../services/engine/train/clip.js';
import { PromptRunner } from '../../services/engine/train/prompt-runner.js';
import { decodeCase } from './case-file.js';
import { peakRssMb } from './peak-rss.js';
import { decoderModelFromLlama } from '../../services/engine/model/llama.js';
import { loadModel } from '../../services/engine/model/load-model.js';

const c = decodeCase(await readFile(process.argv[2]));
const model = 'hfFolder' in c ? await loadModel(c.hfFolder, c.step.weightsDtype) : decoderModelFromLlama(c.weights);
const P = c.prompt.length / model.spec.dim;
const runner = new PromptRunner(
  model,
  { virtualTokens: promptTuning(P) },
  {
    threads: c.step.threads,
    weightsDtype: c.step.weightsDtype,
    executionProvider: c.step.executionProvider,
    ...(c.step.recompute ? { recompute: true } : {}),
  },
);
const params = { prompt_embeddings: c.prompt };
const state = createAdamWState(params);
const batch = { batch: c.batch, seqLen: c.seqLen, tokens: c.tokens, lossMask: c.lossMask };
const times: number[] = [];
let firstLoss: number | undefined;
let firstGradNorm: number | undefined;
const setupStart = performance.now();
let setupMs = 0;
for (let i = 0; i < c.step.warmup + c.step.repeats; i++) {
  const started = performance.now();
  const out = await runner.train(batch, params);
  const norm = clipGlobalNorm(out.grads, c.step.gradClip);
  adamwStep(params, out.grads, state, c.step.lr, { ...defaultAdamWConfig, weightDecay: c.step.weightDecay });
  const ms = performance.now() - started;
  if (i === 0) setupMs = performance.now() - setupStart;
  firstLoss ??= out.loss;
  firstGradNorm ??= norm;
  if (i >= c.step.warmup) times.push(ms);
}
await runner.release();
times.sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    step_ms_median: times[Math.floor(times.length / 2)],
    first_loss: firstLoss,
    first_grad_norm: firstGradNorm,
    first_step_ms_with_session_build: setupMs,
    peak_rss_mb: peakRssMb(),
  }) + '\n',
);
