import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, f32FromF16Bytes, f32ToF16Bytes } from './half.js';

describe('float16', () => {
  it('converts exactly representable values both ways', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [0.5, 0x3800],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [v, bits] of cases) {
      expect(f32ToF16Bits(v)).toBe(bits);
      expect(Object.is(f16BitsToF32(bits), v)).toBe(true);
    }
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
  });

  it('rounds to nearest, ties to even', () => {
    const ulp = 2 ** -10; // spacing just above 1
    expect(f32ToF16Bits(1 + ulp / 2)).toBe(0x3c00); // tie → even (1.0)
    expect(f32ToF16Bits(1 + (3 * ulp) / 2)).toBe(0x3c02); // tie → even (1+2ulp)
    expect(f32ToF16Bits(1 + ulp / 2 + 2 ** -20)).toBe(0x3c01);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds up to Inf
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and min subnormal → 0
    expect(f32ToF16Bits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 subnormal units → even
  });

  it('round-trips every finite half through float32', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToF16Bytes(f32FromF16Bytes(new Uint8Array(all.buffer)));
    const bits = new Uint16Array(back.buffer);
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!isNaN) expect(bits[h]).toBe(h);
    }
  });
});

describe('bfloat16', () => {
  it('rounds to nearest even and keeps specials', () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie → even (up)
    expect(f32ToBf16Bits(-Infinity)).toBe(0xff80);
    expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN)))).toBe(true);
    expect(bf16BitsToF32(0x4049)).toBeCloseTo(3.140625, 10);
  });
});
