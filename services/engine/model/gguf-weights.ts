/**
 * GGUF tensors of a file in memory as float32 (dequantized by ./quant), and as a canonical
 * WeightSource (split, un-permuted as gguf-tensors.ts says). Reads are synchronous underneath:
 * the bytes are already in memory.
 */
import { dequantize } from './quant/index.js';
import type { GgufHeader } from './gguf-types.js';
import type { GgufArchitecture } from './gguf-spec.js';
import { canonicalFromGguf, ggufRowMajorDims, ggufSources } from './gguf-tensors.js';
import type { ModelSpec } from './spec.js';
import { expectedWeights, type F32Tensor, type WeightSource } from './weights.js';

export interface CanonicalGgufWeights extends WeightSource {
  /** every canonical tensor the spec needs, read now */
  readAll(): Map<string, F32Tensor>;
}

export interface GgufWeights {
  /** float32 values of one GGUF tensor by its GGUF name */
  readTensor(name: string): Float32Array;
  /**
   * The canonical weights of `spec`; refuses (by name) a missing tensor, a tensor of the wrong
   * dims, and a tensor the spec does not use (rope_freqs is read into the spec).
   */
  canonical(spec: ModelSpec, arch: GgufArchitecture): CanonicalGgufWeights;
}

export function ggufWeights(bytes: Uint8Array, header: GgufHeader, path: string): GgufWeights {
  const infos = new Map(header.tensors.map((t) => [t.name, t]));
  const readTensor = (name: string): Float32Array => {
    const info = infos.get(name);
    if (!info) throw new Error(`${path}: tensor "${name}" is missing`);
    const at = header.dataOffset + info.offset;
    return dequantize(
      info.stored,
      bytes.subarray(at, at + info.byteLength),
      info.dims.reduce((a, b) => a * b, 1),
    );
  };
  return {
    readTensor,
    canonical(spec, arch) {
      const sources = ggufSources(spec, arch);
      const used = new Set([...sources.map((s) => s.gguf), 'rope_freqs.weight']);
      const extra = header.tensors.filter((t) => !used.has(t.name)).map((t) => t.name);
      if (extra.length > 0)
        throw new Error(`${path}: tensors the model spec does not use: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ', …' : ''}`);
      for (const s of sources) {
        const info = infos.get(s.gguf);
        if (!info) throw new Error(`${path}: tensor "${s.gguf}" is missing`);
        const expected = [...ggufRowMajorDims(s)].reverse();
        if (info.dims.length !== expected.length || info.dims.some((d, i) => d !== expected[i])) {
          throw new Error(`${path}: tensor "${s.gguf}" has GGUF dims [${info.dims.join(', ')}], expected [${expected.join(', ')}]`);
        }
      }
      const bySource = new Map(sources.map((s) => [s.canonical, s]));
      const read = (name: string): Float32Array => {
        const s = bySource.get(name);
        if (!s) throw new Error(`${path}: weight "${name}" is not in this model`);
        return canonicalFromGguf(s, readTensor(s.gguf), spec.headDim);
      };
      return {
        list: () => sources.map((s) => ({ name: s.canonical, dims: [...s.dims], stored: infos.get(s.gguf)!.stored })),
        readF32: (name) => {
          try {
            return Promise.resolve(read(name));
          } catch (e) {
            return Promise.reject(e as Error);
          }
        },
        readAll: () => new Map(expectedWeights(spec).map(({ name, dims }) => [name, { dims, data: read(name) }])),
      };
    },
  };
}
