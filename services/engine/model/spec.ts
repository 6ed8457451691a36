/**
 * ModelSpec: everything about a decoder-only transformer that changes its math, as data.
 * One spec drives the one decoder graph builder (../graph/decoder-graph.ts); a family is a spec,
 * never a copy of the forward pass. Loaders (GGUF metadata: gguf.ts; config.json: hf/) produce it
 * and refuse, by field name, anything that changes the math and is not expressible here.
 */
export const families = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3', 'phi3', 'gpt2'] as const;
export type Family = (typeof families)[number];

export type NormKind = 'rms' | 'rms_one_plus' | 'layer';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  /** per-frequency divisors [rotaryDim/2] (llama.cpp's rope_freqs tensor: Llama 3 scaling baked in at conversion) */
  | { type: 'factors'; factors: number[] }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number }
  /** attentionFactor multiplies cos and sin (default 0.1·ln(factor) + 1); truncate (default true) rounds the ramp's ends */
  | {
      type: 'yarn';
      factor: number;
      originalContext: number;
      betaFast: number;
      betaSlow: number;
      attentionFactor?: number;
      truncate?: boolean;
    };

export type Positions =
  | {
      kind: 'rope';
      theta: number;
      /** leading dims of each head that rotate (rotate-half within them); = headDim unless partial rotary */
      rotaryDim: number;
      /** theta of sliding-window (local) layers when it differs (Gemma 3) */
      localTheta?: number;
      scaling?: RopeScaling;
    }
  | { kind: 'learned' };

export interface ModelSpec {
  /** informative only: the math is in the fields below, never in `family` */
  family: Family;
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** per head; may differ from dim / nHeads (Gemma) */
  headDim: number;
  /** feed-forward inner width */
  hiddenDim: number;
  vocabSize: number;
  /** longest sequence the model accepts (virtual and prefix positions included) */
  contextLength: number;
  /** rms_one_plus: Gemma's RMSNorm scaling by (1 + w); layer: LayerNorm with bias */
  norm: { kind: NormKind; eps: number };
  /** per-head norm (same kind and eps as `norm`) on q and k before RoPE (Qwen3, Gemma 3) */
  qkNorm: boolean;
  /** Gemma 2/3: norms after attention and after the feed-forward, before the residual add */
  sandwichNorms: boolean;
  attention: {
    qkvBias: boolean;
    outBias: boolean;
    /** multiplies q·k: 1/sqrt(headDim), or query_pre_attn_scalar^-0.5 (Gemma) */
    queryScale: number;
    /** scores → softcap·tanh(scores/softcap) before the mask (Gemma 2) */
    logitSoftcap?: number;
    /** window W: a query at position p sees keys at positions > p − W (HF's convention) */
    slidingWindow?: number;
    /** per layer, true where the window applies; absent with a window: every layer */
    slidingLayers?: boolean[];
  };
  positions: Positions;
  /** swiglu: down(silu(gate)·up); geglu_tanh: down(gelu_tanh(gate)·up); gelu_mlp: down(gelu_tanh(up)) with biases */
  ffn: { kind: 'swiglu' | 'geglu_tanh' | 'gelu_mlp'; bias: boolean };
  /** tied: lm_head is embed_tokens; scale multiplies real tokens' embeddings (Gemma: sqrt(dim)) */
  embedding: { tied: boolean; scale?: number };
  /** logits → softcap·tanh(logits/softcap) (Gemma 2) */
  finalLogitSoftcap?: number;
}

/** Whether layer `l` attends through the sliding window. */
export function isSlidingLayer(spec: ModelSpec, l: number): boolean {
  const w = spec.attention.slidingWindow;
  if (w === undefined) return false;
  return spec.attention.slidingLayers ? spec.attention.slidingLayers[l] === true : true;
}

/**
 * Checks a spec's internal consistency; throws one error listing every problem, prefixed by
 * `source` (the file the spec came from).
 */
export function validateSpec(spec: ModelSpec, source: string): void {
  const problems: string[] = [];
  for (const key of ['dim', 'nLayers', 'nHeads', 'nKvHeads', 'headDim', 'hiddenDim', 'vocabSize', 'contextLength'] as const) {
    if (!Number.isSafeInteger(spec[key]) || spec[key] <= 0) problems.push(`${key} must be a positive integer (got ${spec[key]})`);
  }
  if (spec.nKvHeads > 0 && spec.nHeads % spec.nKvHeads !== 0)
    problems.push(`nHeads ${spec.nHeads} must be a multiple of nKvHeads ${spec.nKvHeads}`);
  if (!(spec.norm.eps > 0)) problems.push(`norm.eps must be positive (got ${spec.norm.eps})`);
  if (!(spec.attention.queryScale > 0)) problems.push(`attention.queryScale must be positive (got ${spec.attention.queryScale})`);
  for (const [name, cap] of [
    ['attention.logitSoftcap', spec.attention.logitSoftcap],
    ['finalLogitSoftcap', spec.finalLogitSoftcap],
  ] as const) {
    if (cap !== undefined && !(cap > 0)) problems.push(`${name} must be positive (got ${cap})`);
  }
  const w = spec.attention.slidingWindow;
  if (w !== undefined && !(Number.isSafeInteger(w) && w > 0))
    problems.push(`attention.slidingWindow must be a positive integer (got ${w})`);
  const layers = spec.attention.slidingLayers;
  if (layers !== undefined && layers.length !== spec.nLayers)
    problems.push(`attention.slidingLayers has ${layers.length} entries for ${spec.nLayers} layers`);
  if (spec.positions.kind === 'rope') {
    const { rotaryDim, theta } = spec.positions;
    if (!(theta > 0)) problems.push(`positions.theta must be positive (got ${theta})`);
    if (!Number.isSafeInteger(rotaryDim) || rotaryDim <= 0 || rotaryDim % 2 !== 0 || rotaryDim > spec.headDim) {
      problems.push(`positions.rotaryDim must be even and within headDim ${spec.headDim} (got ${rotaryDim})`);
    }
    const s = spec.positions.scaling;
    if (s?.type === 'factors') {
      if (s.factors.length !== rotaryDim / 2 || !s.factors.every((f) => f > 0))
        problems.push(`positions.scaling.factors must be ${rotaryDim / 2} positive numbers`);
    } else if (s && !(s.factor > 0)) problems.push(`positions.scaling.factor must be positive (got ${s.factor})`);
  }
  if (spec.embedding.scale !== undefined && !(spec.embedding.scale > 0))
    problems.push(`embedding.scale must be positive (got ${spec.embedding.scale})`);
  if (problems.length > 0) throw new Error(`${source}: invalid model spec: ${problems.join('; ')}`);
}

/** The sizes virtual-token and prefix methods need; a ModelSpec (and the legacy LlamaConfig) satisfies it. */
export interface ModelShape {
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** per head; dim / nHeads when absent */
  headDim?: number;
}

export const headDimOf = (c: ModelShape): number => c.headDim ?? c.dim / c.nHeads;
