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

export const q4_0: BlockCodec = {
  ggmlName: 'Q4_0', ggmlCode: 2, blockElements: QK, blockBytes: 18,
  decode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += 18, o += QK) {
      const d = readHalf(src, s);
      for (let j = 0; j < HALF; j++) {
        const q = src[s + 2 + j];
        dst[o + j] = ((q & 15) - 8) * d;
        dst[o + j + HALF] = ((q >> 4) - 8) * d;
      }
    }
  },
  encode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += QK, o += 18) {
      const d = f32(signedAbsMax(src, s, QK) / -8);
      const id = d !== 0 ? f32(1 / d) : 0;
      writeHalf(dst, o, d);
      const level = (x: number): number => Math.min(15, Math.trunc(f32(f32(x * id) + 8.5)));
      for (let j = 0; j < HALF; j++) dst[o + 2 + j] = level(src[s + j]) | (level(src[s + j + HALF]) << 4);
    }
  },
};

export const q4_1: BlockCodec = {
  ggmlName: 'Q4_1', ggmlCode: 3, blockElements: QK, blockBytes: 20,
  decode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += 20, o += QK) {
      const d = readHalf(src, s);
      const m = readHalf(src, s + 2);
      for (let j = 0; j < HALF; j++) {
        const q = src[s + 4 + j];
        dst[o + j] = f32((q & 15) * d) + m;
        dst[o + j + HALF] = f32((q >> 4) * d) + m;
      }
    }
  },
  encode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += QK, o += 20) {
      const [min, max] = minMax(src, s);
      const d = f32(f32(max - min) / 15);
      const id = d !== 0 ? f32(1 / d) : 0;
      writeHalf(dst, o, d);
      writeHalf(dst, o + 2, min);
      const level = (x: number): number => Math.min(15, Math.trunc(f32(f32(f32(x - min) * id) + 0.5)));
      for (let j = 0; j < HALF; j++) dst[o + 4 + j] = level(src[s + j]) | (level(src[s + j + HALF]) << 4);
    }
  },
};

/** Q5_0 and Q5_1 share the nibble + high-bit plane packing. */
function packFiveBit(levels: (i: number) => number, dst: Uint8Array, qhAt: number, qsAt: number): void {
  let qh = 0;
  for (let j = 0; j < HALF; j++) {
    const lo = levels(j);
    const hi = levels(j + HALF);
    dst[qsAt + j] = (lo & 15) | ((hi & 15) << 4);
    qh |= ((lo >> 4) << j) | ((hi >> 4) << (j + HALF));
  }
  setU32At(dst, qhAt, qh >>> 0);
}

/** Level (0…31) of element j of a Q5 block: low nibble from qs, fifth bit from the u32 plane. */
const fiveBit = (src: Uint8Array, qs: number, qh: number, j: number): number =>
  j < HALF ? (src[qs + j] & 15) | (((qh >>> j) & 1) << 4) : (src[qs + j - HALF] >> 4) | (((qh >>> j) & 1) << 4);

export const q5_0: BlockCodec = {
  ggmlName: 'Q5_0', ggmlCode: 6, blockElements: QK, blockBytes: 22,
  decode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += 22, o += QK) {
      const d = readHalf(src, s);
      const qh = u32At(src, s + 2);
      for (let j = 0; j < QK; j++) dst[o + j] = (fiveBit(src, s + 6, qh, j) - 16) * d;
    }
  },
  encode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += QK, o += 22) {
      const d = f32(signedAbsMax(src, s, QK) / -16);
      const id = d !== 0 ? f32(1 / d) : 0;
      writeHalf(dst, o, d);
      packFiveBit((j) => Math.min(31, Math.trunc(f32(f32(src[s + j] * id) + 16.5))), dst, o + 2, o + 6);
    }
  },
};

export const q5_1: BlockCodec = {
  ggmlName: 'Q5_1', ggmlCode: 7, blockElements: QK, blockBytes: 24,
  decode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += 24, o += QK) {
      const d = readHalf(src, s);
      const m = readHalf(src, s + 2);
      const qh = u32At(src, s + 4);
      for (let j = 0; j < QK; j++) dst[o + j] = f32(fiveBit(src, s + 8, qh, j) * d) + m;
    }
  },
  encode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += QK, o += 24) {
      const [min, max] = minMax(src, s);
      const d = f32(f32(max - min) / 31);
      const id = d !== 0 ? f32(1 / d) : 0;
      writeHalf(dst, o, d);
      writeHalf(dst, o + 2, min);
      packFiveBit((j) => Math.min(31, Math.trunc(f32(f32(f32(src[s + j] - min) * id) + 0.5))), dst, o + 4, o + 8);
    }
  },
};

/** C's roundf: halves go away from zero. */
const roundAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

export const q8_0: BlockCodec = {
  ggmlName: 'Q8_0', ggmlCode: 8, blockElements: QK, blockBytes: 34,
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
