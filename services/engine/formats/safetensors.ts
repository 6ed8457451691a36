/**
 * safetensors reader/writer (https://github.com/huggingface/safetensors format): an 8-byte
 * little-endian header length, a JSON header, then the tensor bytes. Reading is strict: the
 * header must be well-formed and the tensors must tile the data section exactly (contiguous,
 * no gaps, no overlaps, byte sizes matching dtype × shape).
 */
import { f32FromBf16Bytes, f32FromF16Bytes, f32FromF32Bytes, f32ToBf16Bytes, f32ToF16Bytes, f32ToF32Bytes } from './half.js';

const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;
export type FloatDtype = 'F32' | 'F16' | 'BF16';

export interface TensorToWrite {
  dtype: FloatDtype;
  shape: number[];
  /** raw little-endian bytes already in `dtype`, or float32 values converted to `dtype` (round-to-nearest-even) */
  data: Uint8Array | Float32Array;
}

export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** view into the file's bytes */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Record<string, StoredTensor>;
  metadata: Record<string, string>;
}

export interface ReadSafetensorsOptions {
  /** names the file in errors */
  source?: string;
  /** throw if any float tensor holds NaN or ±Inf */
  rejectNonFinite?: boolean;
}

/** the format's own limit on the JSON header */
const MAX_HEADER_BYTES = 100_000_000;

const elementCount = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function encodeData(name: string, t: TensorToWrite): Uint8Array {
  if (!(t.dtype in DTYPE_BYTES) || !['F32', 'F16', 'BF16'].includes(t.dtype))
    throw new Error(`tensor "${name}": dtype ${t.dtype} cannot be written`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`tensor "${name}": shape ${JSON.stringify(t.shape)} must be non-negative integers`);
  }
  const bytes =
    t.data instanceof Float32Array
      ? t.dtype === 'F32'
        ? f32ToF32Bytes(t.data)
        : t.dtype === 'F16'
          ? f32ToF16Bytes(t.data)
          : f32ToBf16Bytes(t.data)
      : t.data;
  const expected = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
  if (bytes.length !== expected) {
    throw new Error(`tensor "${name}": ${bytes.length} bytes of data but ${t.dtype} [${t.shape.join(', ')}] needs ${expected}`);
  }
  return bytes;
}

export function writeSafetensors(tensors: Record<string, TensorToWrite>, metadata: Record<string, string> = {}): Uint8Array {
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`safetensors metadata "${k}" must be a string, got ${typeof v}`);
  }
  const names = Object.keys(tensors).sort();
  if (names.includes('__metadata__')) throw new Error('"__metadata__" is reserved and cannot name a tensor');
  const datas = names.map((n) => encodeData(n, tensors[n]));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  names.forEach((name, i) => {
    header[name] = { dtype: tensors[name].dtype, shape: tensors[name].shape, data_offsets: [offset, offset + datas[i].length] };
    offset += datas[i].length;
  });
  let json = JSON.stringify(header);
  const jsonBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(jsonBytes.length / 8) * 8; // the reference writer pads with spaces to 8 bytes
  json += ' '.repeat(padded - jsonBytes.length);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + padded;
  for (const d of datas) {
    out.set(d, at);
    at += d.length;
  }
  return out;
}

/** One tensor's entry in a safetensors header: offsets are relative to the data section. */
export interface TensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: Record<string, TensorEntry>;
  metadata: Record<string, string>;
  /** bytes before the data section (8 + header length) */
  dataStart: number;
}

/** The header length field, checked against the file's size. */
export function safetensorsHeaderLength(first8: Uint8Array, fileBytes: number, source: string): number {
  if (fileBytes < 8 || first8.length < 8)
    throw new Error(`${source}: invalid safetensors: ${fileBytes} bytes is too short for the header length`);
  const headerLength = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, fileBytes - 8))) {
    throw new Error(
      `${source}: invalid safetensors: header length ${headerLength} exceeds the ${fileBytes - 8} bytes after it (or the 100 MB limit)`,
    );
  }
  return Number(headerLength);
}

/**
 * Parses and checks a header strictly: known dtypes, byte sizes matching dtype × shape, and
 * tensors tiling the `dataLength`-byte data section exactly (no gaps, overlaps or trailing bytes).
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLength: number, source: string): SafetensorsHeader {
  const fail = (what: string): never => {
    throw new Error(`${source}: invalid safetensors: ${what}`);
  };
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    fail(`header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header must be a JSON object');
  const metadata: Record<string, string> = {};
  const tensors: Record<string, TensorEntry> = {};
  const extents: { name: string; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ must be an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__."${k}" must be a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`tensor "${name}" must be an object`);
    const extra = Object.keys(t).filter((k) => !['dtype', 'shape', 'data_offsets'].includes(k));
    if (extra.length > 0) fail(`tensor "${name}" has unknown fields ${extra.join(', ')}`);
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) fail(`tensor "${name}" has unknown dtype ${JSON.stringify(t.dtype)}`);
    const dtype = t.dtype as SafetensorsDtype;
    const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
    if (!Array.isArray(t.shape) || !t.shape.every(isIndex)) fail(`tensor "${name}" shape must be an array of non-negative integers`);
    const shape = t.shape as number[];
    const offsets = t.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1]) {
      fail(`tensor "${name}" data_offsets must be [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) fail(`tensor "${name}" ends at ${end}, past the ${dataLength}-byte data section`);
    const count = elementCount(shape);
    if (count * DTYPE_BYTES[dtype] !== end - begin) {
      fail(`tensor "${name}" is ${dtype} [${shape.join(', ')}] = ${count * DTYPE_BYTES[dtype]} bytes but its offsets span ${end - begin}`);
    }
    extents.push({ name, begin, end });
    tensors[name] = { dtype, shape, begin, end };
  }
  extents.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of extents) {
    if (e.begin !== expected) {
      fail(
        e.begin < expected
          ? `tensor "${e.name}" overlaps the tensor before it`
          : `gap of ${e.begin - expected} bytes before tensor "${e.name}"`,
      );
    }
    expected = e.end;
  }
  if (expected !== dataLength) fail(`${dataLength - expected} trailing bytes after the last tensor`);
  return { tensors, metadata, dataStart: 8 + headerBytes.length };
}

export function readSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions = {}): SafetensorsFile {
  const source = options.source ?? 'safetensors';
  const dataStart = 8 + safetensorsHeaderLength(bytes, bytes.length, source);
  const header = parseSafetensorsHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, source);
  const tensors: Record<string, StoredTensor> = {};
  for (const [name, { dtype, shape, begin, end }] of Object.entries(header.tensors)) {
    tensors[name] = { dtype, shape, bytes: bytes.subarray(dataStart + begin, dataStart + end) };
  }
  if (options.rejectNonFinite) {
    for (const [name, t] of Object.entries(tensors)) {
      if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') continue;
      const bad = tensorToFloat32(t).findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new Error(`${source}: invalid safetensors: tensor "${name}" holds a non-finite value at flat index ${bad}`);
    }
  }
  return { tensors, metadata: header.metadata };
}

/** float32 copy of a floating-point tensor */
export function tensorToFloat32(t: StoredTensor): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return f32FromF32Bytes(t.bytes);
    case 'F16':
      return f32FromF16Bytes(t.bytes);
    case 'BF16':
      return f32FromBf16Bytes(t.bytes);
    default:
      throw new Error(`tensor of dtype ${t.dtype} cannot be read as float32`);
  }
}
