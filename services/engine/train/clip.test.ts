import { describe, expect, it } from 'vitest';
import { clipGlobalNorm, globalNorm } from './clip.js';

describe('gradient clipping', () => {
  it('computes the global norm across parameters', () => {
    expect(globalNorm({ a: new Float32Array([3]), b: new Float32Array([0, 4]) })).toBe(5);
  });

  it('scales to the maximum norm when above it', () => {
    const grads = { a: new Float32Array([3]), b: new Float32Array([0, 4]) };
    expect(clipGlobalNorm(grads, 1)).toBe(5);
    expect(grads.a[0]).toBeCloseTo(0.6, 6);
    expect(grads.b[1]).toBeCloseTo(0.8, 6);
    expect(globalNorm(grads)).toBeCloseTo(1, 5);
  });

  it('leaves gradients below the maximum, or with clipping off, untouched', () => {
    const grads = { a: new Float32Array([0.3, 0.4]) };
    clipGlobalNorm(grads, 1);
    expect(Array.from(grads.a)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
    const big = { a: new Float32Array([30, 40]) };
    expect(clipGlobalNorm(big, 0)).toBe(50);
    expect(Array.from(big.a)).toEqual([30, 40]);
  });
});
