/** The unquantized storage types as one-element blocks: F32, F16, BF16 (little-endian). */
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../formats/half.js';
import type { BlockCodec } from './block-codec.js';

function twoByteCodec(ggmlName: string, ggmlCode: number, widen: (bits: number) => number, narrow: (v: number) => number): BlockCodec {
  return {
    ggmlName, ggmlCode, blockElements: 1, blockBytes: 2,
    decode(src, s, dst, o, n) {
      for (let i = 0; i < n; i++, s += 2) dst[o + i] = widen(src[s] | (src[s + 1] << 8));
    },
    encode(src, s, dst, o, n) {
      for (let i = 0; i < n; i++, o += 2) {
        const bits = narrow(src[s + i]);
        dst[o] = bits & 0xff;
        dst[o + 1] = bits >>> 8;
      }
    },
  };
}

export const f16 = twoByteCodec('F16', 1, f16BitsToF32, f32ToF16Bits);
export const bf16 = twoByteCodec('BF16', 30, bf16BitsToF32, f32ToBf16Bits);

export const f32: BlockCodec = {
  ggmlName: 'F32', ggmlCode: 0, blockElements: 1, blockBytes: 4,
  decode(src, s, dst, o, n) {
    new Uint8Array(dst.buffer, dst.byteOffset + o * 4, n * 4).set(src.subarray(s, s + n * 4));
  },
  encode(src, s, dst, o, n) {
    dst.set(new Uint8Array(src.buffer, src.byteOffset + s * 4, n * 4), o);
  },
};
