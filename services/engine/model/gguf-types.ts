/** The GGUF container as ptune reads and writes it (versions 2 and 3, little-endian). */
import type { StoredDType } from './weights.js';

/** Metadata value type codes of the GGUF spec. */
export const GgufValueCode = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;
export type GgufValueKind = keyof typeof GgufValueCode;

export type GgufValue =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: GgufValueKind; items: GgufValue[] };

/** Tensor element types ptune can read or write (ggml type codes). */
export const GgmlType = { F32: 0, F16: 1, BF16: 30 } as const;
export type GgmlTypeName = keyof typeof GgmlType;

export interface GgufTensorInfo {
  name: string;
  /** GGUF order: dims[0] is the fastest-varying axis (so [in, out] is a row-major (out, in) matrix). */
  dims: number[];
  /** ggml type code as stored in the file */
  typeCode: number;
  /** what that code means (the parser refuses types ptune does not read) */
  stored: StoredDType;
  /** byte offset relative to the start of the tensor data section */
  offset: number;
  /** bytes of data the type and shape take (unpadded) */
  byteLength: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** absolute byte offset of the tensor data section */
  dataOffset: number;
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_DEFAULT_ALIGNMENT = 32;
