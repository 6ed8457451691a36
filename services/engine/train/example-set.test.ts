import { describe, expect, it } from 'vitest';
import { promptAndOutput } from '../data/encode.js';
import { exampleSet } from './example-set.js';

const examples = [promptAndOutput([1, 5, 6], [7, 8], 1), promptAndOutput([1, 9], [4], 2)];

describe('exampleSet', () => {
  it('marks output tokens in the graph layout and pads rows and length', () => {
    const set = exampleSet(examples, { padId: 0, maxSeqLen: 100, bucket: 4 });
    expect(set.maxLength).toBe(5);
    const b = set.batch([1, 0], 3);
    expect([b.batch, b.seqLen]).toEqual([3, 8]);
    expect(Array.from(b.tokens, Number)).toEqual([1, 9, 4, 0, 0, 0, 0, 0, 1, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(b.lossMask)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('walks the whole set in padded batches and digests content', () => {
    const set = exampleSet(examples, { padId: 0, maxSeqLen: 100 });
    expect([...set.batches(1)].map((b) => b.batch)).toEqual([1, 1]);
    expect([...set.batches(4)].length).toBe(1);
    expect(exampleSet([examples[1], examples[0]], { padId: 0, maxSeqLen: 100 }).digest).not.toBe(set.digest);
  });
});
