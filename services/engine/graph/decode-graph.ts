/**
 * The key/value-cache step graph for serving: `slots` sequences × `chunk` new tokens each, every
 * slot attending to its own cached keys/values [slots, nKvHeads, cacheLength, headDim] (graph
 * inputs the caller feeds from its buffers) and causally to its new tokens. The same layers as the
 * full-sequence graph (decoder-graph.ts's decoderLayer); what differs is where positions come from
 * (fed per token: RoPE tables gathered, learned positions added by the caller to the input rows)
 * and the mask (fed per step: it encodes each slot's valid cache length and sliding window).
 * Outputs the logits at one chosen new token per slot, the new tokens' keys (after k-norm and RoPE,
 * exactly as `present_key_` of the full graph) and values, and optionally the log-probability of
 * given next tokens at every new position (scoring). The frozen weights are the model's weight
 * bank's (weight-bank.ts), bound inputs every step session is fed from the same buffers; the query
 * scale is applied the bank's way by `qkNorms` (q-norm weight, or a Mul on q) before `rotate`.
 */
import type { DecoderModel } from '../model/weights.js';
import { weightName } from '../model/weights.js';
import { isSlidingLayer } from '../model/spec.js';
import { GraphBuilder, type Value } from './builder.js';
import { classify, decoderLayer, decoderParts, mergeHeads, qkNorms, rotate } from './decoder-graph.js';
import * as op from './ops/index.js';
import { transposeLast2 } from './ops/transpose.js';
import { halfSwap, ropeTables } from './rope.js';
import type { HeldPrecision } from './weight-bank.js';

/**
 * softmax(q·[K_past; K_new]ᵀ + mask)·[V_past; V_new] without concatenating the cache: the scores
 * against the past and the new keys are joined (small: rows × (L + C)), and the probabilities split
 * back, so the cache is only read by two MatMuls, never copied. The softcap, as in op.attention,
 * applies to the raw scores before the mask.
 */
function cachedAttention(g: GraphBuilder, q: Value, [kPast, kNew]: Value[], [vPast, vNew]: Value[], mask: Value, softcap?: number): Value {
  const L = kPast.shape[2];
  const C = kNew.shape[2];
  let scores = op.concat(g, [op.matmul(g, q, transposeLast2(g, kPast)), op.matmul(g, q, transposeLast2(g, kNew))], 3);
  if (softcap !== undefined) scores = op.scale(g, op.tanh(g, op.scale(g, scores, 1 / softcap)), softcap);
  const [pPast, pNew] = op.split(g, op.softmax(g, op.add(g, scores, mask)), 3, [L, C]);
  return op.add(g, op.matmul(g, pPast, vPast), op.matmul(g, pNew, vNew));
}

export const STEP_IO = {
  /** [S, C, dim] float32: each new position's input row (scaled token embedding or virtual token, plus a learned position) */
  embeddings: 'embeddings',
  /** [S, C] int64: each new token's absolute position (RoPE specs only) */
  positions: 'rope_positions',
  /** [S, 1, group·C, L+C] float32 additive mask over cache columns then new columns (0 visible, −1e9 hidden) */
  mask: 'attention_mask',
  /** the same for sliding-window layers */
  windowMask: 'window_mask',
  /** [S] int64: index within the chunk of the token whose logits `logits` returns */
  last: 'last',
  /** [S, C] int64: the token following each new position (scoring graphs) */
  targets: 'targets',
  /** past_key_<l> / past_value_<l> [S, nKvHeads, L, headDim] */
  pastKey: 'past_key_',
  pastValue: 'past_value_',
  /** [S, vocab] */
  logits: 'logits',
  /** new_key_<l> / new_value_<l> [S, nKvHeads, C, headDim] */
  newKey: 'new_key_',
  newValue: 'new_value_',
  /** [S, C]: log p(targets[s, c] | everything up to new token c) */
  tokenLogprobs: 'token_logprobs',
} as const;

export interface StepGraphOptions {
  slots: number;
  chunk: number;
  cacheLength: number;
  /** adds the `targets` input and the `token_logprobs` output */
  scoring?: boolean;
  /** the precision the model's weight bank holds its matrices in (default: the loaded model's) */
  weightsHeld?: HeldPrecision;
}

export function buildStepGraph(model: DecoderModel, o: StepGraphOptions): GraphBuilder {
  const { spec } = model;
  const { slots: S, chunk: C, cacheLength: L } = o;
  const { dim, headDim: hs, nHeads, nKvHeads } = spec;
  const group = nHeads / nKvHeads;
  const g = new GraphBuilder('decoder_step');
  const parts = decoderParts(g, model, 'float32', o.weightsHeld);

  const rows = g.input(STEP_IO.embeddings, 'float32', [S, C, dim]);
  const rope = spec.positions.kind === 'rope' ? spec.positions : undefined;
  const positions = rope ? g.input(STEP_IO.positions, 'int64', [S, C]) : undefined;
  const swap = rope ? parts.init('rope_swap', halfSwap(hs, rope.rotaryDim), [hs, hs]) : undefined;
  const tables = new Map<boolean, { cos: Value; sin: Value }>();
  // tables over the whole context, gathered at each new token's position: [S, 1, C, hs], broadcast over heads
  const ropeAt = (local: boolean): { cos: Value; sin: Value } => {
    const key = local && rope?.localTheta !== undefined;
    const hit = tables.get(key);
    if (hit) return hit;
    const all = Array.from({ length: spec.contextLength }, (_, p) => p);
    const { cos, sin } = ropeTables(spec, all, key);
    const suffix = key ? '_local' : '';
    const at = (name: string, table: Float64Array): Value =>
      op.reshape(g, op.gather(g, parts.init(name, table, [spec.contextLength, hs]), positions!), [S, 1, C, hs]);
    const made = { cos: at(`rope_cos${suffix}`, cos), sin: at(`rope_sin${suffix}`, sin) };
    tables.set(key, made);
    return made;
  };
  const masks = new Map<boolean, Value>();
  const maskFor = (sliding: boolean): Value => {
    let m = masks.get(sliding);
    if (!m) {
      m = g.input(sliding ? STEP_IO.windowMask : STEP_IO.mask, 'float32', [S, 1, group * C, L + C]);
      masks.set(sliding, m);
    }
    return m;
  };

  let x = op.reshape(g, rows, [S * C, dim]);
  for (let l = 0; l < spec.nLayers; l++) {
    const sliding = isSlidingLayer(spec, l);
    x = decoderLayer(parts, l, x, S, C, (heads) => {
      const [qRaw, kRaw, v] = op.split(g, heads, 1, [nHeads, nKvHeads, nKvHeads]);
      let [q, k] = qkNorms(parts, l, qRaw, kRaw);
      if (rope) {
        const t = ropeAt(sliding);
        q = rotate(g, q, t.cos, t.sin, swap!);
        k = rotate(g, k, t.cos, t.sin, swap!);
      }
      g.output(k, `${STEP_IO.newKey}${l}`);
      g.output(v, `${STEP_IO.newValue}${l}`);
      const pastKeys = g.input(`${STEP_IO.pastKey}${l}`, 'float32', [S, nKvHeads, L, hs]);
      const pastValues = g.input(`${STEP_IO.pastValue}${l}`, 'float32', [S, nKvHeads, L, hs]);
      const qG = op.reshape(g, q, [S, nKvHeads, group * C, hs]);
      const attn = cachedAttention(g, qG, [pastKeys, k], [pastValues, v], maskFor(sliding), spec.attention.logitSoftcap);
      return mergeHeads(g, op.reshape(g, attn, [S, nHeads, C, hs]));
    });
  }

  const hidden = op.reshape(g, x, [S, C, dim]);
  const last = g.input(STEP_IO.last, 'int64', [S]);
  const index = g.node('Expand', [op.reshape(g, last, [S, 1, 1]), g.int64s([S, 1, dim])], [{ dtype: 'int64', shape: [S, 1, dim] }])[0];
  const atLast = (v: Value): Value => op.reshape(g, op.gatherElements(g, v, index, 1), [S, dim]);
  const finalNorm = (v: Value): Value => parts.norm(v, weightName.finalNorm);
  const classifier = parts.classifier();
  if (!o.scoring) {
    // the norm is per row: normalizing only the chosen rows gives the same logits for less work
    g.output(classify(g, spec, finalNorm(atLast(hidden)), classifier), STEP_IO.logits);
    return g;
  }
  const normed = finalNorm(hidden);
  g.output(classify(g, spec, atLast(normed), classifier), STEP_IO.logits);
  const targets = g.input(STEP_IO.targets, 'int64', [S, C]);
  const nll = op.targetNll(g, classify(g, spec, normed, classifier), op.reshape(g, targets, [S, C, 1]));
  g.output(op.neg(g, op.reshape(g, nll, [S, C])), STEP_IO.tokenLogprobs);
  return g;
}
