/**
 * The frozen decoder's forward pass as a static-shape ONNX graph, built from a ModelSpec and the
 * canonical weights (../model/weights.ts), read top to bottom:
 * embeddings (virtual tokens first; learned positions added) → nLayers × (norm, attention with
 * RoPE / GQA / q-k norms / softcap / sliding window, [post-attention norm], norm, feed-forward,
 * [post-feed-forward norm]) → final norm → classifier [→ final softcap]; plus the masked
 * next-token loss and its gradients for training. Every family is a spec: nothing here branches
 * on `spec.family`.
 */
import type { DecoderModel } from '../model/weights.js';
import { weightName, type LayerPart } from '../model/weights.js';
import { isSlidingLayer, type ModelSpec } from '../model/spec.js';
import { gradients, type RecomputedSegment } from './autodiff.js';
import { GraphBuilder, type Value } from './builder.js';
import type { FloatDType } from './dtype.js';
import * as op from './ops/index.js';
import { halfSwap, ropeTables } from './rope.js';
import { BLOCK } from './quantized.js';
import { isStored, widenedFrom, type Weight } from './stored-weight.js';
import { type HeldPrecision, quantBits, WeightBank } from './weight-bank.js';

/** What a virtual-token source sees of the model it feeds. */
export interface ModelContext {
  spec: ModelSpec;
  dtype: FloatDType;
  batch: number;
  /** the frozen token-embedding table [vocab, dim], unscaled (P-tuning / text init may read it in-graph) */
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
  /** number of prefix positions; real tokens' positions start after them */
  readonly length: number;
  /**
   * Returns, for each layer, key and value [nKvHeads, length, headDim] as Hugging Face attention
   * consumes `past_key_values`: keys after the k-norm and after RoPE (never rotated again), in
   * rotate-half layout; shared by the whole batch; and the inputs to train.
   */
  build(g: GraphBuilder, ctx: ModelContext): { layers: { key: Value; value: Value }[]; trainable: Value[] };
}

/** Prompt tuning: one trainable graph input `prompt_embeddings` [P, dim], PEFT's key and layout. */
export function promptTuning(numVirtualTokens: number): VirtualTokens {
  return {
    length: numVirtualTokens,
    build(g, { spec, dtype }) {
      const p = g.input('prompt_embeddings', dtype, [numVirtualTokens, spec.dim]);
      return { embeddings: p, trainable: [p] };
    },
  };
}

export interface DecoderGraphOptions {
  batch: number;
  /** T: tokens per example (BOS included), right-padded */
  seqLen: number;
  /** 'float32' (default) or 'float64' (gradient checks) */
  dtype?: FloatDType;
  virtualTokens?: VirtualTokens;
  pastKeyValues?: PastKeyValues;
  /** the precision the model's weight bank holds its matrices in (default f32); 16-bit ones are widened per use */
  weightsHeld?: HeldPrecision;
  /**
   * Gradient checkpointing: the backward recomputes each layer's forward from the layer's input
   * instead of keeping its intermediates (training graphs; default false)
   */
  recompute?: boolean;
}

/** Graph input and output names shared by the inference and training graphs. */
export const GRAPH_IO = {
  tokens: 'tokens', // [B, T] int64
  lossMask: 'loss_mask', // [B, T] float, 1 where the token is predicted (column 0 is ignored)
  positions: 'positions', // [B] int64, token index whose logits to return ('at-positions' mode)
  logits: 'logits',
  loss: 'loss', // [] mean NLL over masked tokens of the batch
  exampleNll: 'example_nll', // [B] summed NLL of each example's masked tokens
  exampleTokens: 'example_tokens', // [B] masked tokens per example
  predictions: 'predictions', // [B, T-1] int64: argmax predicting token t+1 (from token t's position)
  gradPrefix: 'grad_', // gradient outputs are named grad_<trainable input name>
  presentKey: 'present_key_', // present_key_<layer> [B, nKvHeads, P+T, headDim]: keys after k-norm and RoPE ('withKeyValues')
  presentValue: 'present_value_', // present_value_<layer> [B, nKvHeads, P+T, headDim]
} as const;

export interface DecoderGraph {
  graph: GraphBuilder;
  /** trainable graph inputs, in the order their gradients are output */
  trainable: Value[];
  /** number of virtual tokens before the real ones in the sequence (P) */
  virtualLength: number;
}

const negativeInfinity = -1e9; // additive mask; exp() underflows to exactly 0 in float32 and float64

/**
 * Additive mask for scores laid out [.., group·S, past + S] (query rows of a KV head's query
 * group stacked). Query s (absolute position past + s) sees key column c (absolute position c)
 * when c ≤ past + s and, with a window W, past + s − c < W (Hugging Face's sliding window).
 */
function attentionMask(g: GraphBuilder, name: string, dtype: FloatDType, group: number, seq: number, past: number, window?: number): Value {
  const cols = past + seq;
  const m = dtype === 'float32' ? new Float32Array(group * seq * cols) : new Float64Array(group * seq * cols);
  for (let r = 0; r < group * seq; r++) {
    const q = past + (r % seq);
    for (let c = 0; c < cols; c++) if (c > q || (window !== undefined && q - c >= window)) m[r * cols + c] = negativeInfinity;
  }
  return g.initializer(name, m, [group * seq, cols]);
}

interface Forward {
  g: GraphBuilder;
  tokens: Value;
  /** final-normed hidden states [B, P+T, dim] */
  hidden: Value;
  /** classifier weight [vocab, dim] */
  classifier: Weight;
  trainable: Value[];
  virtualLength: number;
  /** per layer: this sequence's keys (after k-norm and RoPE) and values [B, nKvHeads, P+T, headDim], prefix excluded */
  present: { key: Value; value: Value }[];
  /** the layers the backward recomputes (`recompute`) */
  recomputed: RecomputedSegment[];
}

/** Checks what the graph needs of a spec beyond validateSpec. */
function checkGraphSpec(spec: ModelSpec): void {
  if (spec.nHeads % spec.nKvHeads !== 0)
    throw new Error(`decoder graph: nHeads ${spec.nHeads} must be a multiple of nKvHeads ${spec.nKvHeads}`);
  if (spec.positions.kind === 'rope' && spec.positions.rotaryDim % 2 !== 0)
    throw new Error(`decoder graph: rotaryDim ${spec.positions.rotaryDim} must be even`);
}

/**
 * The one place the decoder graphs read frozen weights, and what reads them: shared by the
 * full-sequence graph here and the key/value-cache step graph (decode-graph.ts). Every weight
 * is the model's weight bank's (weight-bank.ts), a bound graph input declared on first use:
 * nothing is copied into a graph.
 */
export interface DecoderParts {
  g: GraphBuilder;
  spec: ModelSpec;
  dtype: FloatDType;
  /** a small per-shape constant (RoPE tables, masks) as an initializer, in the graph's dtype */
  init(name: string, data: Float32Array | Float64Array, dims: readonly number[]): Value;
  /** a bank matrix (embedding, projections, classifier): an op widens it per use when the bank holds it in 16 bits or quantized */
  matrix(name: string): Weight;
  /** a bank vector (norm weight, bias, learned positions), always in the compute dtype */
  vector(name: string): Value;
  /** the spec's norm of `v` over its last axis with the bank's effective weight (and bias) `prefix` */
  norm(v: Value, prefix: string): Value;
  /** classifier weight [vocab, dim] (the token embedding's input when tied) */
  classifier(): Weight;
}

export function decoderParts(g: GraphBuilder, model: DecoderModel, dtype: FloatDType, held?: HeldPrecision): DecoderParts {
  const { spec } = model;
  checkGraphSpec(spec);
  const bank = WeightBank.of(model, dtype, held);
  const declared = new Map<string, Value>();
  const input = (name: string): Value => {
    let v = declared.get(name);
    if (!v) {
      const t = bank.get(name);
      declared.set(name, (v = g.boundInput(name, t.data, t.dims)));
    }
    return v;
  };
  const matrix = (name: string): Weight => {
    const stored = input(name);
    if (stored.dtype === bank.dtype) return stored;
    const bits = quantBits(bank.held);
    if (!bits) return { stored, name, shape: stored.shape };
    const scales = input(`${name}.scales`);
    return {
      stored,
      name,
      shape: [...scales.shape.slice(0, -1), scales.shape[scales.shape.length - 1] * BLOCK],
      quantized: { scales, bits },
    };
  };
  const vector = (name: string): Value => {
    const v = input(name);
    if (v.dtype !== bank.dtype) throw new Error(`weight bank: "${name}" is held as ${v.dtype}, not ${bank.dtype}`);
    return v;
  };
  const init = (n: string, data: Float32Array | Float64Array, dims: readonly number[]): Value =>
    g.initializer(n, dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data), dims);
  // the bank holds effective norm weights: Gemma's (1 + w), the query scale of a q-norm
  const norm = (v: Value, prefix: string): Value =>
    spec.norm.kind === 'layer'
      ? op.layerNorm(g, v, vector(`${prefix}.weight`), vector(`${prefix}.bias`), spec.norm.eps)
      : op.rmsNorm(g, v, vector(`${prefix}.weight`), spec.norm.eps);
  // a tied classifier is the embedding's input
  const classifier = (): Weight => matrix(spec.embedding.tied ? 'token_embedding' : 'lm_head');
  return { g, spec, dtype, init, matrix, vector, norm, classifier };
}

/**
 * One decoder layer on the residual rows x [B·S, dim]: norm; q, k, v projected heads-first
 * [B, nH+2·nKv, S, hs] by one batched MatMul of the bank's stacked rows (the query scale is not
 * in them: see `qkNorms` and the fused RoPE tables); `attend` (positions, cache, mask: the
 * caller's) returns the merged heads [B·S, nH·hs]; output projection [, post-attention norm],
 * residual; norm, feed-forward [, post-feed-forward norm], residual.
 */
export function decoderLayer(p: DecoderParts, l: number, x: Value, B: number, S: number, attend: (heads: Value) => Value): Value {
  const { g, spec, matrix, vector, norm } = p;
  const { dim } = spec;
  const linear = (v: Value, part: LayerPart, bias: boolean): Value =>
    op.linear(g, v, matrix(weightName.layer(l, part)), bias ? vector(weightName.layer(l, part, 'bias')) : undefined);

  const h = norm(x, `layers.${l}.input_norm`);
  let heads = op.headsLinear(g, op.reshape(g, h, [B, S, dim]), matrix(`layers.${l}.qkv_proj.weight`));
  if (spec.attention.qkvBias) heads = op.add(g, heads, vector(`layers.${l}.qkv_proj.bias`));
  let a = linear(attend(heads), 'o_proj', spec.attention.outBias);
  if (spec.sandwichNorms) a = norm(a, `layers.${l}.post_attention_norm`);
  x = op.add(g, x, a);

  const h2 = norm(x, `layers.${l}.ffn_norm`);
  const bias = spec.ffn.bias;
  let f: Value;
  switch (spec.ffn.kind) {
    case 'swiglu':
      f = op.swiglu(g, linear(h2, 'gate_proj', bias), linear(h2, 'up_proj', bias));
      break;
    case 'geglu_tanh':
      f = op.mul(g, op.geluTanh(g, linear(h2, 'gate_proj', bias)), linear(h2, 'up_proj', bias));
      break;
    case 'gelu_mlp':
      f = op.geluTanh(g, linear(h2, 'up_proj', bias));
      break;
  }
  f = linear(f, 'down_proj', bias);
  if (spec.sandwichNorms) f = norm(f, `layers.${l}.post_ffn_norm`);
  return op.add(g, x, f);
}

/**
 * q and k heads [.., heads, S, hs] before RoPE, through the spec's q-norm and k-norm, with the
 * query scale applied: in the bank's q-norm weight, else by a Mul on q. (The full graph's fused
 * RoPE carries the scale in its q tables instead and does not call this.)
 */
export function qkNorms(p: DecoderParts, l: number, q: Value, k: Value): [Value, Value] {
  const { g, spec, norm } = p;
  if (spec.qkNorm) return [norm(q, `layers.${l}.q_norm`), norm(k, `layers.${l}.k_norm`)];
  const scale = spec.attention.queryScale;
  return [scale === 1 ? q : op.scale(g, q, scale), k];
}

/** Merges attention heads [B, nH, S, hs] into rows [B·S, nH·hs] for the output projection. */
export function mergeHeads(g: GraphBuilder, attn: Value): Value {
  const [B, nH, S, hs] = attn.shape;
  return op.reshape(g, op.transpose(g, attn, [0, 2, 1, 3]), [B * S, nH * hs]);
}

function buildForward(model: DecoderModel, name: string, o: DecoderGraphOptions): Forward {
  const { spec } = model;
  const dtype = o.dtype ?? 'float32';
  const { batch: B, seqLen: T } = o;
  const { dim, headDim: hs, nHeads, nKvHeads } = spec;
  const group = nHeads / nKvHeads;
  const g = new GraphBuilder(name);
  const parts = decoderParts(g, model, dtype, o.weightsHeld);
  const { init } = parts;
  const embedding = parts.matrix('token_embedding');
  let wideEmbedding: Value | undefined;
  const ctx: ModelContext = {
    spec,
    dtype,
    batch: B,
    // widened only if a source reads it
    get tokenEmbedding() {
      return (wideEmbedding ??= isStored(embedding) ? widenedFrom(g, embedding, embedding.stored, dtype) : embedding);
    },
  };

  const tokens = g.input(GRAPH_IO.tokens, 'int64', [B, T]);
  // a source of length 0 is the plain model
  const virtual = o.virtualTokens?.length ? o.virtualTokens.build(g, ctx) : undefined;
  const past = o.pastKeyValues?.length ? o.pastKeyValues.build(g, ctx) : undefined;
  const P = virtual ? o.virtualTokens!.length : 0;
  const Pp = past ? o.pastKeyValues!.length : 0;
  const S = P + T;
  if (Pp + S > spec.contextLength)
    throw new Error(`decoder graph: ${Pp}+${P}+${T} positions exceed the context length ${spec.contextLength}`);
  const positions = Array.from({ length: S }, (_, s) => Pp + s);

  // a 16-bit or quantized table is gathered as stored; only the rows are widened
  const rows = (table: Value): Value => op.gather(g, table, tokens);
  let x = isStored(embedding)
    ? widenedFrom(g, embedding, rows(embedding.stored), dtype, embedding.quantized && rows(embedding.quantized.scales))
    : rows(embedding); // [B, T, dim]
  // Gemma scales the embedding module's output: real tokens only; virtual tokens enter as PEFT feeds inputs_embeds (see README)
  if (spec.embedding.scale !== undefined) x = op.scale(g, x, Math.fround(spec.embedding.scale));
  if (virtual) x = op.concat(g, [op.expand(g, virtual.embeddings, [B, P, dim]), x], 1);
  if (spec.positions.kind === 'learned') x = op.add(g, x, op.slice(g, parts.vector('position_embedding'), 0, Pp, Pp + S));

  // RoPE(x) = x·cos + (x·R)·sin, R swapping the rotary halves by one small MatMul (a Slice reversing
  // the halves was slower); tables per kind of layer (Gemma 3's local layers have their own theta)
  const rope = spec.positions.kind === 'rope' ? spec.positions : undefined;
  const qScale = spec.attention.queryScale;
  const fusedRope = rope !== undefined && !spec.qkNorm;
  const swap = rope ? init('rope_swap', halfSwap(hs, rope.rotaryDim), [hs, hs]) : undefined;
  const tables = new Map<boolean, { cos: Value; sin: Value }>();
  const ropeTable = (local: boolean): { cos: Value; sin: Value } => {
    const key = local && rope?.localTheta !== undefined;
    const hit = tables.get(key);
    if (hit) return hit;
    const { cos, sin } = ropeTables(spec, positions, key);
    const suffix = key ? '_local' : '';
    let made: { cos: Value; sin: Value };
    if (fusedRope) {
      // q, k and v heads in one tensor [B, nH+2·nKv, S, hs]: v heads get cos 1 and sin 0, which
      // pass them through exactly; q heads' cos and sin carry the query scale (RoPE is linear in x)
      const heads = nHeads + 2 * nKvHeads;
      const c = new Float64Array(heads * S * hs);
      const s = new Float64Array(heads * S * hs);
      for (let h = 0; h < heads; h++) {
        const at = h * S * hs;
        if (h < nHeads) {
          cos.forEach((v, i) => (c[at + i] = v * qScale));
          sin.forEach((v, i) => (s[at + i] = v * qScale));
        } else if (h < nHeads + nKvHeads) {
          c.set(cos, at);
          s.set(sin, at);
        } else c.fill(1, at, at + S * hs);
      }
      made = { cos: init(`rope_cos${suffix}`, c, [heads, S, hs]), sin: init(`rope_sin${suffix}`, s, [heads, S, hs]) };
    } else {
      made = { cos: init(`rope_cos${suffix}`, cos, [S, hs]), sin: init(`rope_sin${suffix}`, sin, [S, hs]) };
    }
    tables.set(key, made);
    return made;
  };
  const applyRope = (v: Value, t: { cos: Value; sin: Value }): Value => rotate(g, v, t.cos, t.sin, swap!);

  const masks = new Map<number | undefined, Value>();
  const maskFor = (window: number | undefined): Value => {
    const hit = masks.get(window);
    if (hit) return hit;
    const m = attentionMask(g, window === undefined ? 'causal_mask' : `window_mask_${window}`, dtype, group, S, Pp, window);
    masks.set(window, m);
    return m;
  };

  const present: { key: Value; value: Value }[] = [];
  // the residual stream stays [B·S, dim] through the layers: every projection is then a Gemm on
  // its rows without a Reshape before and after it (forward and backward)
  x = op.reshape(g, x, [B * S, dim]);
  const layer = (input: Value, l: number): { output: Value; key: Value; value: Value } => {
    const sliding = isSlidingLayer(spec, l);
    // this sequence's keys and values, before the prefix is joined
    let kv!: { key: Value; value: Value };
    const output = decoderLayer(parts, l, input, B, S, (heads) => {
      let q: Value;
      let kH: Value;
      let vH: Value;
      if (fusedRope) {
        [q, kH, vH] = op.split(g, applyRope(heads, ropeTable(sliding)), 1, [nHeads, nKvHeads, nKvHeads]);
      } else {
        [q, kH, vH] = op.split(g, heads, 1, [nHeads, nKvHeads, nKvHeads]);
        [q, kH] = qkNorms(parts, l, q, kH);
        if (rope) {
          const t = ropeTable(sliding);
          q = applyRope(q, t);
          kH = applyRope(kH, t);
        }
      }
      kv = { key: kH, value: vH };
      if (past) {
        const prefix = past.layers[l];
        kH = op.concat(g, [op.expand(g, prefix.key, [B, nKvHeads, Pp, hs]), kH], 2);
        vH = op.concat(g, [op.expand(g, prefix.value, [B, nKvHeads, Pp, hs]), vH], 2);
      }
      // query heads of one KV head are adjacent: [B, nH, S, hs] → [B, nKv, group·S, hs] (K/V never repeated)
      const qG = op.reshape(g, q, [B, nKvHeads, group * S, hs]);
      const mask = maskFor(sliding ? spec.attention.slidingWindow : undefined);
      return mergeHeads(g, op.reshape(g, op.attention(g, qG, kH, vH, mask, spec.attention.logitSoftcap), [B, nHeads, S, hs]));
    });
    return { output, ...kv };
  };
  const recomputed: RecomputedSegment[] = [];
  for (let l = 0; l < spec.nLayers; l++) {
    const first = g.nodes.length;
    const { output, key, value } = layer(x, l);
    present.push({ key, value });
    // with recompute, the backward rebuilds the layer from its input (autodiff.ts)
    if (o.recompute) recomputed.push({ first, last: g.nodes.length - 1, input: x, output, rebuild: (_, input) => layer(input, l).output });
    x = output;
  }

  const hidden = op.reshape(g, parts.norm(x, weightName.finalNorm), [B, S, dim]);
  const trainable = [...(virtual?.trainable ?? []), ...(past?.trainable ?? [])];
  return { g, tokens, hidden, classifier: parts.classifier(), trainable, virtualLength: P, present, recomputed };
}

/** RoPE(x) = x·cos + (x·R)·sin, with R the half-swap matrix (rope.ts). */
export function rotate(g: GraphBuilder, v: Value, cos: Value, sin: Value, swap: Value): Value {
  return op.add(g, op.mul(g, v, cos), op.mul(g, op.matmul(g, v, swap), sin));
}

/** Logits of hidden states [..., dim] → [..., vocab], soft-capped when the spec says so. */
export function classify(g: GraphBuilder, spec: ModelSpec, hidden: Value, classifier: Weight): Value {
  const logits = op.linear(g, hidden, classifier);
  return spec.finalLogitSoftcap === undefined ? logits : op.softcap(g, logits, spec.finalLogitSoftcap);
}

export interface InferenceOptions extends DecoderGraphOptions {
  /**
   * 'all': `logits` [B, P+T, vocab] at every position (virtual ones included);
   * 'at-positions': input `positions` [B] (token index t per example) and `logits` [B, vocab]
   * at sequence position P+t, e.g. each example's last real token.
   */
  logits?: 'all' | 'at-positions';
  /**
   * Also output every layer's keys (after k-norm and RoPE, rotate-half layout) and values of the
   * sequence, `present_key_<l>` / `present_value_<l>` [B, nKvHeads, P+T, headDim]: a KV cache,
   * e.g. to start a prefix from real tokens.
   */
  withKeyValues?: boolean;
}

/** Forward graph: tokens (+ trainable inputs as plain inputs) → logits. */
export function buildInferenceGraph(model: DecoderModel, o: InferenceOptions): DecoderGraph {
  const f = buildForward(model, 'decoder_inference', o);
  const { g } = f;
  const [B, , dim] = f.hidden.shape;
  if ((o.logits ?? 'all') === 'all') {
    g.output(classify(g, model.spec, f.hidden, f.classifier), GRAPH_IO.logits);
  } else {
    const positions = g.input(GRAPH_IO.positions, 'int64', [B]);
    const at = op.add(g, positions, g.scalar('int64', f.virtualLength));
    const index = g.node('Expand', [op.reshape(g, at, [B, 1, 1]), g.int64s([B, 1, dim])], [{ dtype: 'int64', shape: [B, 1, dim] }])[0];
    const h = op.reshape(g, op.gatherElements(g, f.hidden, index, 1), [B, dim]);
    g.output(classify(g, model.spec, h, f.classifier), GRAPH_IO.logits);
  }
  if (o.withKeyValues) {
    f.present.forEach(({ key, value }, l) => {
      g.output(key, `${GRAPH_IO.presentKey}${l}`);
      g.output(value, `${GRAPH_IO.presentValue}${l}`);
    });
  }
  return { graph: g, trainable: f.trainable, virtualLength: f.virtualLength };
}

/**
 * Training graph: masked next-token loss, its gradients w.r.t. the trainable inputs (outputs
 * `grad_<input name>`), and the per-example values eval needs. Token t (t ≥ 1) is predicted from sequence position P+t−1;
 * loss_mask[b, t] = 1 marks token t as predicted. loss = Σ mask·NLL / Σ mask over the batch.
 */
export interface TrainingGraphOptions extends DecoderGraphOptions {
  /** false builds the same graph without the backward pass (evaluation); default true */
  withGradients?: boolean;
  /** false drops the `predictions` output (an argmax over the vocabulary a training step may not need); default true */
  withPredictions?: boolean;
}

export function buildTrainingGraph(model: DecoderModel, o: TrainingGraphOptions): DecoderGraph {
  if (o.seqLen < 2) throw new Error(`decoder training graph: seqLen ${o.seqLen} leaves no token to predict`);
  const f = buildForward(model, 'decoder_training', o);
  const { g, tokens } = f;
  const dtype = o.dtype ?? 'float32';
  const { batch: B, seqLen: T } = o;
  const P = f.virtualLength;
  const lossMask = g.input(GRAPH_IO.lossMask, dtype, [B, T]);

  const logits = classify(g, model.spec, op.slice(g, f.hidden, 1, P, P + T - 1), f.classifier); // [B, T-1, vocab]
  const targets = op.reshape(g, op.slice(g, tokens, 1, 1, T), [B, T - 1, 1]);
  const nll = op.reshape(g, op.targetNll(g, logits, targets), [B, T - 1]);
  const mask = op.slice(g, lossMask, 1, 1, T);
  const exampleNll = op.reduceSum(g, op.mul(g, nll, mask), [1]);
  const exampleTokens = op.reduceSum(g, mask, [1]);
  const loss = op.div(g, op.reduceSum(g, exampleNll, [0]), op.reduceSum(g, exampleTokens, [0]));

  const grads = o.withGradients !== false && f.trainable.length > 0 ? gradients(g, loss, f.trainable, f.recomputed) : [];
  g.output(loss, GRAPH_IO.loss);
  grads.forEach((d, i) => g.output(d, `${GRAPH_IO.gradPrefix}${f.trainable[i].name}`));
  g.output(exampleNll, GRAPH_IO.exampleNll);
  g.output(exampleTokens, GRAPH_IO.exampleTokens);
  if (o.withPredictions !== false) g.output(op.argmax(g, logits, -1), GRAPH_IO.predictions);
  return { graph: g, trainable: f.trainable, virtualLength: P };
}
