/**
 * GGUF tensors ↔ canonical weights (weights.ts) by llama.cpp's tensor names: `token_embd`,
 * `blk.N.attn_q`, `blk.N.ffn_up`, `output_norm`, …. Fused tensors are split at load (Phi-3 and
 * GPT-2 `attn_qkv` into q, k, v rows; Phi-3 `ffn_up` into gate then up rows), and llama's q/k
 * rows, which llama.cpp's converter permutes for adjacent-pair RoPE, are un-permuted to
 * rotate-half. GGUF dims are fastest-first ([in, out] for a row-major (out, in) matrix).
 */
import { headDimOf, type ModelSpec } from './spec.js';
import type { GgufArchitecture } from './gguf-spec.js';
import { halvesToPairs, pairsToHalves, type RowArray } from './llama.js';
import { expectedWeights, type LayerPart } from './weights.js';

/** Where one canonical tensor comes from in a GGUF file. */
export interface GgufSource {
  canonical: string;
  /** canonical row-major dims */
  dims: number[];
  gguf: string;
  /** rows [start, start + count) of the GGUF tensor's row-major (out, in) matrix (fused tensors) */
  rows?: { start: number; count: number; of: number };
  /** un-permute llama.cpp's adjacent-pair q/k rows to rotate-half */
  unpermute?: boolean;
}

const LAYER_NAMES: Record<LayerPart, string> = {
  input_norm: 'attn_norm',
  post_attention_norm: 'post_attention_norm',
  q_proj: 'attn_q',
  k_proj: 'attn_k',
  v_proj: 'attn_v',
  o_proj: 'attn_output',
  q_norm: 'attn_q_norm',
  k_norm: 'attn_k_norm',
  ffn_norm: 'ffn_norm',
  post_ffn_norm: 'post_ffw_norm',
  gate_proj: 'ffn_gate',
  up_proj: 'ffn_up',
  down_proj: 'ffn_down',
};
const GLOBAL_NAMES: Record<string, string> = {
  'embed_tokens.weight': 'token_embd.weight',
  'position_embeddings.weight': 'position_embd.weight',
  'final_norm.weight': 'output_norm.weight',
  'final_norm.bias': 'output_norm.bias',
  'lm_head.weight': 'output.weight',
};

const LAYER_TENSOR = /^layers\.(\d+)\.([a-z_]+)\.(weight|bias)$/;

/** The GGUF source of every canonical tensor the spec needs. */
export function ggufSources(spec: ModelSpec, arch: GgufArchitecture): GgufSource[] {
  const hd = headDimOf(spec);
  const fusedQkv = arch === 'phi3' || arch === 'gpt2';
  const fusedGateUp = arch === 'phi3';
  const qkvRows = {
    q_proj: [0, spec.nHeads * hd],
    k_proj: [spec.nHeads * hd, spec.nKvHeads * hd],
    v_proj: [(spec.nHeads + spec.nKvHeads) * hd, spec.nKvHeads * hd],
  };
  const qkvTotal = (spec.nHeads + 2 * spec.nKvHeads) * hd;
  return expectedWeights(spec).map(({ name, dims }) => {
    const global = GLOBAL_NAMES[name];
    if (global) return { canonical: name, dims, gguf: global };
    const m = LAYER_TENSOR.exec(name);
    if (!m) throw new Error(`no GGUF name for canonical tensor "${name}"`);
    const [, layer, part, kind] = m as unknown as [string, string, LayerPart, string];
    const blk = (base: string): string => `blk.${layer}.${base}.${kind}`;
    if (fusedQkv && (part === 'q_proj' || part === 'k_proj' || part === 'v_proj')) {
      const [start, count] = qkvRows[part];
      return { canonical: name, dims, gguf: blk('attn_qkv'), rows: { start, count, of: qkvTotal } };
    }
    if (fusedGateUp && (part === 'gate_proj' || part === 'up_proj')) {
      return {
        canonical: name,
        dims,
        gguf: blk('ffn_up'),
        rows: { start: part === 'gate_proj' ? 0 : spec.hiddenDim, count: spec.hiddenDim, of: 2 * spec.hiddenDim },
      };
    }
    const unpermute = arch === 'llama' && (part === 'q_proj' || part === 'k_proj');
    return { canonical: name, dims, gguf: blk(LAYER_NAMES[part]), ...(unpermute ? { unpermute } : {}) };
  });
}

/**
 * One source's canonical rows from its GGUF tensor's rows (row-major (out, in)): float32 values,
 * 16-bit words or ggml blocks alike, `rowWidth` being one row's length in the array's elements
 * (1 for a vector, whose unpermuting moves single elements).
 */
export function canonicalFromGguf<A extends RowArray>(source: GgufSource, values: A, rowWidth: number, headDim: number): A {
  // a copy of the rows: a view would keep the whole fused tensor alive
  const rows = source.rows ? (values.slice(source.rows.start * rowWidth, (source.rows.start + source.rows.count) * rowWidth) as A) : values;
  return source.unpermute ? pairsToHalves(rows, rowWidth, headDim) : rows;
}

/** The row-major dims a source's GGUF tensor must have (the fused whole for split tensors). */
export function ggufRowMajorDims(source: GgufSource): number[] {
  if (!source.rows) return source.dims;
  return [source.rows.of, ...source.dims.slice(1)];
}

/**
 * Canonical tensors as llama.cpp names and lays them out (fused, permuted; Gemma's (1 + w) norms
 * stored as 1 + w, as llama.cpp's converter writes them), row-major (out, in), in source order.
 */
export function ggufTensorsFromCanonical(
  spec: ModelSpec,
  arch: GgufArchitecture,
  tensors: ReadonlyMap<string, { dims: number[]; data: Float32Array }>,
): Map<string, { dims: number[]; data: Float32Array }> {
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const source of ggufSources(spec, arch)) {
    const t = tensors.get(source.canonical);
    if (!t) throw new Error(`canonical tensor "${source.canonical}" is missing`);
    let data = t.data;
    if (spec.norm.kind === 'rms_one_plus' && /norm\.weight$/.test(source.canonical)) data = data.map((v) => 1 + v);
    if (source.unpermute) data = halvesToPairs(data, source.dims.length === 2 ? source.dims[1] : 1, spec.headDim);
    if (!source.rows) {
      out.set(source.gguf, { dims: source.dims, data });
      continue;
    }
    const dims = ggufRowMajorDims(source);
    const inDim = dims.length === 2 ? dims[1] : 1;
    const whole = out.get(source.gguf) ?? { dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) };
    whole.data.set(data, source.rows.start * inDim);
    out.set(source.gguf, whole);
  }
  return out;
}
