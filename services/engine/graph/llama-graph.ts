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
   * as in a KV cache; shared by the whole batch) and the inputs to train.
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

/** W (out, in) row-major → W^T (in, out), so that x · W^T is a plain MatMul. */
function transposed(rows: readonly Float32Array[], inDim: number, dtype: FloatDType): Float32Array | Float64Array {
  const outDim = rows.reduce((n, r) => n + r.length / inDim, 0);
  const out = dtype === 'float32' ? new Float32Array(inDim * outDim) : new Float64Array(inDim * outDim);
  let o0 = 0;
  for (const w of rows) {
    const n = w.length / inDim;
    for (let o = 0; o < n; o++) for (let i = 0; i < inDim; i++) out[i * outDim + o0 + o] = w[o * inDim + i];
    o0 += n;
  }
  return out;
}

/**
 * Rows of W (out, in) for x·R where R rotates adjacent pairs by +90°: (x·R)[2i] = −x[2i+1],
 * (x·R)[2i+1] = x[2i]. RoPE then becomes q·cos + (x·W^T R)·sin, all elementwise.
 */
function rotatedRows(w: Float32Array, inDim: number, scale: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < w.length / inDim; r += 2) {
    for (let i = 0; i < inDim; i++) {
      out[r * inDim + i] = -w[(r + 1) * inDim + i] * scale;
      out[(r + 1) * inDim + i] = w[r * inDim + i] * scale;
    }
  }
  return out;
}

const scaled = (w: Float32Array, s: number): Float32Array => (s === 1 ? w : w.map((x) => x * s));

/** cos and sin of pos·theta^(−2i/headSize), repeated for both entries of pair i: [S, 1, headSize]. */
function ropeTables(g: GraphBuilder, c: LlamaConfig, dtype: FloatDType, positions: number[]): { cos: Value; sin: Value } {
  const hs = headSize(c);
  const cos = new Float64Array(positions.length * hs);
  const sin = new Float64Array(positions.length * hs);
  positions.forEach((pos, s) => {
    for (let j = 0; j < hs; j++) {
      const angle = pos * Math.pow(c.ropeTheta, -(2 * Math.floor(j / 2)) / hs);
      cos[s * hs + j] = Math.cos(angle);
      sin[s * hs + j] = Math.sin(angle);
    }
  });
  const table = (name: string, d: Float64Array): Value =>
    g.initializer(name, dtype === 'float32' ? Float32Array.from(d) : d, [positions.length, 1, hs]);
  return { cos: table('rope_cos', cos), sin: table('rope_sin', sin) };
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

function rmsNorm(g: GraphBuilder, x: Value, weight: Value, eps: number): Value {
  const meanSquare = op.reduceMean(g, op.pow(g, x, 2), [-1], true);
  const normed = op.div(g, x, op.sqrt(g, op.add(g, meanSquare, g.scalar(x.dtype, eps))));
  return op.mul(g, normed, weight);
}

const rope = (g: GraphBuilder, x: Value, xRotated: Value, t: { cos: Value; sin: Value }): Value =>
  op.add(g, op.mul(g, x, t.cos), op.mul(g, xRotated, t.sin));

interface Forward {
  g: GraphBuilder;
  tokens: Value;
  /** final-normed hidden states [B, P+T, dim] */
  hidden: Value;
  /** classifier W^T [dim, vocab] */
  classifier: Value;
  trainable: Value[];
  virtualLength: number;
}

function buildForward(weights: LlamaWeights, name: string, o: LlamaGraphOptions): Forward {
  const c = weights.config;
  const dtype = o.dtype ?? 'float32';
  const { batch: B, seqLen: T } = o;
  const hs = headSize(c);
  const group = c.nHeads / c.nKvHeads;
  const qDim = c.nHeads * hs;
  const kvDim = c.nKvHeads * hs;
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
  if (virtual) x = op.concat(g, [op.expand(g, virtual.embeddings, [B, P, c.dim]), x], 1);

  const rot = ropeTables(g, c, dtype, Array.from({ length: S }, (_, s) => Pp + s));
  const mask = causalMask(g, dtype, group, S, Pp);
  const qScale = 1 / Math.sqrt(hs); // folded into the query projection

  weights.layers.forEach((L, l) => {
    const init = (n: string, data: Float32Array | Float64Array, dims: number[]): Value => g.initializer(`layer${l}.${n}`, data, dims);
    const attnNorm = init('attn_norm', cast(L.attnNorm, dtype), [c.dim]);
    // one projection for q, rotated q, k, rotated k, v
    const wqkv = init(
      'wqkv_t',
      transposed(
        [scaled(L.wq.data, qScale), rotatedRows(L.wq.data, c.dim, qScale), L.wk.data, rotatedRows(L.wk.data, c.dim, 1), L.wv.data],
        c.dim,
        dtype,
      ),
      [c.dim, 2 * qDim + 3 * kvDim],
    );
    const wo = init('wo_t', transposed([L.wo.data], qDim, dtype), [qDim, c.dim]);
    const ffnNorm = init('ffn_norm', cast(L.ffnNorm, dtype), [c.dim]);
    const w13 = init('w13_t', transposed([L.w1.data, L.w3.data], c.dim, dtype), [c.dim, 2 * c.hiddenDim]);
    const w2 = init('w2_t', transposed([L.w2.data], c.hiddenDim, dtype), [c.hiddenDim, c.dim]);

    // attention
    const h = rmsNorm(g, x, attnNorm, c.normEps);
    const [q, qr, k, kr, v] = op.split(g, op.matmul(g, h, wqkv), -1, [qDim, qDim, kvDim, kvDim, kvDim]);
    const heads = (t: Value, n: number): Value => op.reshape(g, t, [B, S, n, hs]);
    const qRot = rope(g, heads(q, c.nHeads), heads(qr, c.nHeads), rot); // [B, S, nH, hs]
    const kRot = rope(g, heads(k, c.nKvHeads), heads(kr, c.nKvHeads), rot); // [B, S, nKv, hs]
    // query heads of one KV head are adjacent: [B, nH, S, hs] → [B, nKv, group·S, hs]
    const qG = op.reshape(g, op.transpose(g, qRot, [0, 2, 1, 3]), [B, c.nKvHeads, group * S, hs]);
    let kT = op.transpose(g, kRot, [0, 2, 3, 1]); // [B, nKv, hs, S]
    let vH = op.transpose(g, heads(v, c.nKvHeads), [0, 2, 1, 3]); // [B, nKv, S, hs]
    if (past) {
      const { key, value } = past.layers[l];
      kT = op.concat(g, [op.expand(g, op.transpose(g, key, [0, 2, 1]), [B, c.nKvHeads, hs, Pp]), kT], 3);
      vH = op.concat(g, [op.expand(g, value, [B, c.nKvHeads, Pp, hs]), vH], 2);
    }
    const probs = op.softmax(g, op.add(g, op.matmul(g, qG, kT), mask)); // [B, nKv, group·S, Pp+S]
    const attn = op.reshape(g, op.matmul(g, probs, vH), [B, c.nHeads, S, hs]);
    const merged = op.reshape(g, op.transpose(g, attn, [0, 2, 1, 3]), [B, S, qDim]);
    x = op.add(g, x, op.matmul(g, merged, wo));

    // SwiGLU feed-forward
    const h2 = rmsNorm(g, x, ffnNorm, c.normEps);
    const [gate, up] = op.split(g, op.matmul(g, h2, w13), -1, [c.hiddenDim, c.hiddenDim]);
    const silu = op.mul(g, gate, op.sigmoid(g, gate));
    x = op.add(g, x, op.matmul(g, op.mul(g, silu, up), w2));
  });

  const outputNorm = g.initializer('output_norm', cast(weights.outputNorm, dtype), [c.dim]);
  const hidden = rmsNorm(g, x, outputNorm, c.normEps);
  const classifier = g.initializer('output_t', transposed([weights.output.data], c.dim, dtype), [c.dim, c.vocabSize]);
  const trainable = [...(virtual?.trainable ?? []), ...(past?.trainable ?? [])];
  return { g, tokens, hidden, classifier, trainable, virtualLength: P };
}

export interface InferenceOptions extends LlamaGraphOptions {
  /**
   * 'all': `logits` [B, P+T, vocab] at every position (virtual ones included);
   * 'at-positions': input `positions` [B] (token index t per example) and `logits` [B, vocab]
   * at sequence position P+t, e.g. each example's last real token.
   */
  logits?: 'all' | 'at-positions';
}

/** Forward graph: tokens (+ trainable inputs as plain inputs) → logits. */
export function buildLlamaInferenceGraph(weights: LlamaWeights, o: InferenceOptions): LlamaGraph {
  const f = buildForward(weights, 'llama_inference', o);
  const { g } = f;
  const [B, , dim] = f.hidden.shape;
  if ((o.logits ?? 'all') === 'all') {
    g.output(op.matmul(g, f.hidden, f.classifier), LLAMA_IO.logits);
  } else {
    const positions = g.input(LLAMA_IO.positions, 'int64', [B]);
    const at = op.add(g, positions, g.scalar('int64', f.virtualLength));
    const index = g.node('Expand', [op.reshape(g, at, [B, 1, 1]), g.int64s([B, 1, dim])], [{ dtype: 'int64', shape: [B, 1, dim] }])[0];
    const h = op.reshape(g, op.gatherElements(g, f.hidden, index, 1), [B, dim]);
    g.output(op.matmul(g, h, f.classifier), LLAMA_IO.logits);
  }
  return { graph: g, trainable: f.trainable, virtualLength: f.virtualLength };
}

/**
 * Training graph: masked next-token loss, its gradients w.r.t. the trainable inputs, and the
 * per-example values eval needs. Token t (t ≥ 1) is predicted from sequence position P+t−1;
 * loss_mask[b, t] = 1 marks token t as predicted. loss = Σ mask·NLL / Σ mask over the batch.
 */
export function buildLlamaTrainingGraph(weights: LlamaWeights, o: LlamaGraphOptions): LlamaGraph {
  if (o.seqLen < 2) throw new Error(`llama training graph: seqLen ${o.seqLen} leaves no token to predict`);
  const f = buildForward(weights, 'llama_training', o);
  const { g, tokens } = f;
  const dtype = o.dtype ?? 'float32';
  const { batch: B, seqLen: T } = o;
  const P = f.virtualLength;
  const lossMask = g.input(LLAMA_IO.lossMask, dtype, [B, T]);

  const logits = op.matmul(g, op.slice(g, f.hidden, 1, P, P + T - 1), f.classifier); // [B, T-1, vocab]
  const targets = op.reshape(g, op.slice(g, tokens, 1, 1, T), [B, T - 1, 1]);
  const logProbs = op.logSoftmax(g, logits, -1);
  const nll = op.neg(g, op.reshape(g, op.gatherElements(g, logProbs, targets, 2), [B, T - 1]));
  const mask = op.slice(g, lossMask, 1, 1, T);
  const exampleNll = op.reduceSum(g, op.mul(g, nll, mask), [1]);
  const exampleTokens = op.reduceSum(g, mask, [1]);
  const loss = op.div(g, op.reduceSum(g, exampleNll, [0]), op.reduceSum(g, exampleTokens, [0]));

  const grads = f.trainable.length > 0 ? gradients(g, loss, f.trainable) : [];
  g.output(loss, LLAMA_IO.loss);
  grads.forEach((d, i) => g.output(d, `${LLAMA_IO.gradPrefix}${f.trainable[i].name}`));
  g.output(exampleNll, LLAMA_IO.exampleNll);
  g.output(exampleTokens, LLAMA_IO.exampleTokens);
  g.output(op.argmax(g, logits, -1), LLAMA_IO.predictions);
  return { graph: g, trainable: f.trainable, virtualLength: P };
}
