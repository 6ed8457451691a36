/**
 * What every ggml storage type provides: its block geometry and a decoder/encoder over whole
 * blocks. Non-quantized types (f32, f16, bf16) are blocks of one element, so callers treat every
 * stored tensor alike.
 */
import { f16BitsToF32, f32ToF16Bits } from '../../formats/half.js';

export interface BlockCodec {
  /** ggml's name of the type, as llama.cpp prints it (Q4_K, F16, …) */
  ggmlName: string;
  /** ggml type id, as stored in a GGUF tensor info */
  ggmlCode: number;
  /** elements per block (1 for f32/f16/bf16, 32 for Q4_0…Q8_0, 256 for the K-quants) */
  blockElements: number;
  blockBytes: number;
  /** Decodes `blocks` consecutive blocks starting at src[srcAt] into dst[dstAt…]. */
  decode(src: Uint8Array, srcAt: number, dst: Float32Array, dstAt: number, blocks: number): void;
  /** Encodes `blocks` blocks of finite values from src[srcAt…] into dst[dstAt…] (round to nearest). */
  encode(src: Float32Array, srcAt: number, dst: Uint8Array, dstAt: number, blocks: number): void;
}

/** float32 rounding of a double: JS computes in float64, ggml in float32 after every operation. */
export const f32 = Math.fround;

/** The little-endian float16 at `at`, widened (exactly) to a number. */
export function readHalf(b: Uint8Array, at: number): number {
  return f16BitsToF32(b[at] | (b[at + 1] << 8));
}

/** Writes `value` as a little-endian float16 and returns the value the decoder will read back. */
export function writeHalf(b: Uint8Array, at: number, value: number): number {
  const bits = f32ToF16Bits(value);
  if ((bits & 0x7c00) === 0x7c00) throw new RangeError(`block scale ${value} does not fit in a float16`);
  b[at] = bits & 0xff;
  b[at + 1] = bits >>> 8;
  return f16BitsToF32(bits);
}

/** Round half to even, as ggml's nearest_int does for the magnitudes quantization sees. */
export function nearestInt(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

export const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** The value of largest magnitude in src[at … at+n) (the first one on ties), with its sign. */
export function signedAbsMax(src: Float32Array, at: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let i = at; i < at + n; i++) {
    const a = Math.abs(src[i]);
    if (a > amax) {
      amax = a;
      max = src[i];
    }
  }
  return max;
}
