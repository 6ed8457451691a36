/**
 * ggml's 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
 * Layouts (little-endian): Q4_0 = f16 d, 16 B nibbles (18 B); Q4_1 = f16 d, f16 m, 16 B (20 B);
 * Q5_0 = f16 d, u32 high bits, 16 B (22 B); Q5_1 = f16 d, f16 m, u32 high bits, 16 B (24 B);
 * Q8_0 = f16 d, 32 × i8 (34 B). Byte j's low nibble is element j, its high nibble element j + 16;
 * bit j of the u32 is the fifth bit of element j.
 * Decoding follows ggml's dequantize_row_* operation by operation in float32 (x·d, then + m).
 * Encoding follows ggml's reference quantizers (quantize_row_*_ref), float32 step by step.
 */
import { type BlockCodec, f32, readHalf, signedAbsMax, writeHalf } from './block-codec.js';

const QK = 32;
const HALF = QK / 2;

function minMax(src: Float32Array, at: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = at; i < at + QK; i++) {
    if (src[i] < min) min = src[i];
    if (src[i] > max) max = src[i];
  }
  return [min, max];
}

const u32At = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

function setU32At(b: Uint8Array, at: number, v: number): void {
  for (let k = 0; k < 4; k++) b[at + k] = (v >>> (8 * k)) & 0xff;
}

/**
 * "_0" types: the value of largest magnitude maps to level 0 (so to −2^(bits−1) after the offset),
 * d = max / −2^(bits−1). Writes d at `o`; returns the level (0…2^bits − 1) of element j.
 */
function symmetricLevels(src: Float32Array, s: number, dst: Uint8Array, o: number, bits: number): (j: number) => number {
  const half = 1 << (bits - 1);
  const d = f32(signedAbsMax(src, s, QK) / -half);
  const id = d !== 0 ? f32(1 / d) : 0;
  writeHalf(dst, o, d);
  const top = (1 << bits) - 1;
  return (j) => Math.min(top, Math.trunc(f32(f32(src[s + j] * id) + (half + 0.5))));
}

/** "_1" types: x ≈ d·level + min over the block's range. Writes d and min at `o`; returns element j's level. */
function affineLevels(src: Float32Array, s: number, dst: Uint8Array, o: number, bits: number): (j: number) => number {
  const top = (1 << bits) - 1;
  const [min, max] = minMax(src, s);
  const d = f32(f32(max - min) / top);
  const id = d !== 0 ? f32(1 / d) : 0;
  writeHalf(dst, o, d);
  writeHalf(dst, o + 2, min);
  return (j) => Math.min(top, Math.trunc(f32(f32(f32(src[s + j] - min) * id) + 0.5)));
}

/** Q4_0, Q4_1, Q5_0, Q5_1: f16 d, [f16 m], [u32 fifth bits], 16 bytes of nibbles. */
function nibbleCodec(ggmlName: string, ggmlCode: number, bits: 4 | 5, affine: boolean): BlockCodec {
  const qhAt = affine ? 4 : 2;
  const qsAt = bits === 5 ? qhAt + 4 : qhAt;
  const blockBytes = qsAt + HALF;
  const zero = affine ? 0 : 1 << (bits - 1);
  return {
    ggmlName,
    ggmlCode,
    blockElements: QK,
    blockBytes,
    decode(src, s, dst, o, blocks) {
      for (let b = 0; b < blocks; b++, s += blockBytes, o += QK) {
        const d = readHalf(src, s);
        const m = affine ? readHalf(src, s + 2) : 0;
        const qh = bits === 5 ? u32At(src, s + qhAt) : 0;
        for (let j = 0; j < HALF; j++) {
          const q = src[s + qsAt + j];
          const lo = (q & 15) | (((qh >>> j) & 1) << 4);
          const hi = (q >> 4) | (((qh >>> (j + HALF)) & 1) << 4);
          if (affine) {
            dst[o + j] = f32(lo * d) + m;
            dst[o + j + HALF] = f32(hi * d) + m;
          } else {
            dst[o + j] = (lo - zero) * d;
            dst[o + j + HALF] = (hi - zero) * d;
          }
        }
      }
    },
    encode(src, s, dst, o, blocks) {
      for (let b = 0; b < blocks; b++, s += QK, o += blockBytes) {
        const level = affine ? affineLevels(src, s, dst, o, bits) : symmetricLevels(src, s, dst, o, bits);
        let qh = 0;
        for (let j = 0; j < HALF; j++) {
          const lo = level(j);
          const hi = level(j + HALF);
          dst[o + qsAt + j] = (lo & 15) | ((hi & 15) << 4);
          qh |= ((lo >> 4) << j) | ((hi >> 4) << (j + HALF));
        }
        if (bits === 5) setU32At(dst, o + qhAt, qh >>> 0);
      }
    },
  };
}

export const q4_0 = nibbleCodec('Q4_0', 2, 4, false);
export const q4_1 = nibbleCodec('Q4_1', 3, 4, true);
export const q5_0 = nibbleCodec('Q5_0', 6, 5, false);
export const q5_1 = nibbleCodec('Q5_1', 7, 5, true);

/** C's roundf: halves go away from zero. */
const roundAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

export const q8_0: BlockCodec = {
  ggmlName: 'Q8_0',
  ggmlCode: 8,
  blockElements: QK,
  blockBytes: 34,
  decode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += 34, o += QK) {
      const d = readHalf(src, s);
      for (let j = 0; j < QK; j++) dst[o + j] = ((src[s + 2 + j] << 24) >> 24) * d;
    }
  },
  encode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += QK, o += 34) {
      const d = f32(Math.abs(signedAbsMax(src, s, QK)) / 127);
      const id = d !== 0 ? f32(1 / d) : 0;
      writeHalf(dst, o, d);
      for (let j = 0; j < QK; j++) dst[o + 2 + j] = roundAway(f32(src[s + j] * id)) & 0xff;
    }
  },
};
