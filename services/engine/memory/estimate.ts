/**
 * What a run will need, estimated from the spec before any weight is read, so that a model too
 * big for the memory a worker may use is refused with a clear message instead of an
 * out-of-memory kill. An estimate, not a measurement: weights as the weight bank will hold them
 * (every matrix at one precision, vectors and learned positions in float32), float32 activations
 * of the largest (batch, length) the run will see, and a fixed runtime share.
 *
 * Activations of one layer's training step, per token (N = batch · length), as the decoder graph
 * keeps them for the backward pass: the normed inputs (2·dim), q/k/v ((heads + 2·kvHeads)·headDim),
 * the attention output (heads·headDim), the residual stream (2·dim), the feed-forward's gate, up
 * and product (3·hidden). Attention's rule recomputes its probabilities, so the length² terms live
 * only in the layer being worked on: scores, probabilities and, in the backward, their gradients
 * (4·heads·length² per sequence; 2 in a forward-only run). With recomputation only each layer's input (dim per token)
 * stays, and one layer's forward and backward exist at a time. Forward-only runs (eval, generate)
 * keep one layer's. Training holds four logits-sized tensors (logits, log-probabilities, their
 * gradients), a forward run two. Checked against the 1.1B model at 2048 tokens, f16 weights
 * (7 Dec 2026, peak RSS of one step, `npm run bench:engine -- 1b-long` and `1b-16`): 10.9 GiB
 * estimated vs 9.0 GiB, with recomputation 8.5 vs 8.0 GiB; at 256 tokens 3.5 vs 2.9 GiB. The
 * estimate before attention recomputed its probabilities (30 GiB at 2048 tokens) refused that
 * first run on this 24 GiB machine.
 */
import type { ModelSpec } from '../model/spec.js';
import type { WeightInfo } from '../model/weights.js';
import { bankPrecision, heldAsMatrix, heldBytesPerElement, type HeldPrecision, type WeightsDtype } from '../model/weights-dtype.js';
import { WIDEN_BLOCK_BYTES } from '../graph/ops/linear.js';

const F32 = 4;
/** Node, onnxruntime, the tokenizer and the JS heap before any tensor */
export const RUNTIME_BYTES = 320 * 1024 ** 2;

export interface MemoryPlan {
  spec: ModelSpec;
  /** the model's weights as listed by its source (stored dtype per tensor) */
  weights: readonly WeightInfo[];
  weightsDtype: WeightsDtype;
  recompute: boolean;
  /** 'train' keeps activations for the backward pass; 'forward' (eval, generate) does not */
  mode: 'train' | 'forward';
  /** the largest batch the run will see: rows × tokens (virtual tokens included) */
  batch: number;
  seqLen: number;
}

export interface MemoryEstimate {
  /** the precision the bank holds every matrix in */
  held: HeldPrecision;
  weights: number;
  /**
   * held below f32 only: the widest float32 copy made while running, in the forward and again in
   * the backward: the largest layer's matrices, or one block of the classifier's rows (at most
   * 64 MiB, ../graph/ops/linear.ts) when that is larger
   */
  widened: number;
  activations: number;
  /** logits and their log-probabilities for every position */
  logits: number;
  runtime: number;
  total: number;
}

const elements = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export function estimateMemory(plan: MemoryPlan): MemoryEstimate {
  const { spec, batch, seqLen } = plan;
  const held = bankPrecision(plan.weights, plan.weightsDtype);
  let weights = 0;
  const perLayer = new Map<string, number>();
  for (const w of plan.weights) {
    const matrix = heldAsMatrix(w);
    weights += elements(w.dims) * (matrix ? heldBytesPerElement(held) : F32);
    const layer = /^layers\.(\d+)\./.exec(w.name)?.[1];
    if (matrix && layer !== undefined) perLayer.set(layer, (perLayer.get(layer) ?? 0) + elements(w.dims) * F32);
  }
  // the classifier (lm_head or the tied embedding) is widened a block of rows at a time
  const widest = held === 'f32' ? 0 : Math.max(Math.min(spec.vocabSize * spec.dim * F32, WIDEN_BLOCK_BYTES), ...perLayer.values());
  // the forward's widened copy and the backward's
  const widened = widest * (plan.mode === 'train' ? 2 : 1);

  const tokens = batch * seqLen;
  const qkv = (spec.nHeads + 2 * spec.nKvHeads) * spec.headDim;
  const perToken = 4 * spec.dim + qkv + spec.nHeads * spec.headDim + 3 * spec.hiddenDim;
  // scores and probabilities; a training step's backward adds their gradients
  const attention = (plan.mode === 'train' ? 4 : 2) * batch * spec.nHeads * seqLen * seqLen;
  const layer = (tokens * perToken + attention) * F32;
  let activations: number;
  if (plan.mode === 'forward') activations = layer;
  else if (plan.recompute) activations = spec.nLayers * tokens * spec.dim * F32 + 2 * layer;
  else activations = spec.nLayers * tokens * perToken * F32 + layer; // every layer's saved intermediates + the working set
  const logits = (plan.mode === 'train' ? 4 : 2) * tokens * spec.vocabSize * F32;
  const total = weights + widened + activations + logits + RUNTIME_BYTES;
  return { held, weights, widened, activations, logits, runtime: RUNTIME_BYTES, total };
}
