/**
 * ggml tensor storage types: sizes, dequantization (exactly as ggml decodes each block) and
 * round-to-nearest quantization. Type names are the model contract's StoredDType.
 */
import type { StoredDType } from '../weights.js';
import type { BlockCodec } from './block-codec.js';
import { q2_K, q3_K, q4_K, q5_K, q6_K } from './k-quants.js';
import { q4_0, q4_1, q5_0, q5_1, q8_0 } from './legacy-quants.js';
import { bf16, f16, f32 } from './plain-types.js';

export type { StoredDType };
export type QuantizedDType = Exclude<StoredDType, 'f32' | 'f16' | 'bf16'>;

const codecs: Record<StoredDType, BlockCodec> = {
  f32,
  f16,
  bf16,
  q8_0,
  q4_0,
  q4_1,
  q5_0,
  q5_1,
  q2_k: q2_K,
  q3_k: q3_K,
  q4_k: q4_K,
  q5_k: q5_K,
  q6_k: q6_K,
};

export const storedDTypes = Object.keys(codecs) as StoredDType[];
export const quantizedDTypes = storedDTypes.filter((t) => codecs[t].blockElements > 1) as QuantizedDType[];

const typeByGgmlCode = new Map(storedDTypes.map((t) => [codecs[t].ggmlCode, t]));

/** ggml's names for the type ids ptune does not read, so errors can say what a file holds. */
const otherGgmlTypes = new Map<number, string>([
  [9, 'Q8_1'],
  [15, 'Q8_K'],
  [16, 'IQ2_XXS'],
  [17, 'IQ2_XS'],
  [18, 'IQ3_XXS'],
  [19, 'IQ1_S'],
  [20, 'IQ4_NL'],
  [21, 'IQ3_S'],
  [22, 'IQ2_S'],
  [23, 'IQ4_XS'],
  [24, 'I8'],
  [25, 'I16'],
  [26, 'I32'],
  [27, 'I64'],
  [28, 'F64'],
  [29, 'IQ1_M'],
  [34, 'TQ1_0'],
  [35, 'TQ2_0'],
  [39, 'MXFP4'],
  [40, 'NVFP4'],
  [41, 'Q1_0'],
  [42, 'Q2_0'],
]);

/** The StoredDType of a ggml type id, or undefined when ptune cannot read that type. */
export function storedDTypeOfGgmlCode(code: number): StoredDType | undefined {
  return typeByGgmlCode.get(code);
}

export function ggmlCodeOf(type: StoredDType): number {
  return codecs[type].ggmlCode;
}

/** ggml's name of the type: F32, Q4_K, … */
export function ggmlNameOf(type: StoredDType): string {
  return codecs[type].ggmlName;
}

/** "Q4_K (ggml type 12)", "IQ2_XXS (ggml type 16)" or "unknown ggml type 99". */
export function ggmlTypeLabel(code: number): string {
  const name = typeByGgmlCode.has(code) ? codecs[typeByGgmlCode.get(code) as StoredDType].ggmlName : otherGgmlTypes.get(code);
  return name === undefined ? `unknown ggml type ${code}` : `${name} (ggml type ${code})`;
}

/** What ptune reads, for error messages: "F32, F16, BF16, Q8_0, …". */
export const readableGgmlTypes = storedDTypes.map((t) => codecs[t].ggmlName).join(', ');

/** Elements per block: 1 (f32/f16/bf16), 32 (Q4_0…Q8_0) or 256 (K-quants). */
export function blockElements(type: StoredDType): number {
  return codecs[type].blockElements;
}

export function blockBytes(type: StoredDType): number {
  return codecs[type].blockBytes;
}

/** Bytes that `nElements` take in `type`; throws when they are not a whole number of blocks. */
export function bytesFor(type: StoredDType, nElements: number): number {
  return blockCount(type, nElements) * codecs[type].blockBytes;
}

function blockCount(type: StoredDType, nElements: number): number {
  const { blockElements: per, ggmlName } = codecs[type];
  if (!Number.isSafeInteger(nElements) || nElements < 0 || nElements % per !== 0) {
    throw new RangeError(`${ggmlName} stores blocks of ${per} elements; ${nElements} elements are not a whole number of blocks`);
  }
  return nElements / per;
}

/** Decodes `nElements` values stored as `type` at src[srcAt…] into dst[dstAt…]. */
export function dequantizeInto(
  type: StoredDType,
  src: Uint8Array,
  srcAt: number,
  dst: Float32Array,
  dstAt: number,
  nElements: number,
): void {
  const blocks = blockCount(type, nElements);
  const need = blocks * codecs[type].blockBytes;
  if (srcAt < 0 || srcAt + need > src.length) {
    throw new RangeError(
      `${codecs[type].ggmlName}: ${nElements} elements need ${need} bytes at offset ${srcAt}, but only ${Math.max(0, src.length - srcAt)} are there`,
    );
  }
  if (dstAt < 0 || dstAt + nElements > dst.length) throw new RangeError(`output has room for ${dst.length - dstAt} of ${nElements} values`);
  codecs[type].decode(src, srcAt, dst, dstAt, blocks);
}

/** The float32 values of `nElements` elements stored as `type` at the start of `bytes`. */
export function dequantize(type: StoredDType, bytes: Uint8Array, nElements: number): Float32Array {
  const out = new Float32Array(nElements);
  dequantizeInto(type, bytes, 0, out, 0, nElements);
  return out;
}

export interface RowChunk {
  firstRow: number;
  rows: number;
  /** rows × rowLength values; the same buffer is reused for the next chunk */
  values: Float32Array;
}

/**
 * A row-major matrix stored as `type`, decoded `rowsPerChunk` rows at a time, so a large tensor
 * never needs a float32 copy of itself. Rows must be whole blocks (ggml's own requirement).
 */
export function* dequantizeRowChunks(
  type: StoredDType,
  bytes: Uint8Array,
  rowLength: number,
  rows: number,
  rowsPerChunk: number,
): Generator<RowChunk> {
  const rowBytes = bytesFor(type, rowLength);
  if (!(rowsPerChunk >= 1)) throw new RangeError(`rowsPerChunk must be at least 1 (got ${rowsPerChunk})`);
  const buffer = new Float32Array(Math.min(rows, rowsPerChunk) * rowLength);
  for (let firstRow = 0; firstRow < rows; firstRow += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - firstRow);
    const values = n * rowLength === buffer.length ? buffer : buffer.subarray(0, n * rowLength);
    dequantizeInto(type, bytes, firstRow * rowBytes, values, 0, n * rowLength);
    yield { firstRow, rows: n, values };
  }
}

/** `values` encoded as `type` (round to nearest; quantized types need a whole number of blocks). */
export function quantize(type: StoredDType, values: Float32Array): Uint8Array {
  const blocks = blockCount(type, values.length);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`cannot store ${values[i]} (element ${i}) as ${codecs[type].ggmlName}`);
  }
  const out = new Uint8Array(blocks * codecs[type].blockBytes);
  codecs[type].encode(values, 0, out, 0, blocks);
  return out;
}
