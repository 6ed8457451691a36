/**
 * The precision a worker holds frozen weights in (`--weights-dtype`): `auto` keeps what the file
 * stores; a quantized GGUF type is held as q8 (Q8_0, Q6_K) or q4 (every type of 5 bits or less),
 * in blocks of 32 with one float32 scale each. Asking for q8 or q4 on a float model quantizes at load.
 */
import { weightName, type StoredDType, type WeightInfo } from './weights.js';

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

/** The precision a weight bank (../graph/weight-bank.ts) holds its matrices in: one for all of them. */
export type HeldPrecision = 'f32' | 'f16' | 'q8' | 'q4';

/**
 * What `--weights-dtype` asks the bank to hold; undefined ('auto') keeps the model's own bank.
 * bf16 is held as float16 bits: onnxruntime-node has no bfloat16 tensor type, and a bf16 value
 * (8-bit mantissa) is exact in float16 inside its normal range (|x| ≥ 2^-14; ≤ 65504, checked),
 * below that off by at most 2^-25.
 */
export function heldPrecision(requested: WeightsDtype | undefined): HeldPrecision | undefined {
  switch (requested) {
    case undefined:
    case 'auto':
      return undefined;
    case 'f32':
      return 'f32';
    case 'f16':
    case 'bf16':
      return 'f16';
    case 'q8':
    case 'q4':
      return requested;
  }
}

/**
 * What `auto` holds for a model's weights (one precision per bank): 16 bits when every matrix is
 * stored in 16 bits; with quantized matrices q8 when any maps to q8 (Q8_0, Q6_K: never fewer bits
 * than stored), else q4 (every type of 5 bits or less); float32 otherwise.
 */
export function storedPrecision(weights: readonly Pick<WeightInfo, 'name' | 'stored' | 'dims'>[]): HeldPrecision {
  // learned positions are held in float32 whatever they are stored as: they do not decide
  const held = weights.filter(heldAsMatrix).map((w) => heldDtype(w.stored, 'auto', w.dims));
  if (held.length > 0 && held.every((h) => h === 'f16' || h === 'bf16')) return 'f16';
  return held.includes('q8') ? 'q8' : held.includes('q4') ? 'q4' : 'f32';
}

/** The precision a bank holds the matrices of `weights` in when `requested` is asked for. */
export const bankPrecision = (weights: readonly Pick<WeightInfo, 'name' | 'stored' | 'dims'>[], requested: WeightsDtype): HeldPrecision =>
  heldPrecision(requested) ?? storedPrecision(weights);

/**
 * Whether the bank holds the canonical tensor at its matrix precision: the embedding, projections
 * and classifier do; vectors (norms, biases) and learned positions are held in float32 whatever is asked.
 */
export const heldAsMatrix = (w: Pick<WeightInfo, 'name' | 'dims'>): boolean =>
  w.dims.length >= 2 && w.name !== weightName.positionEmbeddings;
