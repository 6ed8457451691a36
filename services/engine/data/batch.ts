/**
 * Right-padded batches. Sequence length T is the longest example rounded up to a multiple of
 * `bucket` (capped at `maxSeqLen`), which limits the number of distinct graph shapes.
 *
 * Layout, all row-major [B, T]:
 * - `ids[b, t]`: token ids, `padId` after the example ends.
 * - `targets[b, t]`: the token position t must predict, i.e. ids[b, t+1] (padId where unused).
 * - `lossMask[b, t]`: 1 where targets[b, t] is a trained token (an output, or an assistant turn of
 *   a conversation), else 0 — aligned with the logits, so loss = Σ mask·CE(logits[b,t], targets[b,t])
 *   / Σ mask (mean over all trained tokens of the batch).
 * - `outputMask[b, t]`: 1 where ids[b, t] is a trained token — the same mask aligned with the
 *   tokens (outputMask[b, t+1] = lossMask[b, t]), for graphs that shift inside.
 * Virtual tokens are not part of the batch: the graph prepends them before position 0.
 */
import type { EncodedExample } from './encode.js';

export interface Batch {
  batchSize: number;
  seqLen: number;
  ids: BigInt64Array;
  targets: BigInt64Array;
  lossMask: Float32Array;
  outputMask: Float32Array;
  /** real (unpadded) length of each row */
  lengths: number[];
  /** per row, the position whose logits predict the first output token (promptIds.length − 1) */
  firstOutputPositions: number[];
  /** Σ lossMask */
  outputTokenCount: number;
}

export interface BatchOptions {
  padId: number;
  /** T is rounded up to a multiple of this (default 8) */
  bucket?: number;
  /** upper bound for T: context length minus virtual tokens */
  maxSeqLen: number;
}

export function makeBatch(examples: EncodedExample[], options: BatchOptions): Batch {
  if (examples.length === 0) throw new Error('cannot make an empty batch');
  const bucket = options.bucket ?? 8;
  const longest = Math.max(...examples.map((e) => e.ids.length));
  if (longest > options.maxSeqLen) {
    throw new Error(`example of ${longest} tokens exceeds the maximum sequence length ${options.maxSeqLen}`);
  }
  const seqLen = Math.min(Math.ceil(longest / bucket) * bucket, options.maxSeqLen);
  const B = examples.length;
  const pad = BigInt(options.padId);
  const ids = new BigInt64Array(B * seqLen).fill(pad);
  const targets = new BigInt64Array(B * seqLen).fill(pad);
  const lossMask = new Float32Array(B * seqLen);
  const outputMask = new Float32Array(B * seqLen);
  let outputTokenCount = 0;
  examples.forEach((e, b) => {
    const row = b * seqLen;
    e.ids.forEach((id, t) => {
      ids[row + t] = BigInt(id);
      if (t > 0) targets[row + t - 1] = BigInt(id);
      if (t > 0 && e.trained[t] === 1) {
        lossMask[row + t - 1] = 1;
        outputMask[row + t] = 1;
        outputTokenCount++;
      }
    });
  });
  return {
    batchSize: B,
    seqLen,
    ids,
    targets,
    lossMask,
    outputMask,
    lengths: examples.map((e) => e.ids.length),
    firstOutputPositions: examples.map((e) => e.promptIds.length - 1),
    outputTokenCount,
  };
}
