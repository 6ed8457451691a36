/**
 * Canonical weights: what every loader produces and the decoder graph consumes.
 * Names follow Hugging Face's Llama naming without `model.`, one tensor per matrix, row-major
 * [out, in] (y = W·x), q/k rows in Hugging Face's rotate-half layout (each head's first half pairs
 * with its second half). Loaders un-permute GGUF q/k, split fused qkv, transpose GPT-2 Conv1D.
 * Gemma's (1 + w) norms are stored as w (the graph adds the 1), so weights round-trip.
 *
 *   embed_tokens.weight [vocab, dim]          position_embeddings.weight [ctx, dim] (learned positions)
 *   layers.{i}.input_norm.weight / .bias      layers.{i}.post_attention_norm.weight (sandwich)
 *   layers.{i}.{q,k,v,o}_proj.weight / .bias  layers.{i}.{q,k}_norm.weight [headDim] (qkNorm)
 *   layers.{i}.ffn_norm.weight / .bias        layers.{i}.post_ffn_norm.weight (sandwich)
 *   layers.{i}.{gate,up,down}_proj.weight / .bias (gelu_mlp: up and down only)
 *   final_norm.weight / .bias                 lm_head.weight (absent when tied)
 */
import type { ModelSpec } from './spec.js';

export type StoredDType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | 'q5_1' | 'q2_k' | 'q3_k' | 'q4_k' | 'q5_k' | 'q6_k';

export interface WeightInfo {
  name: string;
  /** row-major canonical dims, slowest axis first */
  dims: number[];
  /** how the source stores it */
  stored: StoredDType;
}

/**
 * A canonical tensor at the precision its source stores it, in canonical layout (rows split /
 * un-permuted / transposed as readF32 does it): f32 values, raw float16 / bfloat16 words, or ggml
 * blocks (a row is whole blocks, `dims` are the canonical element dims).
 */
export type StoredTensor =
  | { dtype: 'f32'; dims: number[]; data: Float32Array }
  | { dtype: 'f16' | 'bf16'; dims: number[]; data: Uint16Array }
  | { dtype: Exclude<StoredDType, 'f32' | 'f16' | 'bf16'>; dims: number[]; data: Uint8Array };

/** Lazy access to a model's canonical weights; each read goes to the file for that tensor alone. */
export interface WeightSource {
  list(): WeightInfo[];
  /** Float32 copy in canonical layout (dequantized / widened / un-permuted / transposed as needed). */
  readF32(name: string): Promise<Float32Array>;
  /** The tensor as stored (no widening or dequantization), in canonical layout. */
  readStored(name: string): Promise<StoredTensor>;
}

/** A dense float32 tensor, row-major. dims[0] is the slowest-varying axis. */
export interface F32Tensor {
  dims: number[];
  data: Float32Array;
}

/** Canonical tensor names, so no module spells them by hand. */
export const weightName = {
  embedTokens: 'embed_tokens.weight',
  positionEmbeddings: 'position_embeddings.weight',
  finalNorm: 'final_norm',
  lmHead: 'lm_head.weight',
  layer: (i: number, part: LayerPart, kind: 'weight' | 'bias' = 'weight'): string => `layers.${i}.${part}.${kind}`,
} as const;
export type LayerPart =
  | 'input_norm'
  | 'post_attention_norm'
  | 'q_proj'
  | 'k_proj'
  | 'v_proj'
  | 'o_proj'
  | 'q_norm'
  | 'k_norm'
  | 'ffn_norm'
  | 'post_ffn_norm'
  | 'gate_proj'
  | 'up_proj'
  | 'down_proj';

/** The canonical tensors a spec needs, with their dims (what a loader must provide). */
export function expectedWeights(spec: ModelSpec): { name: string; dims: number[] }[] {
  const { dim, headDim, hiddenDim, nHeads, nKvHeads, vocabSize } = spec;
  const out: { name: string; dims: number[] }[] = [{ name: weightName.embedTokens, dims: [vocabSize, dim] }];
  if (spec.positions.kind === 'learned') out.push({ name: weightName.positionEmbeddings, dims: [spec.contextLength, dim] });
  const withBias = spec.norm.kind === 'layer';
  const norm = (prefix: string, width: number): void => {
    out.push({ name: `${prefix}.weight`, dims: [width] });
    if (withBias) out.push({ name: `${prefix}.bias`, dims: [width] });
  };
  const linear = (i: number, part: LayerPart, rows: number, cols: number, bias: boolean): void => {
    out.push({ name: weightName.layer(i, part), dims: [rows, cols] });
    if (bias) out.push({ name: weightName.layer(i, part, 'bias'), dims: [rows] });
  };
  for (let i = 0; i < spec.nLayers; i++) {
    norm(`layers.${i}.input_norm`, dim);
    linear(i, 'q_proj', nHeads * headDim, dim, spec.attention.qkvBias);
    linear(i, 'k_proj', nKvHeads * headDim, dim, spec.attention.qkvBias);
    linear(i, 'v_proj', nKvHeads * headDim, dim, spec.attention.qkvBias);
    linear(i, 'o_proj', dim, nHeads * headDim, spec.attention.outBias);
    if (spec.qkNorm) {
      norm(`layers.${i}.q_norm`, headDim);
      norm(`layers.${i}.k_norm`, headDim);
    }
    if (spec.sandwichNorms) norm(`layers.${i}.post_attention_norm`, dim);
    norm(`layers.${i}.ffn_norm`, dim);
    if (spec.sandwichNorms) norm(`layers.${i}.post_ffn_norm`, dim);
    if (spec.ffn.kind !== 'gelu_mlp') linear(i, 'gate_proj', hiddenDim, dim, spec.ffn.bias);
    linear(i, 'up_proj', hiddenDim, dim, spec.ffn.bias);
    linear(i, 'down_proj', dim, hiddenDim, spec.ffn.bias);
  }
  norm(weightName.finalNorm, dim);
  if (!spec.embedding.tied) out.push({ name: weightName.lmHead, dims: [vocabSize, dim] });
  return out;
}

/**
 * Checks that `weights` has every tensor the spec needs with its dims, and no other (a field the
 * spec does not express would be ignored); `source` names the model in errors. Returns the list.
 */
export function checkWeights(spec: ModelSpec, weights: WeightSource, source: string): { name: string; dims: number[] }[] {
  const have = new Map(weights.list().map((w) => [w.name, w]));
  const expected = expectedWeights(spec);
  const expectedNames = new Set(expected.map((e) => e.name));
  const extra = [...have.keys()].filter((n) => !expectedNames.has(n));
  if (extra.length > 0)
    throw new Error(`${source}: tensors the model spec does not use: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ', …' : ''}`);
  for (const { name, dims } of expected) {
    const info = have.get(name);
    if (!info) throw new Error(`${source}: tensor "${name}" is missing`);
    if (info.dims.length !== dims.length || info.dims.some((d, i) => d !== dims[i])) {
      throw new Error(`${source}: tensor "${name}" has dims [${info.dims.join(', ')}], expected [${dims.join(', ')}]`);
    }
  }
  return expected;
}

/**
 * Reads every tensor the spec needs as float32, after `checkWeights`. A layer's q, k and v (and
 * their biases) are read into one buffer, q's rows then k's then v's, and returned as views of it:
 * the weight bank's stacked q/k/v rows are that very buffer (weight-bank.ts), so no second copy is
 * made while the model loads.
 */
export async function readAllWeights(spec: ModelSpec, weights: WeightSource, source: string): Promise<Map<string, F32Tensor>> {
  const out = new Map<string, F32Tensor>();
  const stacks = new Map<string, { buffer: Float32Array; at: number }>();
  const qkv = /^layers\.(\d+)\.[qkv]_proj\.(weight|bias)$/;
  const width = (kind: string): number => (kind === 'weight' ? spec.dim : 1);
  for (const { name, dims } of checkWeights(spec, weights, source)) {
    const read = await weights.readF32(name);
    if (read.length !== dims.reduce((a, b) => a * b, 1))
      throw new Error(`${source}: tensor "${name}" read ${read.length} values for dims [${dims.join(', ')}]`);
    const stacked = qkv.exec(name);
    if (!stacked) {
      out.set(name, { dims, data: read });
      continue;
    }
    const key = `${stacked[1]}.${stacked[2]}`;
    let stack = stacks.get(key);
    if (!stack) {
      const rows = (spec.nHeads + 2 * spec.nKvHeads) * spec.headDim;
      stacks.set(key, (stack = { buffer: new Float32Array(rows * width(stacked[2])), at: 0 }));
    }
    stack.buffer.set(read, stack.at);
    out.set(name, { dims, data: stack.buffer.subarray(stack.at, stack.at + read.length) });
    stack.at += read.length;
  }
  return out;
}

/** A model with every canonical tensor read into memory: what the decoder graph builder consumes. */
export interface DecoderModel {
  spec: ModelSpec;
  tensors: ReadonlyMap<string, F32Tensor>;
}

/** The token-embedding table [vocab, dim] (unscaled). */
export const embeddingTable = (model: DecoderModel): F32Tensor => tensorOf(model, weightName.embedTokens);

/** The tensor `name` of a model, or an error naming it. */
export function tensorOf(model: DecoderModel, name: string): F32Tensor {
  const t = model.tensors.get(name);
  if (!t) throw new Error(`model (${model.spec.family}): tensor "${name}" is missing`);
  return t;
}
