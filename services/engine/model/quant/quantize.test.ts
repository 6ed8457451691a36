import { describe, expect, it } from 'vitest';
import { f32FromBf16Bytes, f32ToBf16Bytes, roundToF16 } from '../../formats/half.js';
import { Rng } from '../rng.js';
import { blockElements, dequantize, dequantizeInto, quantize, quantizedDTypes, type QuantizedDType } from './index.js';

/** Largest RMS error relative to the RMS of Gaussian weights that round-to-nearest should reach. */
const rmsBound: Record<QuantizedDType, number> = {
  q8_0: 0.01,
  q6_k: 0.03,
  q5_0: 0.05,
  q5_1: 0.05,
  q5_k: 0.05,
  q4_0: 0.1,
  q4_1: 0.1,
  q4_k: 0.1,
  q3_k: 0.25,
  q2_k: 0.5,
};

function weights(n: number, seed: number): Float32Array {
  const x = Rng.fromSeed(seed).fillNormal(new Float32Array(n), 0.02);
  x[7] = 0.3; // an outlier, as real weight matrices have
  return x;
}

const rms = (x: Float32Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

describe('round-to-nearest quantizers write blocks that decode close to their input', () => {
  for (const type of quantizedDTypes) {
    it(`${type}`, () => {
      const n = 4096;
      const x = weights(n, 11);
      const bytes = quantize(type, x);
      const y = dequantize(type, bytes, n);
      const err = y.map((v, i) => v - x[i]);
      expect(rms(err) / rms(x)).toBeLessThan(rmsBound[type]);
      // the outlier survives (it sets its block's scale)
      expect(Math.abs(y[7] - 0.3)).toBeLessThan(0.3 * rmsBound[type]);

      // special blocks: all zero, all one sign, constant
      const per = blockElements(type);
      const special = new Float32Array(per * 3);
      special.fill(0.5, per, per * 2).fill(-0.25, per * 2);
      for (let i = per; i < per * 2; i++) special[i] += i * 1e-4;
      const back = dequantize(type, quantize(type, special), special.length);
      expect([...back.subarray(0, per)].every((v) => v === 0)).toBe(true);
      for (let i = per; i < special.length; i++) expect(Math.abs(back[i] - special[i])).toBeLessThan(0.5 * rmsBound[type] + 0.002);
    });
  }

  it('is deterministic and rejects scales that overflow float16', () => {
    const x = weights(512, 3);
    for (const type of quantizedDTypes) expect(quantize(type, x)).toEqual(quantize(type, x));
    expect(() => quantize('q8_0', new Float32Array(32).fill(1e9))).toThrow(/does not fit in a float16/);
  });
});

describe('the unquantized types', () => {
  it('f32 is exact, f16 and bf16 round to nearest even, at any offset', () => {
    const x = weights(300, 8);
    expect(dequantize('f32', quantize('f32', x), 300)).toEqual(x);
    expect(dequantize('f16', quantize('f16', x), 300)).toEqual(roundToF16(x));
    expect(dequantize('bf16', quantize('bf16', x), 300)).toEqual(f32FromBf16Bytes(f32ToBf16Bytes(x)));
    const shifted = new Uint8Array(2 + 600);
    shifted.set(quantize('f16', x), 2);
    const out = new Float32Array(302);
    dequantizeInto('f16', shifted, 2, out, 1, 300);
    expect(out.subarray(1, 301)).toEqual(roundToF16(x));
  });
});
