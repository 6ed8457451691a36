import { describe, expect, it } from 'vitest';
import { makeBatch } from './batch.js';
import { promptAndOutput, type EncodedExample } from './encode.js';

const ex = (promptIds: number[], outputIds: number[]): EncodedExample => promptAndOutput(promptIds, outputIds);

describe('makeBatch', () => {
  it('right-pads to a bucket and aligns targets and mask with the logits', () => {
    const b = makeBatch([ex([1, 10, 11], [20, 21]), ex([1, 12], [22])], { padId: 0, bucket: 4, maxSeqLen: 100 });
    expect(b.seqLen).toBe(8);
    expect([...b.ids].map(Number)).toEqual([1, 10, 11, 20, 21, 0, 0, 0, 1, 12, 22, 0, 0, 0, 0, 0]);
    expect([...b.targets].map(Number)).toEqual([10, 11, 20, 21, 0, 0, 0, 0, 12, 22, 0, 0, 0, 0, 0, 0]);
    expect([...b.lossMask]).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect([...b.outputMask]).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(b.lengths).toEqual([5, 3]);
    expect(b.firstOutputPositions).toEqual([2, 1]);
    expect(b.outputTokenCount).toBe(3);
  });

  it('caps the bucketed length at the maximum and rejects longer examples', () => {
    expect(makeBatch([ex([1, 2, 3], [4, 5])], { padId: 0, bucket: 8, maxSeqLen: 6 }).seqLen).toBe(6);
    expect(() => makeBatch([ex([1, 2, 3], [4, 5])], { padId: 0, maxSeqLen: 4 })).toThrow(/5 tokens exceeds the maximum sequence length 4/);
    expect(() => makeBatch([], { padId: 0, maxSeqLen: 4 })).toThrow(/empty batch/);
  });
});
