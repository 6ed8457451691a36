import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGeneratedModel } from '../model/generate.js';
import { loadGguf } from '../model/gguf.js';
import type { LoadedModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import { CHECKPOINT_FILE, readCheckpointFile } from './checkpoint-file.js';
import { TrainingAbortedError, TrainingDivergedError } from './errors.js';
import { promptAndOutput, type EncodedExample } from '../data/encode.js';
import { exampleSet, type ExampleSet } from './example-set.js';
import { encodePromptFile } from '../prompt/prompt-file.js';
import { train, type TrainOptions } from './train.js';

let dir: string;
let model: LoadedModel;

/** BOS + 3..6 random tokens + the fixed answer tokens [17, 23]: learnable by a prompt alone. */
function syntheticExamples(count: number, seed: number): EncodedExample[] {
  const rng = Rng.fromSeed(seed);
  return Array.from({ length: count }, (_, line) => {
    const promptIds = [1, ...Array.from({ length: 3 + rng.nextInt(4) }, () => 40 + rng.nextInt(200))];
    return promptAndOutput(promptIds, [17, 23], line);
  });
}

const set = (count: number, seed: number): ExampleSet => exampleSet(syntheticExamples(count, seed), { padId: 0, maxSeqLen: 200 });

const options = (overrides: Partial<TrainOptions> = {}): TrainOptions => ({
  model,
  train: set(24, 1),
  virtualTokens: 4,
  init: { kind: 'sample-vocab' },
  steps: 12,
  lr: 0.05,
  batchSize: 4,
  seed: 0,
  threads: 1,
  ...overrides,
});

const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ptune-train-'));
  const file = path.join(dir, 'tiny.gguf');
  await writeGeneratedModel('tiny', 0, file);
  model = await loadGguf(file);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('train', () => {
  it('reduces the training loss and the held-out loss, reporting progress every step', async () => {
    const progress: number[] = [];
    const result = await train(options({ steps: 30, eval: set(8, 2), lr: 0.1 }), { onProgress: (p) => progress.push(p.step) });
    expect(progress).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(result.losses.slice(-5))).toBeLessThan(0.7 * mean(result.losses.slice(0, 5)));
    expect(result.evalAfter!.loss).toBeLessThan(result.evalBefore!.loss);
    expect(result.promptEmbeddings.length).toBe(4 * model.spec.dim);
  });

  it('resumes from a checkpoint to a bit-identical prompt', async () => {
    const straight = await train(options({ schedule: 'linear', warmupSteps: 2, weightDecay: 0.01 }));

    const ckptDir = path.join(dir, 'resume');
    const controller = new AbortController();
    const first = train(options({ schedule: 'linear', warmupSteps: 2, weightDecay: 0.01, checkpointDir: ckptDir }), {
      signal: controller.signal,
      onProgress: (p) => p.step === 5 && controller.abort(),
    });
    await expect(first).rejects.toThrow(TrainingAbortedError);
    const checkpoint = await readCheckpointFile(ckptDir);
    expect(checkpoint?.step).toBe(5);

    const resumed = await train(options({ schedule: 'linear', warmupSteps: 2, weightDecay: 0.01, resume: checkpoint }));
    expect(resumed.resumedFromStep).toBe(5);
    expect(resumed.stepMs.length).toBe(7);
    expect(resumed.losses).toEqual(straight.losses);
    expect(bytesOf(resumed.promptEmbeddings)).toEqual(bytesOf(straight.promptEmbeddings));
  });

  it('refuses a checkpoint from a different run', async () => {
    const ckptDir = path.join(dir, 'other');
    await train(options({ steps: 2, checkpointDir: ckptDir }));
    const checkpoint = await readCheckpointFile(ckptDir);
    await expect(train(options({ steps: 4, lr: 0.01, resume: checkpoint }))).rejects.toThrow(
      /different run.*steps: checkpoint 2, now 4.*lr/,
    );
  });

  it('stops on a NaN with the step named and keeps the last good checkpoint', async () => {
    const ckptDir = path.join(dir, 'diverge');
    // an absurd learning rate makes the prompt overflow float32 within a few updates
    const error = await train(options({ lr: 1e38, gradClip: 0, checkpointEvery: 1, checkpointDir: ckptDir })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    const { step, lastCheckpointStep, message } = error as TrainingDivergedError;
    expect(step).toBeGreaterThan(1);
    expect(lastCheckpointStep).toBe(step - 1);
    expect(message).toMatch(
      new RegExp(`at step ${step}: the (loss|gradient norm) is (NaN|-?Infinity).*last good checkpoint \\(step ${step - 1}\\) is kept`),
    );
    const checkpoint = await readCheckpointFile(ckptDir);
    expect(checkpoint?.step).toBe(step - 1);
    expect(checkpoint!.losses.every(Number.isFinite)).toBe(true);
    expect(await readdir(ckptDir)).toEqual([CHECKPOINT_FILE]);
  });

  it('stops at step 1 on a NaN in the initial prompt', async () => {
    const bad = new Float32Array(4 * model.spec.dim).fill(0.1);
    bad[5] = NaN;
    const file = path.join(dir, 'nan.safetensors');
    await writeFile(file, encodePromptFile(bad, model.spec.dim, {}));
    await expect(train(options({ init: { kind: 'from', path: file } }))).rejects.toThrow(/diverged at step 1.*No checkpoint/);
  });

  it('starts from a prompt file with `from:`', async () => {
    const first = await train(options({ steps: 2 }));
    const file = path.join(dir, 'start.safetensors');
    await writeFile(file, encodePromptFile(first.promptEmbeddings, first.dim, {}));
    const again = await train(options({ steps: 1, init: { kind: 'from', path: file }, lr: 1e-9 }));
    const diff = again.promptEmbeddings.reduce((m, x, i) => Math.max(m, Math.abs(x - first.promptEmbeddings[i])), 0);
    expect(diff).toBeLessThan(1e-6);
    expect((await readFile(file)).length).toBeGreaterThan(0);
  });

  it('rejects bad options before doing anything', async () => {
    await expect(train(options({ virtualTokens: 0 }))).rejects.toThrow(/virtual tokens must be an integer ≥ 1/);
    await expect(train(options({ lr: 0 }))).rejects.toThrow(/learning rate must be a finite number > 0/);
    await expect(train(options({ virtualTokens: 252 }))).rejects.toThrow(
      /longest example has 9 tokens; with 252 virtual tokens that exceeds the model's context of 256/,
    );
  });
});
