/** The unquantized storage types as one-element blocks: F32, F16, BF16 (little-endian), via ../../formats/half.ts. */
import { f32FromBf16Bytes, f32FromF16Bytes, f32FromF32Bytes, f32ToBf16Bytes, f32ToF16Bytes, f32ToF32Bytes } from '../../formats/half.js';
import type { BlockCodec } from './block-codec.js';

function plainCodec(
  ggmlName: string,
  ggmlCode: number,
  blockBytes: number,
  widen: (bytes: Uint8Array, offset: number, count: number) => Float32Array,
  narrow: (values: Float32Array) => Uint8Array,
): BlockCodec {
  return {
    ggmlName,
    ggmlCode,
    blockElements: 1,
    blockBytes,
    decode: (src, s, dst, o, n) => dst.set(widen(src, s, n), o),
    encode: (src, s, dst, o, n) => dst.set(narrow(src.subarray(s, s + n)), o),
  };
}

export const f32 = plainCodec('F32', 0, 4, f32FromF32Bytes, f32ToF32Bytes);
export const f16 = plainCodec('F16', 1, 2, f32FromF16Bytes, f32ToF16Bytes);
export const bf16 = plainCodec('BF16', 30, 2, f32FromBf16Bytes, f32ToBf16Bytes);
