/** The two benchmark cases: the same inputs for our step, PyTorch's step and the profiler. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLlama, presets } from '../../services/engine/model/generate.js';
import { loadGguf } from '../../services/engine/model/gguf.js';
import { llamaWeightsFromDecoder } from '../../services/engine/model/llama.js';
import { Rng } from '../../services/engine/model/rng.js';
import { stories260K } from '../../services/engine/model/stories260k-fixture.js';
import { loadExampleSet } from '../../services/engine/train/example-set.js';
import { promptFromTokenRows, sampleVocabTokenIds } from '../../services/engine/train/prompt-init.js';
import type { StepCase, StepSettings } from './case-file.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const VIRTUAL_TOKENS = 8;
export const THREADS = 2;

function prompt(c: Pick<StepCase, 'weights'>, rng: Rng): Float32Array {
  return promptFromTokenRows(sampleVocabTokenIds(VIRTUAL_TOKENS, c.weights.config.vocabSize, rng), c.weights.tokenEmbedding);
}

const settings = (repeats: number, warmup: number): StepSettings => ({ threads: THREADS, lr: 0.03, weightDecay: 0, gradClip: 1, warmup, repeats });

/** stories260K, batch 16 of the feelings example task (its real lengths, padded per the data layer) */
export async function stories260KCase(): Promise<StepCase> {
  const model = await loadGguf(stories260K.ggufPath);
  const set = await loadExampleSet(path.join(repo, 'examples/feelings/train.jsonl'), model, VIRTUAL_TOKENS);
  const b = set.batch(Array.from({ length: 16 }, (_, i) => i * 7), 16);
  const weights = llamaWeightsFromDecoder(model);
  return { weights, batch: 16, seqLen: b.seqLen, tokens: b.tokens, lossMask: b.lossMask, prompt: prompt({ weights }, Rng.fromSeed(0)), step: settings(30, 5) };
}

/** the generated bench85m preset, batch 4 × 128 tokens (BOS + random ids), the last 16 tokens predicted */
export function bench85mCase(): StepCase {
  const weights = generateLlama(presets.bench85m.config, 0, { tiedClassifier: presets.bench85m.tiedClassifier });
  const rng = Rng.fromSeed(1);
  const B = 4;
  const T = 128;
  const tokens = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T === 0 ? 1 : 3 + rng.nextInt(weights.config.vocabSize - 3)));
  const lossMask = Float32Array.from({ length: B * T }, (_, i) => (i % T >= T - 16 ? 1 : 0));
  return { weights, batch: B, seqLen: T, tokens, lossMask, prompt: prompt({ weights }, rng), step: settings(5, 1) };
}

