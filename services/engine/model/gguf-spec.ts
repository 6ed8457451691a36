/**
 * GGUF metadata → ModelSpec for the architectures llama.cpp names llama (also Mistral), qwen2,
 * qwen3, gemma, gemma2, gemma3, phi3 and gpt2, reading the keys as llama.cpp's loader does
 * (`<arch>.embedding_length`, `<arch>.attention.head_count_kv`, …). The spec describes the math
 * on the weights as stored: llama.cpp's converter adds 1 to Gemma's norm weights, so GGUF Gemma
 * norms are plain RMSNorm here; it permutes llama q/k rows for adjacent-pair RoPE, which the
 * tensor reader (gguf-tensors.ts) undoes.
 *
 * Refusals: every `<arch>.*` key must be one this file reads or knows to be neutral; any other
 * key (a MoE expert count, a logit scale, a RoPE scaling type we do not compute, …) is refused
 * by its name, and so is a known key holding a value we do not implement.
 */
import type { GgufMetadata } from './gguf-metadata.js';
import type { GgufValue } from './gguf-types.js';
import { inverseFrequencies, yarnMscale } from './rope-frequencies.js';
import { validateSpec, type Family, type ModelSpec, type Positions, type RopeScaling } from './spec.js';

export const ggufArchitectures = ['llama', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3', 'phi3', 'gpt2'] as const;
export type GgufArchitecture = (typeof ggufArchitectures)[number];

/** `<arch>.` keys that carry no math ptune would have to implement (read elsewhere or informational). */
const NEUTRAL_KEYS = ['vocab_size', 'tensor_data_layout', 'rope.scaling.finetuned', 'rope.scaling.original_context_length'];

/** `<arch>.` keys this file reads into the spec. */
const READ_KEYS = [
  'context_length',
  'embedding_length',
  'block_count',
  'feed_forward_length',
  'attention.head_count',
  'attention.head_count_kv',
  'attention.key_length',
  'attention.value_length',
  'attention.layer_norm_rms_epsilon',
  'attention.layer_norm_epsilon',
  'attention.sliding_window',
  'attention.sliding_window_pattern',
  'attention.scale',
  'attn_logit_softcapping',
  'final_logit_softcapping',
  'rope.dimension_count',
  'rope.freq_base',
  'rope.scaling.type',
  'rope.scaling.factor',
  'rope.scaling.attn_factor',
  'rope.scaling.yarn_beta_fast',
  'rope.scaling.yarn_beta_slow',
];

/** Tensors whose presence changes the math in ways the spec does not express. */
const REFUSED_TENSORS: Record<string, string> = {
  'rope_factors_long.weight': 'LongRoPE scaling (Phi-3 128k) is not supported',
  'rope_factors_short.weight': 'LongRoPE scaling (Phi-3 128k) is not supported',
};

export interface GgufSpecInput {
  meta: GgufMetadata;
  /** tensor names in the file (tied head, rope_freqs, refused tensors) */
  tensorNames: ReadonlySet<string>;
  /** the tokenizer's vocabulary size */
  vocabSize: number;
  /** values of the rope_freqs tensor when the file has one */
  ropeFreqs?: Float32Array;
  /** the file, for errors */
  path: string;
}

const familyOf: Record<GgufArchitecture, Family> = {
  llama: 'llama',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
  gemma: 'gemma',
  gemma2: 'gemma2',
  gemma3: 'gemma3',
  phi3: 'phi3',
  gpt2: 'gpt2',
};

function isGgufArchitecture(a: string): a is GgufArchitecture {
  return (ggufArchitectures as readonly string[]).includes(a);
}

/** The architecture of a file, or an error naming what it holds and what ptune reads. */
export function ggufArchitecture(meta: GgufMetadata, path: string): GgufArchitecture {
  const arch = meta.string('general.architecture');
  if (!isGgufArchitecture(arch))
    throw new Error(`${path}: general.architecture "${arch}" is not supported (supported: ${ggufArchitectures.join(', ')})`);
  return arch;
}

export function specFromGguf({ meta, tensorNames, vocabSize, ropeFreqs, path }: GgufSpecInput): ModelSpec {
  const arch = ggufArchitecture(meta, path);
  const k = (s: string): string => `${arch}.${s}`;
  const refuse = (key: string, what: string): never => {
    throw new Error(`${path}: metadata "${key}" ${what}`);
  };
  const known = new Set([...NEUTRAL_KEYS, ...READ_KEYS].map(k));
  for (const key of meta.entries.keys()) {
    if (key.startsWith(`${arch}.`) && !known.has(key)) refuse(key, 'changes the model in a way ptune does not implement');
  }
  for (const [name, why] of Object.entries(REFUSED_TENSORS))
    if (tensorNames.has(name)) throw new Error(`${path}: tensor "${name}": ${why}`);

  const dim = meta.count(k('embedding_length'));
  const nHeads = meta.count(k('attention.head_count'));
  const nKvHeads = meta.count(k('attention.head_count_kv'), nHeads);
  const nLayers = meta.count(k('block_count'));
  const headDim = meta.count(k('attention.key_length'), nHeads > 0 ? dim / nHeads : 0);
  const valueLength = meta.count(k('attention.value_length'), headDim);
  if (valueLength !== headDim) refuse(k('attention.value_length'), `${valueLength} ≠ key_length ${headDim} is not supported`);
  const gemma = arch === 'gemma' || arch === 'gemma2' || arch === 'gemma3';
  const gpt2 = arch === 'gpt2';
  const eps = gpt2 ? meta.float(k('attention.layer_norm_epsilon')) : meta.float(k('attention.layer_norm_rms_epsilon'));

  let positions: Positions;
  if (gpt2) positions = { kind: 'learned' };
  else {
    const rotaryDim = meta.count(k('rope.dimension_count'), headDim);
    const theta = meta.float(k('rope.freq_base'), 10000);
    positions = { kind: 'rope', theta, rotaryDim, ...(arch === 'gemma3' ? { localTheta: 10000 } : {}) };
    const scaling = ropeScaling(meta, arch, rotaryDim, ropeFreqs, path);
    if (scaling) positions.scaling = scaling;
  }

  const window = meta.has(k('attention.sliding_window')) ? meta.count(k('attention.sliding_window')) : undefined;
  // llama.cpp's layer patterns: Gemma 2 slides on every other layer (even ones), Gemma 3 on 5 of
  // every 6; a pattern key overrides the default. Other architectures slide on every layer.
  const defaultPattern = arch === 'gemma2' ? 2 : arch === 'gemma3' ? 6 : 1;
  const pattern = meta.count(k('attention.sliding_window_pattern'), defaultPattern);
  const slidingLayers = window && pattern > 1 ? Array.from({ length: nLayers }, (_, l) => l % pattern < pattern - 1) : undefined;

  const queryScale = meta.has(k('attention.scale'))
    ? meta.float(k('attention.scale'))
    : defaultQueryScale(arch, nLayers, dim, nHeads, headDim);
  const softcap = (key: string): number | undefined => (meta.has(k(key)) ? meta.float(k(key)) : undefined);
  const attnSoftcap = arch === 'gemma2' ? softcap('attn_logit_softcapping') : undefined;
  const finalSoftcap = arch === 'gemma2' ? softcap('final_logit_softcapping') : undefined;
  for (const key of ['attn_logit_softcapping', 'final_logit_softcapping']) {
    if (arch !== 'gemma2' && meta.has(k(key))) refuse(k(key), `is not read for architecture "${arch}"`);
  }

  const spec: ModelSpec = {
    family: familyOf[arch],
    dim,
    nLayers,
    nHeads,
    nKvHeads,
    headDim,
    hiddenDim: meta.count(k('feed_forward_length')),
    vocabSize,
    contextLength: meta.count(k('context_length')),
    norm: { kind: gpt2 ? 'layer' : 'rms', eps },
    qkNorm: tensorNames.has('blk.0.attn_q_norm.weight'),
    sandwichNorms: arch === 'gemma2' || arch === 'gemma3',
    attention: {
      qkvBias: tensorNames.has('blk.0.attn_q.bias') || tensorNames.has('blk.0.attn_qkv.bias'),
      outBias: tensorNames.has('blk.0.attn_output.bias'),
      queryScale,
      ...(attnSoftcap !== undefined ? { logitSoftcap: attnSoftcap } : {}),
      ...(window ? { slidingWindow: window } : {}),
      ...(slidingLayers ? { slidingLayers } : {}),
    },
    positions,
    ffn: { kind: gpt2 ? 'gelu_mlp' : gemma ? 'geglu_tanh' : 'swiglu', bias: tensorNames.has('blk.0.ffn_up.bias') },
    embedding: { tied: !tensorNames.has('output.weight'), ...(gemma ? { scale: Math.sqrt(dim) } : {}) },
    ...(finalSoftcap !== undefined ? { finalLogitSoftcap: finalSoftcap } : {}),
  };
  if (spec.qkNorm && !(arch === 'qwen3' || arch === 'gemma3'))
    throw new Error(`${path}: tensor "blk.0.attn_q_norm.weight": q/k norms are not read for architecture "${arch}"`);
  validateSpec(spec, path);
  return spec;
}

function ropeScaling(
  meta: GgufMetadata,
  arch: GgufArchitecture,
  rotaryDim: number,
  ropeFreqs: Float32Array | undefined,
  path: string,
): RopeScaling | undefined {
  const k = (s: string): string => `${arch}.${s}`;
  const type = meta.string(k('rope.scaling.type'), 'none');
  if (ropeFreqs) {
    if (type !== 'none')
      throw new Error(`${path}: metadata "${k('rope.scaling.type')}" "${type}" together with a rope_freqs tensor is not supported`);
    if (ropeFreqs.length !== rotaryDim / 2)
      throw new Error(`${path}: tensor "rope_freqs.weight" has ${ropeFreqs.length} values, expected ${rotaryDim / 2}`);
    return { type: 'factors', factors: Array.from(ropeFreqs) };
  }
  switch (type) {
    case 'none':
      return undefined;
    case 'linear':
      return { type: 'linear', factor: meta.float(k('rope.scaling.factor')) };
    case 'yarn': {
      const factor = meta.float(k('rope.scaling.factor'));
      return {
        type: 'yarn',
        factor,
        originalContext: meta.count(k('rope.scaling.original_context_length')),
        betaFast: meta.float(k('rope.scaling.yarn_beta_fast'), 32),
        betaSlow: meta.float(k('rope.scaling.yarn_beta_slow'), 1),
        // llama.cpp's attn_factor multiplies yarn's default mscale; transformers' attention_factor replaces it
        ...(meta.has(k('rope.scaling.attn_factor'))
          ? { attentionFactor: meta.float(k('rope.scaling.attn_factor')) * yarnMscale(factor) }
          : {}),
      };
    }
    default:
      throw new Error(
        `${path}: metadata "${k('rope.scaling.type')}" "${type}" is not supported (supported: none, linear, yarn, or a rope_freqs tensor)`,
      );
  }
}

/**
 * The query scale llama.cpp uses when the file has no `attention.scale`: Gemma 2/3 27B
 * (46 / 62 layers) scale by (dim / heads)^-½ (their query_pre_attn_scalar), everything else by
 * key_length^-½.
 */
function defaultQueryScale(arch: GgufArchitecture, nLayers: number, dim: number, nHeads: number, headDim: number): number {
  const big = (arch === 'gemma2' && nLayers === 46) || (arch === 'gemma3' && nLayers === 62);
  return 1 / Math.sqrt(big ? dim / nHeads : headDim);
}

/** The GGUF architecture a spec is written as (Mistral is llama.cpp's "llama"). */
export function ggufArchitectureOf(spec: ModelSpec): GgufArchitecture {
  return spec.family === 'mistral' ? 'llama' : spec.family;
}

/**
 * GGUF metadata (`<arch>.*` keys) that specFromGguf reads back as `spec`, for the generator and
 * round-trip tests; plus the rope_freqs tensor when Llama 3 scaling must be baked in as factors
 * (as llama.cpp's converter does). Throws, naming the field, for what GGUF cannot express.
 */
export function ggufMetadataFromSpec(spec: ModelSpec): { metadata: [string, GgufValue][]; ropeFreqs?: Float32Array } {
  const arch = ggufArchitectureOf(spec);
  const k = (s: string): string => `${arch}.${s}`;
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const cannot = (field: string, why: string): never => {
    throw new Error(`model spec (${spec.family}): ${field} cannot be written to GGUF: ${why}`);
  };
  const gemma = arch === 'gemma' || arch === 'gemma2' || arch === 'gemma3';
  const md: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: arch }],
    [k('context_length'), u32(spec.contextLength)],
    [k('embedding_length'), u32(spec.dim)],
    [k('block_count'), u32(spec.nLayers)],
    [k('feed_forward_length'), u32(spec.hiddenDim)],
    [k('attention.head_count'), u32(spec.nHeads)],
    [k('attention.head_count_kv'), u32(spec.nKvHeads)],
    [k('attention.key_length'), u32(spec.headDim)],
    [k('attention.value_length'), u32(spec.headDim)],
    [k(spec.norm.kind === 'layer' ? 'attention.layer_norm_epsilon' : 'attention.layer_norm_rms_epsilon'), f32(spec.norm.eps)],
  ];
  if ((spec.norm.kind === 'layer') !== (arch === 'gpt2')) cannot('norm.kind', `"${spec.norm.kind}" for architecture ${arch}`);
  if (Math.fround(spec.attention.queryScale) !== Math.fround(defaultQueryScale(arch, spec.nLayers, spec.dim, spec.nHeads, spec.headDim))) {
    md.push([k('attention.scale'), f32(spec.attention.queryScale)]);
  }
  if (spec.attention.slidingWindow !== undefined) {
    md.push([k('attention.sliding_window'), u32(spec.attention.slidingWindow)]);
    const layers = spec.attention.slidingLayers;
    const pattern = layers ? layers.indexOf(false) + 1 : 1;
    const expected = Array.from({ length: spec.nLayers }, (_, l) => pattern === 1 || l % pattern < pattern - 1);
    if (pattern === 0 || (layers && layers.some((v, l) => v !== expected[l])))
      cannot('attention.slidingLayers', 'not a repeating pattern ending in one global layer');
    md.push([k('attention.sliding_window_pattern'), u32(pattern)]);
  }
  if (spec.attention.logitSoftcap !== undefined) md.push([k('attn_logit_softcapping'), f32(spec.attention.logitSoftcap)]);
  if (spec.finalLogitSoftcap !== undefined) md.push([k('final_logit_softcapping'), f32(spec.finalLogitSoftcap)]);
  if (gemma !== (spec.embedding.scale !== undefined))
    cannot('embedding.scale', `llama.cpp scales embeddings by sqrt(dim) exactly for Gemma`);
  if (spec.embedding.scale !== undefined && Math.fround(spec.embedding.scale) !== Math.fround(Math.sqrt(spec.dim)))
    cannot('embedding.scale', 'only sqrt(dim)');
  let ropeFreqs: Float32Array | undefined;
  if (spec.positions.kind === 'rope') {
    const { rotaryDim, theta, localTheta, scaling } = spec.positions;
    md.push([k('rope.dimension_count'), u32(rotaryDim)], [k('rope.freq_base'), f32(theta)]);
    if ((localTheta ?? 10000) !== 10000 || (localTheta !== undefined) !== (arch === 'gemma3'))
      cannot('positions.localTheta', 'llama.cpp fixes Gemma 3 local layers at 10000');
    if (scaling?.type === 'linear')
      md.push([k('rope.scaling.type'), { type: 'string', value: 'linear' }], [k('rope.scaling.factor'), f32(scaling.factor)]);
    else if (scaling?.type === 'yarn') {
      if (scaling.truncate === false) cannot('positions.scaling.truncate', 'llama.cpp always truncates');
      md.push(
        [k('rope.scaling.type'), { type: 'string', value: 'yarn' }],
        [k('rope.scaling.factor'), f32(scaling.factor)],
        [k('rope.scaling.original_context_length'), u32(scaling.originalContext)],
        [k('rope.scaling.yarn_beta_fast'), f32(scaling.betaFast)],
        [k('rope.scaling.yarn_beta_slow'), f32(scaling.betaSlow)],
      );
      if (scaling.attentionFactor !== undefined)
        md.push([k('rope.scaling.attn_factor'), f32(scaling.attentionFactor / yarnMscale(scaling.factor))]);
    } else if (scaling) {
      const base = inverseFrequencies(theta, rotaryDim).invFreq;
      const scaled = inverseFrequencies(theta, rotaryDim, scaling).invFreq;
      ropeFreqs = Float32Array.from(base, (f, i) => f / scaled[i]);
    }
  } else if (arch !== 'gpt2') cannot('positions', `learned positions for architecture ${arch}`);
  return { metadata: md, ...(ropeFreqs ? { ropeFreqs } : {}) };
}
