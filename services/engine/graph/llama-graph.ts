/**
 * The frozen Llama forward pass as a static-shape ONNX graph, read top to bottom:
 * embeddings (virtual tokens first) → nLayers × (RMSNorm, RoPE attention with GQA, RMSNorm, SwiGLU)
 * → final RMSNorm → classifier; plus the masked next-token loss and its gradients for training.
 * Conventions follow ../shared/models/README.md (RoPE on adjacent pairs, y = W x).
 */
import { type F32Tensor, headSize, type LlamaConfig, type LlamaWeights } from '../model/llama.js';
import { gradients } from './autodiff.js';
import { GraphBuilder, type Value } from './builder.js';
import type { FloatDType } from './dtype.js';
import * as op from './ops/index.js';

/** What a virtual-token source sees of the model it feeds. */
export interface ModelContext {
  config: LlamaConfig;
  dtype: FloatDType;
  batch: number;
  /** the frozen token-embedding table [vocab, dim] (P-tuning / text init may read it in-graph) */
  tokenEmbedding: Value;
}

/** Trainable virtual tokens placed before all real tokens (prompt tuning, P-tuning). */
export interface VirtualTokens {
  /** P, the number of virtual tokens */
  readonly length: number;
  /** Creates its graph inputs and returns the virtual embeddings [P, dim] and the inputs to train. */
  build(g: GraphBuilder, ctx: ModelContext): { embeddings: Value; trainable: Value[] };
}

/** Per-layer keys and values every query may attend to, before the real tokens (prefix tuning). */
export interface PastKeyValues {
  /** number of prefix positions; real tokens' RoPE positions start after them */
  readonly length: number;
  /**
   * Returns, for each layer, key and value [nKvHeads, length, headSize] (keys already rotated,
   * as in a KV cache, and in rotate-half layout within each head as Hugging Face Llama keys are:
   * the graph reorders q/k head dims from adjacent pairs to halves; shared by the whole batch)
   * and the inputs to train.
   */
  build(g: GraphBuilder, ctx: ModelContext): { layers: { key: Value; value: Value }[]; trainable: Value[] };
}

/** Prompt tuning: one trainable graph input `prompt_embeddings` [P, dim], PEFT's key and layout. */
export function promptTuning(numVirtualTokens: number): VirtualTokens {
  return {
    length: numVirtualTokens,
    build(g, { config, dtype }) {
      const p = g.input('prompt_embeddings', dtype, [numVirtualTokens, config.dim]);
      return { embeddings: p, trainable: [p] };
    },
  };
}

export interface LlamaGraphOptions {
  batch: number;
  /** T: tokens per example (BOS included), right-padded */
  seqLen: number;
  /** 'float32' (default) or 'float64' (gradient checks) */
  dtype?: FloatDType;
  virtualTokens?: VirtualTokens;
  pastKeyValues?: PastKeyValues;
}

/** Graph input and output names shared by the inference and training graphs. */
export const LLAMA_IO = {
  tokens: 'tokens', // [B, T] int64
  lossMask: 'loss_mask', // [B, T] float, 1 where the token is predicted (column 0 is ignored)
  positions: 'positions', // [B] int64, token index whose logits to return ('at-positions' mode)
  logits: 'logits',
  loss: 'loss', // [] mean NLL over masked tokens of the batch
  exampleNll: 'example_nll', // [B] summed NLL of each example's masked tokens
  exampleTokens: 'example_tokens', // [B] masked tokens per example
  predictions: 'predictions', // [B, T-1] int64: argmax predicting token t+1 (from token t's position)
  gradPrefix: 'grad_', // gradient outputs are named grad_<trainable input name>
  presentKey: 'present_key_', // present_key_<layer> [B, nKvHeads, P+T, headSize]: keys after RoPE, rotate-half layout ('withKeyValues')
  presentValue: 'present_value_', // present_value_<layer> [B, nKvHeads, P+T, headSize]
} as const;

export interface LlamaGraph {
  graph: GraphBuilder;
  /** trainable graph inputs, in the order their gradients are output */
  trainable: Value[];
  /** number of virtual tokens before the real ones in the sequence (P) */
  virtualLength: number;
}

const negativeInfinity = -1e9; // additive mask; exp() underflows to exactly 0 in float32 and float64

function cast(t: F32Tensor, dtype: FloatDType): Float32Array | Float64Array {
  return dtype === 'float32' ? t.data : Float64Array.from(t.data);
}

/** Rows of several (out, in) matrices stacked into one, in the graph's dtype. */
function stackedRows(matrices: readonly Float32Array[], dtype: FloatDType): Float32Array | Float64Array {
  const n = matrices.reduce((k, m) => k + m.length, 0);
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  let at = 0;
  for (const m of matrices) {
    out.set(m, at);
    at += m.length;
  }
  return out;
}

/**
 * Reorders the rows of each head of a q/k projection (out, in) from adjacent pairs
 * (x0, x1, x2, x3, …) to halves (x0, x2, …, x1, x3, …), scaling by `scale`. Applied to both q
 * and k it leaves every per-head dot product unchanged, and RoPE becomes rotate-half
 * (the Hugging Face layout): a swap of the two halves instead of a pair interleave.
 */
function halfLayoutRows(w: Float32Array, inDim: number, hs: number, scale: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = hs / 2;
  for (let r = 0; r < w.length / inDim; r++) {
    const head = Math.floor(r / hs) * hs;
    const j = r - head;
    const src = head + (j < half ? 2 * j : 2 * (j - half) + 1);
    for (let i = 0; i < inDim; i++) out[r * inDim + i] = w[src * inDim + i] * scale;
  }
  return out;
}

/**
 * RoPE on the projected heads [B, nHeads+2·nKvHeads, S, headSize] (half layout), as
 * RoPE(x) = x·cos + (x·R)·sin: R [hs, hs] swaps each head's halves (one small MatMul; a Slice
 * reversing the halves was slower, and onnxruntime then moved transposes around it), `cos` and
 * `sin` [heads, S, hs] broadcast over the batch, the sine negated on the first half (entry j has
 * angle pos·theta^(−2(j mod hs/2)/hs)). v heads get cos 1 and sin 0, which pass them through
 * exactly, so q, k and v stay in one tensor.
 */
function ropeTables(g: GraphBuilder, c: LlamaConfig, dtype: FloatDType, positions: number[]): { swap: Value; cos: Value; sin: Value } {
  const hs = headSize(c);
  const half = hs / 2;
  const heads = c.nHeads + 2 * c.nKvHeads;
  const rotated = c.nHeads + c.nKvHeads;
  const S = positions.length;
  const cos = new Float64Array(S * heads * hs);
  const sin = new Float64Array(S * heads * hs);
  positions.forEach((pos, s) => {
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < hs; j++) {
        const angle = pos * Math.pow(c.ropeTheta, -(2 * (j % half)) / hs);
        const at = (h * S + s) * hs + j;
        cos[at] = h < rotated ? Math.cos(angle) : 1;
        sin[at] = h < rotated ? (j < half ? -1 : 1) * Math.sin(angle) : 0;
      }
    }
  });
  const swap = new Float64Array(hs * hs); // (x·R)[j] = x[(j + hs/2) mod hs]
  for (let j = 0; j < hs; j++) swap[((j + half) % hs) * hs + j] = 1;
  const init = (name: string, d: Float64Array, dims: number[]): Value => g.initializer(name, dtype === 'float32' ? Float32Array.from(d) : d, dims);
  return { swap: init('rope_swap', swap, [hs, hs]), cos: init('rope_cos', cos, [heads, S, hs]), sin: init('rope_sin', sin, [heads, S, hs]) };
}

/** RoPE(x) = x·cos + (x·R)·sin on x [B, heads, S, hs] (see ropeTables). */
function rope(g: GraphBuilder, x: Value, t: { swap: Value; cos: Value; sin: Value }): Value {
  return op.add(g, op.mul(g, x, t.cos), op.mul(g, op.matmul(g, x, t.swap), t.sin));
}

/**
 * Additive causal mask for scores laid out [.., group·S, past + S] (query rows of a KV head's
 * query group stacked): row j·S+s sees all past columns and real columns ≤ s.
 */
function causalMask(g: GraphBuilder, dtype: FloatDType, group: number, seq: number, past: number): Value {
  const cols = past + seq;
  const m = dtype === 'float32' ? new Float32Array(group * seq * cols) : new Float64Array(group * seq * cols);
  for (let r = 0; r < group * seq; r++) for (let c = past + (r % seq) + 1; c < cols; c++) m[r * cols + c] = negativeInfinity;
  return g.initializer('causal_mask', m, [group * seq, cols]);
}

interface Forward {
  g: GraphBuilder;
  tokens: Value;
  /** final-normed hidden states [B, P+T, dim] */
  hidden: Value;
  /** classifier weight [vocab, dim] */
  classifier: Value;
  trainable: Value[];
  virtualLength: number;
  /** per layer: this sequence's keys (after RoPE) and values [B, nKvHeads, P+T, headSize], prefix excluded */
  present: { key: Value; value: Value }[];
}

function buildForward(weights: LlamaWeights, name: string, o: LlamaGraphOptions): Forward {
  const c = weights.config;
  const dtype = o.dtype ?? 'float32';
  const { batch: B, seqLen: T } = o;
  const hs = headSize(c);
  const group = c.nHeads / c.nKvHeads;
  const qDim = c.nHeads * hs;
  if (!Number.isInteger(group) || hs % 2 !== 0) {
    throw new Error(`llama graph: nHeads ${c.nHeads} must be a multiple of nKvHeads ${c.nKvHeads} and headSize ${hs} even`);
  }
  const g = new GraphBuilder(name);
  const tokenEmbedding = g.initializer('token_embedding', cast(weights.tokenEmbedding, dtype), weights.tokenEmbedding.dims);
  const ctx: ModelContext = { config: c, dtype, batch: B, tokenEmbedding };

  const tokens = g.input(LLAMA_IO.tokens, 'int64', [B, T]);
  // a source of length 0 is the plain model
  const virtual = o.virtualTokens?.length ? o.virtualTokens.build(g, ctx) : undefined;
  const past = o.pastKeyValues?.length ? o.pastKeyValues.build(g, ctx) : undefined;
  const P = virtual ? o.virtualTokens!.length : 0;
  const Pp = past ? o.pastKeyValues!.length : 0;
  const S = P + T;
  if (Pp + S > c.contextLength) throw new Error(`llama graph: ${Pp}+${P}+${T} positions exceed the context length ${c.contextLength}`);

  let x = op.gather(g, tokenEmbedding, tokens); // [B, T, dim]
  const present: { key: Value; value: Value }[] = [];
  if (virtual) x = op.concat(g, [op.expand(g, virtual.embeddings, [B, P, c.dim]), x], 1);

  const rot = ropeTables(g, c, dtype, Array.from({ length: S }, (_, s) => Pp + s));
  const mask = causalMask(g, dtype, group, S, Pp);
  const qScale = 1 / Math.sqrt(hs); // folded into the query projection

  // the residual stream stays [B·S, dim] through the layers: every projection is then a Gemm on
  // its rows without a Reshape before and after it (forward and backward)
  x = op.reshape(g, x, [B * S, c.dim]);
  weights.layers.forEach((L, l) => {
    const init = (n: string, data: Float32Array | Float64Array, dims: number[]): Value => g.initializer(`layer${l}.${n}`, data, dims);
    const attnNorm = init('attn_norm', cast(L.attnNorm, dtype), [c.dim]);
    // one projection for [q, k] (half layout, 1/sqrt(headSize) folded into q) and v
    const wqkv = init(
      'wqkv',
      stackedRows([halfLayoutRows(L.wq.data, c.dim, hs, qScale), halfLayoutRows(L.wk.data, c.dim, hs, 1), L.wv.data], dtype),
      [c.nHeads + 2 * c.nKvHeads, hs, c.dim],
    );
    const wo = init('wo', cast(L.wo, dtype), L.wo.dims);
    const ffnNorm = init('ffn_norm', cast(L.ffnNorm, dtype), [c.dim]);
    const w1 = init('w1', cast(L.w1, dtype), L.w1.dims);
    const w3 = init('w3', cast(L.w3, dtype), L.w3.dims);
    const w2 = init('w2', cast(L.w2, dtype), L.w2.dims);

    // attention
    const h = op.rmsNorm(g, x, attnNorm, c.normEps);
    // all heads projected heads-first [B, nH+2·nKv, S, hs], RoPE on all of them (v passes through)
    const heads = rope(g, op.headsLinear(g, op.reshape(g, h, [B, S, c.dim]), wqkv), rot);
    const [q, kHeads, vHeads] = op.split(g, heads, 1, [c.nHeads, c.nKvHeads, c.nKvHeads]);
    // query heads of one KV head are adjacent: [B, nH, S, hs] → [B, nKv, group·S, hs]
    const qG = op.reshape(g, q, [B, c.nKvHeads, group * S, hs]);
    let kH = kHeads; // [B, nKv, S, hs]
    let vH = vHeads;
    present.push({ key: kH, value: vH });
    if (past) {
      const { key, value } = past.layers[l];
      kH = op.concat(g, [op.expand(g, key, [B, c.nKvHeads, Pp, hs]), kH], 2);
      vH = op.concat(g, [op.expand(g, value, [B, c.nKvHeads, Pp, hs]), vH], 2);
    }
    const attn = op.reshape(g, op.attention(g, qG, kH, vH, mask), [B, c.nHeads, S, hs]);
    const merged = op.reshape(g, op.transpose(g, attn, [0, 2, 1, 3]), [B * S, qDim]);
    x = op.add(g, x, op.linear(g, merged, wo));

    // SwiGLU feed-forward
    const h2 = op.rmsNorm(g, x, ffnNorm, c.normEps);
    x = op.add(g, x, op.linear(g, op.swiglu(g, op.linear(g, h2, w1), op.linear(g, h2, w3)), w2));
  });

  const outputNorm = g.initializer('output_norm', cast(weights.outputNorm, dtype), [c.dim]);
  const hidden = op.reshape(g, op.rmsNorm(g, x, outputNorm, c.normEps), [B, S, c.dim]);
  // a tied classifier (the same tensor as the embedding) shares its initializer
  const classifier =
    weights.output === weights.tokenEmbedding ? tokenEmbedding : g.initializer('output', cast(weights.output, dtype), weights.output.dims);
  const trainable = [...(virtual?.trainable ?? []), ...(past?.trainable ?? [])];
  return { g, tokens, hidden, classifier, trainable, virtualLength: P, present };
}

export interface InferenceOptions extends LlamaGraphOptions {
  /**
   * 'all': `logits` [B, P+T, vocab] at every position (virtual ones included);
   * 'at-positions': input `positions` [B] (token index t per example) and `logits` [B, vocab]
   * at sequence position P+t, e.g. each example's last real token.
   */
  logits?: 'all' | 'at-positions';
  /**
   * Also output every layer's keys (after RoPE, rotate-half layout) and values of the sequence,
   * `present_key_<l>` / `present_value_<l>` [B, nKvHeads, P+T, headSize]: a KV cache, e.g. to
   * start a prefix from real tokens.
   */
  withKeyValues?: boolean;
}

/** Forward graph: tokens (+ trainable inputs as plain inputs) → logits. */
export function buildLlamaInferenceGraph(weights: LlamaWeights, o: InferenceOptions): LlamaGraph {
  const f = buildForward(weights, 'llama_inference', o);
  const { g } = f;
  const [B, , dim] = f.hidden.shape;
  if ((o.logits ?? 'all') === 'all') {
    g.output(op.linear(g, f.hidden, f.classifier), LLAMA_IO.logits);
  } else {
    const positions = g.input(LLAMA_IO.positions, 'int64', [B]);
    const at = op.add(g, positions, g.scalar('int64', f.virtualLength));
    const index = g.node('Expand', [op.reshape(g, at, [B, 1, 1]), g.int64s([B, 1, dim])], [{ dtype: 'int64', shape: [B, 1, dim] }])[0];
    const h = op.reshape(g, op.gatherElements(g, f.hidden, index, 1), [B, dim]);
    g.output(op.linear(g, h, f.classifier), LLAMA_IO.logits);
  }
  if (o.withKeyValues) {
    f.present.forEach(({ key, value }, l) => {
      g.output(key, `${LLAMA_IO.presentKey}${l}`);
      g.output(value, `${LLAMA_IO.presentValue}${l}`);
    });
  }
  return { graph: g, trainable: f.trainable, virtualLength: f.virtualLength };
}

/**
 * Training graph: masked next-token loss, its gradients w.r.t. the trainable inputs (outputs
 * `grad_<input name>`), and the per-example values eval needs. Token t (t ≥ 1) is predicted from sequence position P+t−1;
 * loss_mask[b, t] = 1 marks token t as predicted. loss = Σ mask·NLL / Σ mask over the batch.
 */
export interface TrainingGraphOptions extends LlamaGraphOptions {
  /** false builds the same graph without the backward pass (evaluation); default true */
  withGradients?: boolean;
  /** false drops the `predictions` output (an argmax over the vocabulary a training step may not need); default true */
  withPredictions?: boolean;
}

export function buildLlamaTrainingGraph(weights: LlamaWeights, o: TrainingGraphOptions): LlamaGraph {
  if (o.seqLen < 2) throw new Error(`llama training graph: seqLen ${o.seqLen} leaves no token to predict`);
  const f = buildForward(weights, 'llama_training', o);
  const { g, tokens } = f;
  const dtype = o.dtype ?? 'float32';
  const { batch: B, seqLen: T } = o;
  const P = f.virtualLength;
  const lossMask = g.input(LLAMA_IO.lossMask, dtype, [B, T]);

  const logits = op.linear(g, op.slice(g, f.hidden, 1, P, P + T - 1), f.classifier); // [B, T-1, vocab]
  const targets = op.reshape(g, op.slice(g, tokens, 1, 1, T), [B, T - 1, 1]);
  const nll = op.reshape(g, op.targetNll(g, logits, targets), [B, T - 1]);
  const mask = op.slice(g, lossMask, 1, 1, T);
  const exampleNll = op.reduceSum(g, op.mul(g, nll, mask), [1]);
  const exampleTokens = op.reduceSum(g, mask, [1]);
  const loss = op.div(g, op.reduceSum(g, exampleNll, [0]), op.reduceSum(g, exampleTokens, [0]));

  const grads = o.withGradients !== false && f.trainable.length > 0 ? gradients(g, loss, f.trainable) : [];
  g.output(loss, LLAMA_IO.loss);
  grads.forEach((d, i) => g.output(d, `${LLAMA_IO.gradPrefix}${f.trainable[i].name}`));
  g.output(exampleNll, LLAMA_IO.exampleNll);
  g.output(exampleTokens, LLAMA_IO.exampleTokens);
  if (o.withPredictions !== false) g.output(op.argmax(g, logits, -1), LLAMA_IO.predictions);
  return { graph: g, trainable: f.trainable, virtualLength: P };
}
