import { describe, expect, it } from 'vitest';
import { promptTuning } from '../graph/decoder-graph.js';
import { generateLlama } from '../model/generate.js';
import { decoderModelFromLlama } from '../model/llama.js';
import { Rng } from '../model/rng.js';
import { tinyConfig } from '../methods/test-model.js';
import { PromptRunner, type RunnerOptions, type TokenBatch } from './prompt-runner.js';

/**
 * The runner's memory arena policy (prompt-runner.ts): the first training shape runs with an
 * arena; a second shape rebuilds that session without one. Whichever session runs a shape, the
 * step must compute the same loss and gradient.
 */
const P = 2;
const model = decoderModelFromLlama(generateLlama(tinyConfig, 3));
const prompt = Float32Array.from({ length: P * model.spec.dim }, (_, i) => Math.sin(i) * 0.3);

function batch(seqLen: number): TokenBatch {
  const rng = Rng.fromSeed(seqLen);
  const tokens = BigInt64Array.from({ length: 2 * seqLen }, () => BigInt(1 + rng.nextInt(model.spec.vocabSize - 1)));
  const lossMask = Float32Array.from({ length: 2 * seqLen }, (_, i) => (i % seqLen >= 2 ? 1 : 0));
  return { batch: 2, seqLen, tokens, lossMask };
}

async function steps(
  lengths: number[],
  options: RunnerOptions = {},
  held: string[][] = [],
): Promise<{ loss: number; grad: Float32Array }[]> {
  const runner = new PromptRunner(model, { virtualTokens: promptTuning(P) }, { threads: 1, ...options });
  try {
    const out = [];
    for (const T of lengths) {
      const { loss, grads } = await runner.train(batch(T), { prompt_embeddings: prompt });
      out.push({ loss, grad: grads.prompt_embeddings });
      held.push(runner.shapes());
    }
    return out;
  } finally {
    await runner.release();
  }
}

describe('PromptRunner memory arena', () => {
  it('a shape computes the same step before and after a second shape rebuilds its session without the arena', async () => {
    const [first, other, again] = await steps([8, 16, 8]);
    expect(again.loss).toBe(first.loss);
    expect(again.grad).toEqual(first.grad);
    // and both shapes equal runs that never use an arena
    const [plain8, plain16] = await steps([8, 16], { memoryArena: false });
    expect(first.loss).toBe(plain8.loss);
    expect(first.grad).toEqual(plain8.grad);
    expect(other.loss).toBe(plain16.loss);
    expect(other.grad).toEqual(plain16.grad);
  });
});

describe('PromptRunner with the weights as session initializers (the CUDA default)', () => {
  it('keeps one session at a time and computes the steps of fed weights', async () => {
    const held: string[][] = [];
    const initializers = await steps([8, 16, 8], { weights: 'initializers' }, held);
    expect(held).toEqual([['train:2x8'], ['train:2x16'], ['train:2x8']]);
    const fedHeld: string[][] = [];
    const fed = await steps([8, 16, 8], { weights: 'fed' }, fedHeld);
    expect(fedHeld.at(-1)).toEqual(['train:2x16', 'train:2x8']);
    initializers.forEach((step, i) => {
      expect(step.loss).toBe(fed[i].loss);
      expect(step.grad).toEqual(fed[i].grad);
    });
  });
});
