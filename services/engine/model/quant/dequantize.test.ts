import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blockElements, bytesFor, dequantize, dequantizeRowChunks, quantize, quantizedDTypes, type QuantizedDType } from './index.js';

const testdata = join(import.meta.dirname, 'testdata');
interface ManifestEntry {
  blocks: number;
  values: number;
  blocksSha256: string;
  expectedSha256: string;
  quantizedSha256?: string;
}
const manifest = JSON.parse(readFileSync(join(testdata, 'manifest.json'), 'utf8')) as {
  types: Record<QuantizedDType, ManifestEntry>;
};
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(testdata, name)));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const asF32 = (b: Uint8Array): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** Indices where the float32 bit patterns differ (so -0 ≠ +0 and NaN payloads count). */
function bitMismatches(actual: Float32Array, expected: Float32Array): number[] {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const out: number[] = [];
  for (let i = 0; i < e.length; i++) if (a[i] !== e[i]) out.push(i);
  return out;
}

describe('dequantize against the committed numpy and gguf-py references (testdata/make-expected.py)', () => {
  it('covers every quantized type', () => {
    expect(Object.keys(manifest.types).sort()).toEqual([...quantizedDTypes].sort());
  });

  for (const type of quantizedDTypes) {
    it(`${type}: every value bit for bit`, () => {
      const entry = manifest.types[type];
      const blocks = read(`${type}.blocks.bin`);
      const expected = asF32(read(`${type}.expected.f32`));
      expect(sha256(blocks)).toBe(entry.blocksSha256);
      expect(expected.length).toBe(entry.values);
      expect(blocks.length).toBe(bytesFor(type, entry.values));
      const actual = dequantize(type, blocks, entry.values);
      expect(bitMismatches(actual, expected)).toEqual([]);

      // the streaming decoder gives the same values, row block by row block
      const rowLength = blockElements(type) * 2;
      const rows = entry.values / rowLength;
      const streamed = new Float32Array(entry.values);
      for (const chunk of dequantizeRowChunks(type, blocks, rowLength, rows, 3)) streamed.set(chunk.values, chunk.firstRow * rowLength);
      expect(bitMismatches(streamed, expected)).toEqual([]);
    });
  }
});

describe('quantize matches ggml reference quantizers (via gguf-py) for the 32-element types', () => {
  for (const type of ['q4_0', 'q4_1', 'q5_0', 'q5_1', 'q8_0'] as const) {
    it(`${type}: every block byte for byte`, () => {
      const input = asF32(read(`${type}.quantize-input.f32`));
      const expected = read(`${type}.quantized.bin`);
      expect(sha256(expected)).toBe(manifest.types[type].quantizedSha256);
      expect(Buffer.from(quantize(type, input)).equals(Buffer.from(expected))).toBe(true);
    });
  }
});

const F16 = { one: 0x3c00, half: 0x3800, quarter: 0x3400, two: 0x4000, minusOne: 0xbc00, ten: 0x4900 };

/** A zeroed block of `size` bytes with little-endian u16 `halves` and single `bytes` set by offset. */
function block(size: number, halves: Record<number, number>, bytes: Record<number, number> = {}): Uint8Array {
  const b = new Uint8Array(size);
  for (const [at, v] of Object.entries(halves)) {
    b[Number(at)] = v & 0xff;
    b[Number(at) + 1] = v >>> 8;
  }
  for (const [at, v] of Object.entries(bytes)) b[Number(at)] = v;
  return b;
}

/** type, block, expected values by element index (worked out by hand from the layouts) */
const handBuilt: [QuantizedDType, Uint8Array, Record<number, number>][] = [
  ['q8_0', block(34, { 0: F16.half }, { 2: 0x80, 3: 0xff, 5: 1, 6: 127 }), { 0: -64, 1: -0.5, 2: 0, 3: 0.5, 4: 63.5, 31: 0 }],
  ['q4_0', block(18, { 0: F16.two }, { 2: 0x0f, 3: 0x88 }), { 0: 14, 16: -16, 1: 0, 17: 0, 2: -16 }],
  ['q4_1', block(20, { 0: F16.quarter, 2: F16.minusOne }, { 4: 0x3a }), { 0: 1.5, 16: -0.25, 1: -1 }],
  // qh = 0x00010001: element 0 and element 16 have their fifth bit set
  ['q5_0', block(22, { 0: F16.one }, { 2: 0x01, 4: 0x01, 6: 0x21 }), { 0: 1, 16: 2, 1: -16, 17: -16 }],
  // qh bit 31: element 31 (high nibble of byte 15) has its fifth bit set
  ['q5_1', block(24, { 0: F16.half, 2: F16.ten }, { 7: 0x80, 23: 0xf0 }), { 31: 25.5, 15: 10, 0: 10 }],
  // sub-block 0: scale 3, min 2 → 3q - 1; sub-block 6: scale 2, min 1 → 2q - 0.5 (element 96: byte 0, bits 6-7)
  ['q2_k', block(84, { 80: F16.one, 82: F16.half }, { 0: 0x23, 6: 0x12, 16: 0xe4 }), { 0: -1, 1: -1, 96: 5.5, 32: 0, 255: 0 }],
  // scales stored +32: sub 0 = 33 (low nibble of byte 96, top bits of byte 104), sub 15 = 63, the rest 0 (→ -32)
  [
    'q3_k',
    block(110, { 108: F16.half }, { 96: 0x01, 104: 0x02, 103: 0xf0, 107: 0xc0, 32: 0x03, 0: 0x01, 95: 0x80, 31: 0x80, 64: 0x01 }),
    { 0: 1.5, 1: -2, 255: 31, 128: 48 },
  ],
  // sub 0: scale 10, min 4; sub 5: scale 42 (low 10 in byte 13, top 2 in byte 5), min 19 (low 3 in byte 13, top 1 in byte 9)
  [
    'q4_k',
    block(144, { 0: F16.one, 2: F16.half }, { 4: 10, 8: 4, 13: 0x3a, 5: 0x80, 9: 0x40, 16: 0x07, 80: 0xf0 }),
    { 0: 68, 160: 620.5, 1: -2 },
  ],
  [
    'q5_k',
    block(176, { 0: F16.one, 2: F16.half }, { 4: 10, 8: 4, 13: 0x3a, 5: 0x80, 9: 0x40, 16: 0x21, 48: 0x07, 112: 0xf0 }),
    { 0: 228, 160: 1292.5, 1: -2 },
  ],
  // scale 0 = -2, scale 15 = 127; element 0: low 5, high 2 → 37 - 32; element 255: low 15 (byte 127 high), high 3 (qh byte 191 bits 6-7)
  [
    'q6_k',
    block(210, { 208: F16.quarter }, { 192: 0xfe, 207: 127, 0: 0x05, 128: 0x02, 127: 0xf0, 191: 0xc0 }),
    { 0: -2.5, 255: 984.25, 1: 16 },
  ],
];

describe('dequantize hand-built blocks', () => {
  for (const [type, bytes, values] of handBuilt) {
    it(`${type}`, () => {
      const out = dequantize(type, bytes, blockElements(type));
      for (const [i, v] of Object.entries(values)) expect([Number(i), out[Number(i)]]).toEqual([Number(i), v]);
    });
  }
});

describe('sizes and bad input', () => {
  it('knows the byte size of every type', () => {
    const sizes = Object.fromEntries(quantizedDTypes.map((t) => [t, bytesFor(t, 256)]));
    expect(sizes).toEqual({
      q8_0: 272,
      q4_0: 144,
      q4_1: 160,
      q5_0: 176,
      q5_1: 192,
      q2_k: 84,
      q3_k: 110,
      q4_k: 144,
      q5_k: 176,
      q6_k: 210,
    });
    expect(bytesFor('f16', 3)).toBe(6);
    expect(bytesFor('bf16', 3)).toBe(6);
    expect(bytesFor('f32', 3)).toBe(12);
  });

  it('refuses element counts that are not whole blocks, and short input', () => {
    expect(() => bytesFor('q4_k', 320)).toThrow('Q4_K stores blocks of 256 elements; 320 elements are not a whole number of blocks');
    expect(() => dequantize('q8_0', new Uint8Array(34), 48)).toThrow(/Q8_0 stores blocks of 32 elements; 48/);
    expect(() => dequantize('q6_k', new Uint8Array(209), 256)).toThrow(
      'Q6_K: 256 elements need 210 bytes at offset 0, but only 209 are there',
    );
    expect(() => quantize('q4_0', new Float32Array(31))).toThrow(/Q4_0 stores blocks of 32/);
    const bad = new Float32Array(32);
    bad[5] = NaN;
    expect(() => quantize('q8_0', bad)).toThrow('cannot store NaN (element 5) as Q8_0');
  });
});
