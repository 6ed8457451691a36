/**
 * A tokenized dataset as the training loop sees it: a fixed size, a content digest (so a
 * checkpoint cannot be resumed on other data), and right-padded batches at one padded length per
 * set (its longest example), so a whole run uses one onnxruntime session shape per set.
 */
import { createHash } from 'node:crypto';
import type { TokenBatch } from './prompt-runner.js';

/** One example: `[BOS] + input tokens + output tokens`; tokens from `outputStart` on are predicted. */
export interface TokenizedExample {
  tokens: readonly number[];
  outputStart: number;
}

export interface ExampleSet {
  readonly size: number;
  /** longest example, in tokens */
  readonly maxLength: number;
  readonly digest: string;
  /** the examples at `indices`, padded to `rows` rows (extra rows are empty) and `maxLength` */
  batch(indices: readonly number[], rows: number): TokenBatch;
  /** the whole set in order, `rows` examples per batch, the last batch padded */
  batches(rows: number): Iterable<TokenBatch>;
}

export function exampleSet(examples: readonly TokenizedExample[]): ExampleSet {
  examples.forEach((e, i) => {
    if (e.outputStart < 1 || e.outputStart >= e.tokens.length) {
      throw new Error(`example ${i}: output start ${e.outputStart} must lie in 1..${e.tokens.length - 1} (at least one output token)`);
    }
  });
  const maxLength = examples.reduce((m, e) => Math.max(m, e.tokens.length), 0);
  const hash = createHash('sha256');
  for (const e of examples) hash.update(`${e.outputStart}:${e.tokens.join(',')};`);
  const digest = hash.digest('hex');

  const batch = (indices: readonly number[], rows: number): TokenBatch => {
    if (indices.length > rows) throw new Error(`batch of ${indices.length} examples does not fit ${rows} rows`);
    const T = maxLength;
    const tokens = new BigInt64Array(rows * T);
    const lossMask = new Float32Array(rows * T);
    indices.forEach((index, row) => {
      const e = examples[index];
      e.tokens.forEach((id, t) => (tokens[row * T + t] = BigInt(id)));
      lossMask.fill(1, row * T + e.outputStart, row * T + e.tokens.length);
    });
    return { batch: rows, seqLen: T, tokens, lossMask };
  };

  return {
    size: examples.length,
    maxLength,
    digest,
    batch,
    *batches(rows: number) {
      for (let start = 0; start < examples.length; start += rows) {
        const end = Math.min(examples.length, start + rows);
        yield batch(Array.from({ length: end - start }, (_, i) => start + i), rows);
      }
    },
  };
}
