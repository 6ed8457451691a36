/**
 * The frozen Llama-family model as the engine sees it: hyperparameters and
 * float32 weights in row-major (out, in) layout, so that y = W · x.
 * GGUF loading (gguf.ts) and the seeded generator (generate.ts) both produce this;
 * decoderModelFromLlama turns it into the spec and canonical weights the decoder graph consumes.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ModelSpec } from './spec.js';
import { type DecoderModel, type F32Tensor, type LayerPart, tensorOf, weightName } from './weights.js';
export type { F32Tensor } from './weights.js';

export interface LlamaConfig {
  /** token_dim: width of the residual stream and of every embedding row */
  dim: number;
  /** SwiGLU inner width */
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  /** longest sequence the model accepts (virtual tokens included) */
  contextLength: number;
  /** RMSNorm epsilon */
  normEps: number;
  ropeTheta: number;
}

export interface LlamaLayerWeights {
  attnNorm: F32Tensor; // [dim]
  wq: F32Tensor; // [nHeads*headSize, dim]
  wk: F32Tensor; // [nKvHeads*headSize, dim]
  wv: F32Tensor; // [nKvHeads*headSize, dim]
  wo: F32Tensor; // [dim, nHeads*headSize]
  ffnNorm: F32Tensor; // [dim]
  w1: F32Tensor; // gate [hiddenDim, dim]
  w2: F32Tensor; // down [dim, hiddenDim]
  w3: F32Tensor; // up   [hiddenDim, dim]
}

export interface LlamaWeights {
  config: LlamaConfig;
  tokenEmbedding: F32Tensor; // [vocabSize, dim]
  layers: LlamaLayerWeights[];
  outputNorm: F32Tensor; // [dim]
  output: F32Tensor; // classifier [vocabSize, dim]
}

export const headSize = (c: LlamaConfig): number => c.dim / c.nHeads;

/** The ModelSpec of a Llama config (the math llama2.c and GGUF "llama" models share). */
export function llamaSpec(c: LlamaConfig): ModelSpec {
  const headDim = headSize(c);
  return {
    family: 'llama',
    dim: c.dim,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    headDim,
    hiddenDim: c.hiddenDim,
    vocabSize: c.vocabSize,
    contextLength: c.contextLength,
    norm: { kind: 'rms', eps: c.normEps },
    qkNorm: false,
    sandwichNorms: false,
    attention: { qkvBias: false, outBias: false, queryScale: 1 / Math.sqrt(headDim) },
    positions: { kind: 'rope', theta: c.ropeTheta, rotaryDim: headDim },
    ffn: { kind: 'swiglu', bias: false },
    embedding: { tied: false },
  };
}

/**
 * Reorders the rows of each head of a q/k projection (out, in) between adjacent RoPE pairs
 * (x0, x1, x2, x3, …; llama2.c and GGUF) and halves (x0, x2, …, x1, x3, …; Hugging Face's
 * rotate-half). Applied to both q and k it leaves every per-head dot product unchanged.
 */
function permuteHeadRows<A extends RowArray>(w: A, inDim: number, hs: number, toHalves: boolean): A {
  const out = new (w.constructor as new (length: number) => A)(w.length);
  const half = hs / 2;
  for (let r = 0; r < w.length / inDim; r++) {
    const head = Math.floor(r / hs) * hs;
    const j = r - head;
    const paired = head + (j < half ? 2 * j : 2 * (j - half) + 1); // the pair-layout row of halves row r
    const [from, to] = toHalves ? [paired, r] : [r, paired];
    out.set(w.subarray(from * inDim, (from + 1) * inDim) as never, to * inDim);
  }
  return out;
}

/**
 * Rows of float32 values, raw 16-bit words or ggml block bytes: `inDim` is a row's length in the
 * array's elements (for blocks, the row's bytes).
 */
export type RowArray = Float32Array | Uint16Array | Uint8Array;
export const pairsToHalves = <A extends RowArray>(w: A, inDim: number, hs: number): A => permuteHeadRows(w, inDim, hs, true);
export const halvesToPairs = (w: Float32Array, inDim: number, hs: number): Float32Array => permuteHeadRows(w, inDim, hs, false);

const canonical = new WeakMap<LlamaWeights, DecoderModel>();

/**
 * Llama weights (GGUF / llama2.c layout: q/k rows in adjacent pairs) as a canonical DecoderModel
 * (rotate-half q/k, Hugging Face names). Computed once per weights object; tensors other than
 * q/k are shared, not copied. A tied classifier (the same object as the embedding) stays tied.
 */
export function decoderModelFromLlama(w: LlamaWeights): DecoderModel {
  const hit = canonical.get(w);
  if (hit) return hit;
  const c = w.config;
  const hs = headSize(c);
  const tied = w.output === w.tokenEmbedding;
  const spec: ModelSpec = { ...llamaSpec(c), embedding: { tied } };
  const tensors = new Map<string, F32Tensor>([[weightName.embedTokens, w.tokenEmbedding]]);
  const halves = (t: F32Tensor): F32Tensor => ({ dims: t.dims, data: pairsToHalves(t.data, c.dim, hs) });
  w.layers.forEach((L, i) => {
    const set = (part: LayerPart, t: F32Tensor): void => void tensors.set(weightName.layer(i, part), t);
    set('input_norm', L.attnNorm);
    set('q_proj', halves(L.wq));
    set('k_proj', halves(L.wk));
    set('v_proj', L.wv);
    set('o_proj', L.wo);
    set('ffn_norm', L.ffnNorm);
    set('gate_proj', L.w1);
    set('up_proj', L.w3);
    set('down_proj', L.w2);
  });
  tensors.set(`${weightName.finalNorm}.weight`, w.outputNorm);
  if (!tied) tensors.set(weightName.lmHead, w.output);
  const model = { spec, tensors };
  canonical.set(w, model);
  return model;
}

/**
 * The inverse of decoderModelFromLlama for a model whose spec is plain Llama math (RMSNorm,
 * full rotary, SwiGLU, no biases): llama2.c layout for code that speaks it (the PyTorch bench).
 */
export function llamaWeightsFromDecoder(model: DecoderModel): LlamaWeights {
  const s = model.spec;
  const expected = { ...llamaSpec(llamaConfigOf(s)), embedding: s.embedding, family: s.family };
  if (!isDeepStrictEqual(expected, s)) throw new Error(`model (${s.family}): not plain Llama math; llama2.c weights cannot express it`);
  const t = (name: string): F32Tensor => tensorOf(model, name);
  const pairs = (x: F32Tensor): F32Tensor => ({ dims: x.dims, data: halvesToPairs(x.data, s.dim, s.headDim) });
  const tokenEmbedding = t(weightName.embedTokens);
  return {
    config: llamaConfigOf(s),
    tokenEmbedding,
    layers: Array.from({ length: s.nLayers }, (_, i) => {
      const L = (part: LayerPart): F32Tensor => t(weightName.layer(i, part));
      return {
        attnNorm: L('input_norm'),
        wq: pairs(L('q_proj')),
        wk: pairs(L('k_proj')),
        wv: L('v_proj'),
        wo: L('o_proj'),
        ffnNorm: L('ffn_norm'),
        w1: L('gate_proj'),
        w2: L('down_proj'),
        w3: L('up_proj'),
      };
    }),
    outputNorm: t(`${weightName.finalNorm}.weight`),
    output: s.embedding.tied ? tokenEmbedding : t(weightName.lmHead),
  };
}

function llamaConfigOf(s: ModelSpec): LlamaConfig {
  const theta = s.positions.kind === 'rope' ? s.positions.theta : 0;
  return {
    dim: s.dim,
    hiddenDim: s.hiddenDim,
    nLayers: s.nLayers,
    nHeads: s.nHeads,
    nKvHeads: s.nKvHeads,
    vocabSize: s.vocabSize,
    contextLength: s.contextLength,
    normEps: s.norm.eps,
    ropeTheta: theta,
  };
}
