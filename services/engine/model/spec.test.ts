import { describe, expect, it } from 'vitest';
import { llamaSpec } from './llama.js';
import { isSlidingLayer, validateSpec, type ModelSpec } from './spec.js';

const base = llamaSpec({
  dim: 32,
  hiddenDim: 64,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 300,
  contextLength: 64,
  normEps: 1e-5,
  ropeTheta: 10000,
});

describe('validateSpec names every field that cannot work, with the source', () => {
  it.each<[string, Partial<ModelSpec>, RegExp]>([
    ['a zero size', { hiddenDim: 0 }, /hiddenDim must be a positive integer \(got 0\)/],
    ['heads not a multiple of KV heads', { nKvHeads: 3 }, /nHeads 4 must be a multiple of nKvHeads 3/],
    ['a non-positive eps', { norm: { kind: 'rms', eps: 0 } }, /norm\.eps must be positive/],
    [
      'an odd rotary width',
      { positions: { kind: 'rope', theta: 10000, rotaryDim: 7 } },
      /positions\.rotaryDim must be even and within headDim 8 \(got 7\)/,
    ],
    [
      'rope factors of the wrong length',
      { positions: { kind: 'rope', theta: 10000, rotaryDim: 8, scaling: { type: 'factors', factors: [1, 2] } } },
      /positions\.scaling\.factors must be 4 positive numbers/,
    ],
    [
      'a sliding-layer list of the wrong length',
      { attention: { ...base.attention, slidingWindow: 4, slidingLayers: [true] } },
      /attention\.slidingLayers has 1 entries for 2 layers/,
    ],
    ['a negative softcap', { finalLogitSoftcap: -1 }, /finalLogitSoftcap must be positive/],
  ])('%s', (_name, change, error) => {
    expect(() => validateSpec({ ...base, ...change }, 'model.gguf')).toThrow(error);
    expect(() => validateSpec({ ...base, ...change }, 'model.gguf')).toThrow(/^model\.gguf: invalid model spec: /);
  });

  it('accepts a valid spec; sliding layers default to all layers when a window is set', () => {
    expect(() => validateSpec(base, 'x')).not.toThrow();
    expect(isSlidingLayer(base, 0)).toBe(false);
    const windowed = { ...base, attention: { ...base.attention, slidingWindow: 4 } };
    expect([isSlidingLayer(windowed, 0), isSlidingLayer(windowed, 1)]).toEqual([true, true]);
    expect(isSlidingLayer({ ...windowed, attention: { ...windowed.attention, slidingLayers: [true, false] } }, 1)).toBe(false);
  });
});
