/**
 * The precision a worker holds frozen weights in (`--weights-dtype`): `auto` keeps what the file
 * stores; a quantized GGUF type is held as q8 (Q8_0, Q6_K) or q4 (every type of 5 bits or less),
 * in blocks of 32 with one float32 scale each. Asking for q8 or q4 on a float model quantizes at load.
 */
import type { StoredDType } from './weights.js';

export const weightsDtypes = ['auto', 'f32', 'f16', 'bf16', 'q8', 'q4'] as const;
export type WeightsDtype = (typeof weightsDtypes)[number];
export type HeldDtype = Exclude<WeightsDtype, 'auto'>;

/** elements per quantization block of q8 / q4 */
export const HELD_BLOCK = 32;

/**
 * What a tensor stored as `stored` is held as when `requested` is asked for. Vectors (norms,
 * biases: `dims` of length 1) are not quantized: they stay float32 unless a 16-bit type is asked for.
 */
export function heldDtype(stored: StoredDType, requested: WeightsDtype, dims: readonly number[]): HeldDtype {
  if (dims.length === 1) {
    const float = requested === 'auto' ? stored : requested;
    return float === 'f16' || float === 'bf16' ? float : 'f32';
  }
  if (requested !== 'auto') return requested;
  switch (stored) {
    case 'f32':
    case 'f16':
    case 'bf16':
      return stored;
    case 'q8_0':
    case 'q6_k':
      return 'q8';
    default:
      return 'q4';
  }
}

/** bytes per element held: q8 is an int8 per element and q4 a nibble, plus one float32 scale per 32-element block */
export function heldBytesPerElement(dtype: HeldDtype): number {
  switch (dtype) {
    case 'f32':
      return 4;
    case 'f16':
    case 'bf16':
      return 2;
    case 'q8':
      return (HELD_BLOCK + 4) / HELD_BLOCK;
    case 'q4':
      return (HELD_BLOCK / 2 + 4) / HELD_BLOCK;
  }
}
