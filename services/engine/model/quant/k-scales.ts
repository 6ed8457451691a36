/**
 * The packed 6-bit scale fields of the K-quants (12 bytes each).
 *
 * Q4_K / Q5_K: 8 scales and 8 mins. Sub-blocks 0…3 keep scale and min in the low 6 bits of bytes
 * 0…3 and 4…7; sub-blocks 4…7 keep their low 4 bits in the nibbles of bytes 8…11 (scale low, min
 * high) and their top 2 bits in the spare top bits of bytes 0…3 (scale) and 4…7 (min).
 *
 * Q3_K: 16 scales, stored +32. Scale j's low 4 bits are the nibble of byte j % 8 (low nibble for
 * j < 8, high for j ≥ 8); its top 2 bits are bits 2·⌊j / 4⌋ of byte 8 + j % 4.
 */

/** Scale and min (each 0…63) of sub-block j (0…7) of a Q4_K/Q5_K block whose scales start at `at`. */
export function scaleMin(b: Uint8Array, at: number, j: number): [scale: number, min: number] {
  if (j < 4) return [b[at + j] & 63, b[at + j + 4] & 63];
  return [(b[at + j + 4] & 15) | ((b[at + j - 4] >> 6) << 4), (b[at + j + 4] >> 4) | ((b[at + j] >> 6) << 4)];
}

/** Inverse of scaleMin for one sub-block; the 12 bytes must start zeroed. */
export function packScaleMin(b: Uint8Array, at: number, j: number, scale: number, min: number): void {
  if (j < 4) {
    b[at + j] |= scale;
    b[at + j + 4] |= min;
  } else {
    b[at + j + 4] = (scale & 15) | ((min & 15) << 4);
    b[at + j - 4] |= (scale >> 4) << 6;
    b[at + j] |= (min >> 4) << 6;
  }
}

/** Stored (biased) scale j (0…15) of a Q3_K block whose scales start at `at`: 0…63. */
export function q3Scale(b: Uint8Array, at: number, j: number): number {
  const low = (b[at + (j & 7)] >> (j >= 8 ? 4 : 0)) & 15;
  const high = (b[at + 8 + (j & 3)] >> (2 * (j >> 2))) & 3;
  return low | (high << 4);
}

/** Inverse of q3Scale for all 16 stored scales (each 0…63); the 12 bytes must start zeroed. */
export function packQ3Scales(stored: readonly number[], b: Uint8Array, at: number): void {
  stored.forEach((v, j) => {
    b[at + (j & 7)] |= (v & 15) << (j >= 8 ? 4 : 0);
    b[at + 8 + (j & 3)] |= (v >> 4) << (2 * (j >> 2));
  });
}
