/** The benchmark cases: the same inputs for our step, PyTorch's step and the profiler. */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLlama, presets } from '../../services/engine/model/generate.js';
import { loadGguf } from '../../services/engine/model/gguf.js';
import { llamaWeightsFromDecoder } from '../../services/engine/model/llama.js';
import { Rng } from '../../services/engine/model/rng.js';
import { stories260K } from '../../services/engine/model/stories260k-fixture.js';
import { loadExampleSet } from '../../services/engine/train/example-set.js';
import { promptFromTokenRows, sampleVocabTokenIds } from '../../services/engine/prompt/prompt-init.js';
import { writeHfModel } from '../../services/engine/model/hf/generate-hf.js';
import type { Family, ModelSpec } from '../../services/engine/model/spec.js';
import { specFromHfConfig } from '../../services/engine/model/hf/config.js';
import { hfFamilyPreset } from '../../services/engine/model/hf/presets.js';
import { weightName, type F32Tensor } from '../../services/engine/model/weights.js';
import type { FolderStepCase, StepCase, StepSettings } from './case-file.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const VIRTUAL_TOKENS = 8;
export const THREADS = 2;

function prompt(vocabSize: number, embedding: F32Tensor, rng: Rng): Float32Array {
  return promptFromTokenRows(sampleVocabTokenIds(VIRTUAL_TOKENS, vocabSize, rng), embedding);
}

/** batch B × T of random ids (from 3 up; `bos` first when given), the last 16 tokens predicted */
export function randomBatch(
  vocabSize: number,
  bos: number | undefined,
  rng: Rng,
  B = 4,
  T = 128,
): Pick<StepCase, 'batch' | 'seqLen' | 'tokens' | 'lossMask'> {
  const tokens = BigInt64Array.from({ length: B * T }, (_, i) =>
    BigInt(i % T === 0 && bos !== undefined ? bos : 3 + rng.nextInt(vocabSize - 3)),
  );
  const lossMask = Float32Array.from({ length: B * T }, (_, i) => (i % T >= T - 16 ? 1 : 0));
  return { batch: B, seqLen: T, tokens, lossMask };
}

const settings = (repeats: number, warmup: number): StepSettings => ({
  threads: THREADS,
  lr: 0.03,
  weightDecay: 0,
  gradClip: 1,
  warmup,
  repeats,
});

/** stories260K, batch 16 of the feelings example task (its real lengths, padded per the data layer) */
export async function stories260KCase(): Promise<StepCase> {
  const model = await loadGguf(stories260K.ggufPath);
  const set = await loadExampleSet(path.join(repo, 'examples/feelings/train.jsonl'), model, VIRTUAL_TOKENS);
  const b = set.batch(
    Array.from({ length: 16 }, (_, i) => i * 7),
    16,
  );
  const weights = llamaWeightsFromDecoder(model);
  return {
    weights,
    batch: 16,
    seqLen: b.seqLen,
    tokens: b.tokens,
    lossMask: b.lossMask,
    prompt: prompt(weights.config.vocabSize, weights.tokenEmbedding, Rng.fromSeed(0)),
    step: settings(30, 5),
  };
}

/** the generated bench85m preset, batch 4 × 128 tokens (BOS + random ids), the last 16 tokens predicted */
export function bench85mCase(): StepCase {
  const weights = generateLlama(presets.bench85m.config, 0, { tiedClassifier: presets.bench85m.tiedClassifier });
  const rng = Rng.fromSeed(1);
  const batch = randomBatch(weights.config.vocabSize, 1, rng);
  return { weights, ...batch, prompt: prompt(weights.config.vocabSize, weights.tokenEmbedding, rng), step: settings(5, 1) };
}

/**
 * One family's generated ~100M `bench` preset (services/engine/model/hf/presets.ts, seed 0, float32)
 * written as a Hugging Face folder under `dir`, with the bench85m batch shape: 4 × 128 random ids,
 * the last 16 predicted, 8 virtual tokens initialised from vocabulary rows.
 */
export async function familyCase(family: Family, dir: string, repeats: number): Promise<FolderStepCase> {
  const hfFolder = path.join(dir, family);
  const { spec, weights } = await writeHfModel(hfFolder, { family, preset: 'bench', seed: 0 });
  const rng = Rng.fromSeed(1);
  const batch = randomBatch(spec.vocabSize, undefined, rng);
  const embedding = weights.get(weightName.embedTokens) as F32Tensor;
  return { hfFolder, dim: spec.dim, ...batch, prompt: prompt(spec.vocabSize, embedding, rng), step: settings(repeats, 1) };
}

/**
 * TinyLlama 1.1B's shape (the `tinyllama-1b` preset, llama family, seed 0) as a Hugging Face folder
 * of 8 shards in `dtype` under the system's temporary folder: 4.4 GB in f32, 2.2 GB in bf16. Written
 * once (aside, then renamed) and reused by later runs; delete it to reclaim the space.
 */
export async function tinyLlamaFolder(dtype: 'f32' | 'bf16'): Promise<{ folder: string; spec: ModelSpec }> {
  const folder = path.join(tmpdir(), `ptune-tinyllama-1b-${dtype}`);
  const config = (): ModelSpec => specFromHfConfig(hfFamilyPreset('llama', 'tinyllama-1b').config, 'tinyllama-1b').spec;
  if (existsSync(folder)) return { folder, spec: config() };
  const building = `${folder}.${process.pid}.part`;
  process.stderr.write(`writing the tinyllama-1b preset (${dtype}) to ${folder}…\n`);
  const { spec } = await writeHfModel(building, { family: 'llama', preset: 'tinyllama-1b', seed: 0, dtype, shards: 8 });
  await rename(building, folder);
  return { folder, spec };
}

/**
 * A big-model step on a tinyllama-1b folder: batch × seqLen random ids, the last 16 predicted,
 * 8 virtual tokens of N(0, 0.02) (the folder's embedding is not read here: it is gigabytes).
 */
export function bigCase(folder: string, spec: ModelSpec, batch: number, seqLen: number, step: Partial<StepSettings>): FolderStepCase {
  const rng = Rng.fromSeed(1);
  const tokens = randomBatch(spec.vocabSize, 1, rng, batch, seqLen);
  const prompt = rng.fillNormal(new Float32Array(VIRTUAL_TOKENS * spec.dim), 0.02);
  return { hfFolder: folder, dim: spec.dim, ...tokens, prompt, step: { ...settings(1, 1), ...step } };
}
