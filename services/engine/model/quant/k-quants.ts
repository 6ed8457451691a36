/**
 * ggml's 256-element super-block types ("K-quants"): Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
 * Layouts (little-endian, in field order):
 *   Q2_K  84 B: scales[16] (low nibble scale, high nibble min, per 16 elements), qs[64] (2-bit), f16 d, f16 dmin
 *   Q3_K 110 B: hmask[32] (third bit), qs[64] (low 2 bits), scales[12] (16 × 6-bit, biased by 32), f16 d
 *   Q4_K 144 B: f16 d, f16 dmin, scales[12] (8 scales + 8 mins, 6-bit), qs[128] (nibbles)
 *   Q5_K 176 B: f16 d, f16 dmin, scales[12], qh[32] (fifth bit), qs[128]
 *   Q6_K 210 B: ql[128] (low nibbles), qh[64] (high 2 bits), scales[16] (i8), f16 d
 * Element order inside the 2-bit planes: each 128-element half uses 32 bytes; element e of the half
 * sits in byte e % 32 at bit 2·⌊e / 32⌋. Q4_K/Q5_K: each 64 elements use 32 bytes, low nibble first.
 * Decoding follows ggml's dequantize_row_*_K operation by operation in float32.
 * Encoding is plain round-to-nearest per sub-block (not llama.cpp's weighted search): any valid block
 * decodes the same everywhere; only the choice of levels differs.
 */
import { type BlockCodec, clamp, f32, nearestInt, readHalf, signedAbsMax, writeHalf } from './block-codec.js';
import { packQ3Scales, packScaleMin, q3Scale, scaleMin } from './k-scales.js';

const QK_K = 256;

/** Plane position of element e (0…255) in the 2-bit/1-bit layouts of Q2_K, Q3_K and Q6_K. */
const planeByte = (e: number): number => (e >> 7) * 32 + (e & 31);
const planeShift = (e: number): number => 2 * ((e >> 5) & 3);

export const q2_K: BlockCodec = {
  ggmlName: 'Q2_K',
  ggmlCode: 10,
  blockElements: QK_K,
  blockBytes: 84,
  decode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += 84, o += QK_K) {
      const d = readHalf(src, s + 80);
      const min = readHalf(src, s + 82);
      for (let sub = 0; sub < 16; sub++) {
        const sc = src[s + sub];
        const dl = f32(d * (sc & 15));
        const ml = f32(min * (sc >> 4));
        for (let e = sub * 16; e < sub * 16 + 16; e++) {
          dst[o + e] = f32(dl * ((src[s + 16 + planeByte(e)] >> planeShift(e)) & 3)) - ml;
        }
      }
    }
  },
  encode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += QK_K, o += 84) {
      dst.fill(0, o, o + 84);
      const fit = affineFit(src, s, dst, o + 80, 16, 3, 15);
      for (let sub = 0; sub < 16; sub++) dst[o + sub] = fit.scaleLevels[sub] | (fit.minLevels[sub] << 4);
      for (let e = 0; e < QK_K; e++) dst[o + 16 + planeByte(e)] |= fit.level(e) << planeShift(e);
    }
  },
};

export const q3_K: BlockCodec = {
  ggmlName: 'Q3_K',
  ggmlCode: 11,
  blockElements: QK_K,
  blockBytes: 110,
  decode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += 110, o += QK_K) {
      const d = readHalf(src, s + 108);
      for (let sub = 0; sub < 16; sub++) {
        const dl = f32(d * (q3Scale(src, s + 96, sub) - 32));
        for (let e = sub * 16; e < sub * 16 + 16; e++) {
          const low = (src[s + 32 + planeByte(e)] >> planeShift(e)) & 3;
          const high = (src[s + (e & 31)] >> (e >> 5)) & 1;
          dst[o + e] = dl * (low + 4 * high - 4); // the level is -4…-1 when the high bit is clear
        }
      }
    }
  },
  encode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += QK_K, o += 110) {
      dst.fill(0, o, o + 110);
      const fit = symmetricFit(src, s, dst, o + 108, 4, 32);
      packQ3Scales(
        fit.scaleLevels.map((l) => l + 32),
        dst,
        o + 96,
      );
      for (let e = 0; e < QK_K; e++) {
        const q = fit.level(e);
        dst[o + 32 + planeByte(e)] |= (q & 3) << planeShift(e);
        dst[o + (e & 31)] |= (q >> 2) << (e >> 5);
      }
    }
  },
};

/** Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins; Q5_K adds a fifth-bit plane. */
function scaleMinCodec(ggmlName: string, ggmlCode: number, bits: 4 | 5): BlockCodec {
  const blockBytes = bits === 4 ? 144 : 176;
  const qsAt = bits === 4 ? 16 : 48;
  const qhAt = 16;
  const maxLevel = (1 << bits) - 1;
  return {
    ggmlName,
    ggmlCode,
    blockElements: QK_K,
    blockBytes,
    decode(src, s, dst, o, blocks) {
      for (let b = 0; b < blocks; b++, s += blockBytes, o += QK_K) {
        const d = readHalf(src, s);
        const min = readHalf(src, s + 2);
        for (let sub = 0; sub < 8; sub++) {
          const [sc, m] = scaleMin(src, s + 4, sub);
          const dl = f32(d * sc);
          const ml = f32(min * m);
          const byteAt = s + qsAt + (sub >> 1) * 32;
          const shift = (sub & 1) * 4;
          for (let l = 0; l < 32; l++) {
            let q = (src[byteAt + l] >> shift) & 15;
            if (bits === 5) q += ((src[s + qhAt + l] >> sub) & 1) << 4;
            dst[o + sub * 32 + l] = f32(dl * q) - ml;
          }
        }
      }
    },
    encode(src, s, dst, o, blocks) {
      for (let b = 0; b < blocks; b++, s += QK_K, o += blockBytes) {
        dst.fill(0, o, o + blockBytes);
        const fit = affineFit(src, s, dst, o, 8, maxLevel, 63);
        for (let sub = 0; sub < 8; sub++) packScaleMin(dst, o + 4, sub, fit.scaleLevels[sub], fit.minLevels[sub]);
        for (let e = 0; e < QK_K; e++) {
          const q = fit.level(e);
          const sub = e >> 5;
          dst[o + qsAt + (sub >> 1) * 32 + (e & 31)] |= (q & 15) << ((sub & 1) * 4);
          if (bits === 5) dst[o + qhAt + (e & 31)] |= (q >> 4) << sub;
        }
      }
    },
  };
}

export const q4_K = scaleMinCodec('Q4_K', 12, 4);
export const q5_K = scaleMinCodec('Q5_K', 13, 5);

export const q6_K: BlockCodec = {
  ggmlName: 'Q6_K',
  ggmlCode: 14,
  blockElements: QK_K,
  blockBytes: 210,
  decode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += 210, o += QK_K) {
      const d = readHalf(src, s + 208);
      for (let sub = 0; sub < 16; sub++) {
        const dl = f32(d * ((src[s + 192 + sub] << 24) >> 24));
        for (let e = sub * 16; e < sub * 16 + 16; e++) dst[o + e] = dl * (q6Level(src, s, e) - 32);
      }
    }
  },
  encode(src, s, dst, o, blocks) {
    for (let b = 0; b < blocks; b++, s += QK_K, o += 210) {
      dst.fill(0, o, o + 210);
      const fit = symmetricFit(src, s, dst, o + 208, 32, 128);
      fit.scaleLevels.forEach((l, sub) => (dst[o + 192 + sub] = l & 0xff));
      for (let e = 0; e < QK_K; e++) {
        const q = fit.level(e);
        dst[o + q6LowByte(e)] |= (q & 15) << q6LowShift(e);
        dst[o + 128 + planeByte(e)] |= (q >> 4) << planeShift(e);
      }
    }
  },
};

/**
 * Q6_K low nibbles: in each 128-element half (64 bytes), elements 0…31 and 64…95 share bytes 0…31
 * (low / high nibble), elements 32…63 and 96…127 share bytes 32…63.
 */
const q6LowByte = (e: number): number => (e >> 7) * 64 + (e & 63);
const q6LowShift = (e: number): number => (e & 64) >> 4;

function q6Level(src: Uint8Array, s: number, e: number): number {
  const low = (src[s + q6LowByte(e)] >> q6LowShift(e)) & 15;
  const high = (src[s + 128 + planeByte(e)] >> planeShift(e)) & 3;
  return low | (high << 4);
}

/**
 * Q2_K / Q4_K / Q5_K: per sub-block x ≈ dl·q − ml with q in 0…maxLevel and ml ≥ 0 (a sub-block
 * that is all positive keeps ml = 0, as ggml's quantizers do). The sub-block scales and mins are
 * quantized to 0…scaleLevels against two f16 super-scales, written at `dAt` (d) and `dAt + 2` (dmin).
 * level(e) is element e's level against the scale and min it will be decoded with.
 */
function affineFit(src: Float32Array, s: number, dst: Uint8Array, dAt: number, subBlocks: number, maxLevel: number, scaleLevels: number) {
  const size = QK_K / subBlocks;
  const scales = new Float32Array(subBlocks);
  const mins = new Float32Array(subBlocks);
  for (let sub = 0; sub < subBlocks; sub++) {
    let lo = 0;
    let hi = -Infinity;
    for (let i = s + sub * size; i < s + (sub + 1) * size; i++) {
      if (src[i] < lo) lo = src[i];
      if (src[i] > hi) hi = src[i];
    }
    scales[sub] = Math.max(0, hi - lo) / maxLevel;
    mins[sub] = Math.abs(lo); // lo ≤ 0; abs keeps an all-positive sub-block's min at +0
  }
  const d = writeHalf(dst, dAt, Math.max(...scales) / scaleLevels);
  const dmin = writeHalf(dst, dAt + 2, Math.max(...mins) / scaleLevels);
  const scaleLevelsOf = Array.from(scales, (v) => (d > 0 ? Math.min(scaleLevels, nearestInt(f32(v / d))) : 0));
  const minLevels = Array.from(mins, (v) => (dmin > 0 ? Math.min(scaleLevels, nearestInt(f32(v / dmin))) : 0));
  const steps = scaleLevelsOf.map((l) => f32(d * l));
  const offsets = minLevels.map((l) => f32(dmin * l));
  const level = (e: number): number => {
    const sub = Math.floor(e / size);
    return steps[sub] > 0 ? clamp(nearestInt(f32(f32(src[s + e] + offsets[sub]) / steps[sub])), 0, maxLevel) : 0;
  };
  return { scaleLevels: scaleLevelsOf, minLevels, level };
}

/**
 * Q3_K / Q6_K: 16 sub-blocks of 16 with signed scales. Each sub-block's largest magnitude maps to
 * level −qHalf (the wider side of −qHalf…qHalf−1); the sub-block scales are quantized the same way
 * to −sHalf…sHalf−1 against one f16 super-scale, written at `dAt`. level(e) is element e's level
 * offset to 0…2·qHalf−1, as stored.
 */
function symmetricFit(src: Float32Array, s: number, dst: Uint8Array, dAt: number, qHalf: number, sHalf: number) {
  const scales = new Float32Array(16);
  for (let sub = 0; sub < 16; sub++) scales[sub] = signedAbsMax(src, s + sub * 16, 16) / -qHalf;
  const d = writeHalf(dst, dAt, signedAbsMax(scales, 0, 16) / -sHalf);
  const scaleLevels = Array.from(scales, (v) => (d !== 0 ? clamp(nearestInt(f32(v / d)), -sHalf, sHalf - 1) : 0));
  const steps = scaleLevels.map((l) => f32(d * l));
  const level = (e: number): number => {
    const dl = steps[e >> 4];
    return (dl !== 0 ? clamp(nearestInt(f32(src[s + e] / dl)), -qHalf, qHalf - 1) : 0) + qHalf;
  };
  return { scaleLevels, level };
}
