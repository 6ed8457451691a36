import { describe, expect, it } from 'vitest';
import { Rng } from '../model/rng.js';
import { float16Bits, float16Values, halfBits, halfValue } from './dtype.js';

describe('float16 conversions', () => {
  // the portable conversions (Node < 24) must round exactly as Node 24's Float16Array does
  it('halfBits / halfValue agree with Float16Array on every binary16 value and on random, tie, subnormal and overflow floats', () => {
    const native = (globalThis as { Float16Array?: unknown }).Float16Array;
    expect(native).toBeDefined();
    const every = Uint16Array.from({ length: 1 << 16 }, (_, i) => i);
    const values = float16Values(every);
    every.forEach((b, i) =>
      expect(Object.is(halfValue(b), values[i]) || (Number.isNaN(values[i]) && Number.isNaN(halfValue(b)))).toBe(true),
    );
    const rng = Rng.fromSeed(2);
    const probes = Float32Array.from([
      ...Array.from({ length: 20000 }, () => (rng.nextFloat() - 0.5) * 2 ** (rng.nextInt(60) - 30)),
      // exact midpoints between neighbours (ties to even), subnormal boundaries, overflow
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      2 ** -25,
      3 * 2 ** -26,
      2 ** -24 * 1.5,
      2 ** -14 * (1 - 2 ** -11),
      65504,
      65520,
      65519.99,
      1e9,
      -0,
      Infinity,
      -Infinity,
    ]);
    const bits = float16Bits(probes);
    probes.forEach((v, i) => expect(halfBits(v), `${v}`).toBe(bits[i]));
    expect(halfBits(NaN) & 0x7c00).toBe(0x7c00);
  });
});
