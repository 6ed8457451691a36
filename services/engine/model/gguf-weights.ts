/**
 * The canonical weights of a GGUF file (split, un-permuted as gguf-tensors.ts says), read one
 * tensor at a time from its byte range: as float32 (dequantized by ./quant) or as stored.
 * Checking names and dims needs the header alone.
 */
import { bytesFor, dequantize } from './quant/index.js';
import type { GgufHeader, GgufTensorInfo } from './gguf-types.js';
import type { GgufArchitecture } from './gguf-spec.js';
import { canonicalFromGguf, ggufRowMajorDims, ggufSources, type GgufSource } from './gguf-tensors.js';
import type { ModelSpec } from './spec.js';
import type { StoredTensor, WeightSource } from './weights.js';

/** One canonical tensor: where it comes from, and the GGUF tensor it is cut from. */
export interface GgufEntry {
  source: GgufSource;
  info: GgufTensorInfo;
}

/** The stored bytes of one GGUF tensor (header.dataOffset + info.offset, info.byteLength long). */
export type ReadGgufTensor = (info: GgufTensorInfo) => Promise<Uint8Array>;

/**
 * The entry of every canonical tensor `spec` needs, by canonical name; refuses (by name) a missing
 * tensor, a tensor of the wrong dims, and a tensor the spec does not use (rope_freqs is read into
 * the spec). Reads no tensor data.
 */
export function ggufEntries(header: GgufHeader, spec: ModelSpec, arch: GgufArchitecture, path: string): Map<string, GgufEntry> {
  const infos = new Map(header.tensors.map((t) => [t.name, t]));
  const sources = ggufSources(spec, arch);
  const used = new Set([...sources.map((s) => s.gguf), 'rope_freqs.weight']);
  const extra = header.tensors.filter((t) => !used.has(t.name)).map((t) => t.name);
  if (extra.length > 0)
    throw new Error(`${path}: tensors the model spec does not use: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ', …' : ''}`);
  const entries = new Map<string, GgufEntry>();
  for (const source of sources) {
    const info = infos.get(source.gguf);
    if (!info) throw new Error(`${path}: tensor "${source.gguf}" is missing`);
    const expected = [...ggufRowMajorDims(source)].reverse();
    if (info.dims.length !== expected.length || info.dims.some((d, i) => d !== expected[i])) {
      throw new Error(`${path}: tensor "${source.gguf}" has GGUF dims [${info.dims.join(', ')}], expected [${expected.join(', ')}]`);
    }
    entries.set(source.canonical, { source, info });
  }
  return entries;
}

const elementsOf = (info: GgufTensorInfo): number => info.dims.reduce((a, b) => a * b, 1);
/** a canonical row's length in elements (1 for a vector) */
const rowElements = (source: GgufSource): number => (source.dims.length === 2 ? source.dims[1] : 1);

/** A GGUF tensor's float32 values, dequantized from its stored bytes. */
export function ggufTensorF32(info: GgufTensorInfo, raw: Uint8Array): Float32Array {
  return dequantize(info.stored, raw, elementsOf(info));
}

/** An entry's canonical float32 values from its GGUF tensor's stored bytes. */
export function canonicalF32(entry: GgufEntry, raw: Uint8Array, headDim: number): Float32Array {
  return canonicalFromGguf(entry.source, ggufTensorF32(entry.info, raw), rowElements(entry.source), headDim);
}

/**
 * An entry's canonical tensor at its stored precision. Rows of ggml blocks are split and
 * un-permuted as bytes (a row is whole blocks); a quantized vector (llama.cpp writes none) is
 * dequantized, since un-permuting moves single elements.
 */
export function canonicalStored(entry: GgufEntry, raw: Uint8Array, headDim: number): StoredTensor {
  const { source, info } = entry;
  const dims = [...source.dims];
  const width = rowElements(source);
  const aligned = raw.byteOffset % 4 === 0 ? raw : raw.slice();
  switch (info.stored) {
    case 'f32':
      return {
        dtype: 'f32',
        dims,
        data: canonicalFromGguf(source, new Float32Array(aligned.buffer, aligned.byteOffset, raw.byteLength / 4), width, headDim),
      };
    case 'f16':
    case 'bf16':
      return {
        dtype: info.stored,
        dims,
        data: canonicalFromGguf(source, new Uint16Array(aligned.buffer, aligned.byteOffset, raw.byteLength / 2), width, headDim),
      };
    default:
      if (dims.length !== 2) return { dtype: 'f32', dims, data: canonicalF32(entry, raw, headDim) };
      return { dtype: info.stored, dims, data: canonicalFromGguf(source, raw, bytesFor(info.stored, width), headDim) };
  }
}

/** The canonical weights of `entries` as a WeightSource whose reads go through `read`, one GGUF tensor each. */
export function ggufWeightSource(entries: Map<string, GgufEntry>, headDim: number, path: string, read: ReadGgufTensor): WeightSource {
  const entryOf = (name: string): GgufEntry => {
    const entry = entries.get(name);
    if (!entry) throw new Error(`${path}: weight "${name}" is not in this model`);
    return entry;
  };
  return {
    list: () => [...entries.values()].map(({ source, info }) => ({ name: source.canonical, dims: [...source.dims], stored: info.stored })),
    async readF32(name) {
      const entry = entryOf(name);
      return canonicalF32(entry, await read(entry.info), headDim);
    },
    async readStored(name) {
      const entry = entryOf(name);
      return canonicalStored(entry, await read(entry.info), headDim);
    },
  };
}
