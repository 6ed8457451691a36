/**
 * float32 ↔ float16 / bfloat16 conversion, round-to-nearest-even, little-endian byte layouts.
 * Used by the GGUF reader/writer and by safetensors.
 */
import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('ptune tensor I/O assumes a little-endian host');

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** IEEE binary16 bits of `value`, round-to-nearest-even; overflow → ±Inf, NaN stays NaN. */
export function f32ToF16Bits(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = full & ((1 << shift) - 1);
    let m = full >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  let h = sign | (e << 10) | (mant >>> 13);
  // a carry out of the mantissa correctly bumps the exponent (up to Inf)
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return h;
}

function f16BitsToF32Slow(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

let f16Table: Float32Array | undefined;
function table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Slow(h);
  }
  return f16Table;
}

export function f16BitsToF32(bits: number): number {
  return table()[bits & 0xffff];
}

/** bfloat16 bits of `value`, round-to-nearest-even; NaN stays (quiet) NaN. */
export function f32ToBf16Bits(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0];
}

/** Copies `byteLength` bytes at `offset` into a fresh, aligned buffer. */
function copyBytes(bytes: Uint8Array, offset: number, byteLength: number): ArrayBuffer {
  const out = new ArrayBuffer(byteLength);
  new Uint8Array(out).set(bytes.subarray(offset, offset + byteLength));
  return out;
}

export function f32FromF32Bytes(bytes: Uint8Array, offset = 0, count = (bytes.length - offset) / 4): Float32Array {
  return new Float32Array(copyBytes(bytes, offset, count * 4));
}

export function f32FromF16Bytes(bytes: Uint8Array, offset = 0, count = (bytes.length - offset) / 2): Float32Array {
  const halves = new Uint16Array(copyBytes(bytes, offset, count * 2));
  const t = table();
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = t[halves[i]];
  return out;
}

export function f32FromBf16Bytes(bytes: Uint8Array, offset = 0, count = (bytes.length - offset) / 2): Float32Array {
  const halves = new Uint16Array(copyBytes(bytes, offset, count * 2));
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = halves[i] << 16;
  return out;
}

export function f32ToF32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

export function f32ToF16Bytes(values: Float32Array): Uint8Array {
  const halves = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) halves[i] = f32ToF16Bits(values[i]);
  return new Uint8Array(halves.buffer);
}

export function f32ToBf16Bytes(values: Float32Array): Uint8Array {
  const halves = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) halves[i] = f32ToBf16Bits(values[i]);
  return new Uint8Array(halves.buffer);
}

/** What `values` become after a trip through float16 (for round-trip expectations). */
export function roundToF16(values: Float32Array): Float32Array {
  return f32FromF16Bytes(f32ToF16Bytes(values));
}
