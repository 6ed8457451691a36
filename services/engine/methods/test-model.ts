/** The tiny generated GQA model and helpers the method tests share (test support, not shipped API). */
import { generateLlama } from '../model/generate.js';
import type { LlamaConfig, LlamaWeights } from '../model/llama.js';
import { Rng } from '../model/rng.js';
import type { HostTensor } from '../graph/run.js';
import type { ParameterShape } from './parameters.js';

// GQA: 4 query heads over 2 KV heads (head size 4), two layers
export const tinyConfig: LlamaConfig = {
  dim: 16,
  hiddenDim: 24,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 13,
  contextLength: 64,
  normEps: 1e-5,
  ropeTheta: 10000,
};
export const tinyWeights: LlamaWeights = generateLlama(tinyConfig, 42, { tiedClassifier: false });

export const tokens = (rows: number[][]): HostTensor => ({
  data: BigInt64Array.from(rows.flat().map(BigInt)),
  dims: [rows.length, rows[0].length],
});

/** Seeded U(−scale, scale) values for each parameter, as float64 feeds. */
export function randomFeeds(params: readonly ParameterShape[], seed: number, scale = 0.5): Record<string, HostTensor> {
  const rng = Rng.fromSeed(seed);
  return Object.fromEntries(
    params.map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      return [p.name, { data: Float64Array.from({ length: n }, () => scale * (2 * rng.nextFloat() - 1)), dims: p.shape }];
    }),
  );
}

// two right-padded examples, loss on the output tokens only
export const batchTokens = [
  [1, 5, 7, 3, 9, 4],
  [1, 8, 2, 6, 0, 0],
];
export const batchMask = [
  [0, 0, 0, 1, 1, 1],
  [0, 0, 1, 1, 0, 0],
];
