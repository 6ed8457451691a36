/**
 * Hugging Face `config.json` → ModelSpec. Each family's missing fields take that family's
 * transformers defaults (a missing `sliding_window` is 4096 for Mistral and Gemma 2/3, none for
 * Llama); every field that changes the math is either read into the spec or refused by name.
 * Fields that do not change a forward pass in evaluation (dropouts, initializer ranges, token
 * ids, dtype hints) are ignored.
 */
import type { Family, ModelSpec, Positions, RopeScaling } from '../spec.js';
import { validateSpec } from '../spec.js';

/** model_type → family; gemma3 (multimodal) reads its `text_config` */
const MODEL_TYPES: Record<string, Family> = {
  llama: 'llama',
  mistral: 'mistral',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
  gemma: 'gemma',
  gemma2: 'gemma2',
  gemma3_text: 'gemma3',
  gemma3: 'gemma3',
  phi3: 'phi3',
  gpt2: 'gpt2',
};

export interface HfModelConfig {
  spec: ModelSpec;
  /** config.json's model_type */
  modelType: string;
}

type Json = Record<string, unknown>;

class ConfigReader {
  constructor(
    readonly json: Json,
    readonly source: string,
  ) {}

  fail(field: string, what: string): never {
    throw new Error(`${this.source}: ${field} ${what}`);
  }

  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }

  int(field: string, fallback?: number): number {
    const v = this.has(field) ? this.json[field] : fallback;
    if (v === undefined) this.fail(field, 'is missing');
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
      this.fail(field, `must be a positive integer (got ${JSON.stringify(v)})`);
    return v as number;
  }

  num(field: string, fallback?: number): number {
    const v = this.has(field) ? this.json[field] : fallback;
    if (v === undefined) this.fail(field, 'is missing');
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(field, `must be a positive number (got ${JSON.stringify(v)})`);
    return v as number;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.has(field) ? this.json[field] : fallback;
    if (typeof v !== 'boolean') this.fail(field, `must be true or false (got ${JSON.stringify(v)})`);
    return v as boolean;
  }

  str(field: string, fallback: string): string {
    const v = this.has(field) ? this.json[field] : fallback;
    if (typeof v !== 'string') this.fail(field, `must be a string (got ${JSON.stringify(v)})`);
    return v as string;
  }

  /** refuses a field that would change the math unless it holds its neutral value */
  neutral(field: string, isNeutral: (v: unknown) => boolean, why: string): void {
    if (this.has(field) && !isNeutral(this.json[field])) this.fail(field, `${JSON.stringify(this.json[field])} is not supported (${why})`);
  }
}

/** Parses config.json text (or an already-parsed object) into a spec; throws naming the file and field. */
export function specFromHfConfig(config: unknown, source = 'config.json'): HfModelConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`${source}: must be a JSON object`);
  const top = new ConfigReader(config as Json, source);
  const modelType = top.json.model_type;
  if (typeof modelType !== 'string') top.fail('model_type', 'is missing');
  const family = MODEL_TYPES[modelType as string];
  if (!family) {
    top.fail('model_type', `"${String(modelType)}" is not supported (supported: ${Object.keys(MODEL_TYPES).join(', ')})`);
  }
  let c = top;
  if (modelType === 'gemma3') {
    const text = top.json.text_config;
    if (typeof text !== 'object' || text === null) top.fail('text_config', 'is missing (model_type gemma3 keeps the language model there)');
    // the multimodal config ties its head at the top level
    const merged: Json = { ...(text as Json) };
    if (merged.tie_word_embeddings === undefined && top.has('tie_word_embeddings'))
      merged.tie_word_embeddings = top.json.tie_word_embeddings;
    c = new ConfigReader(merged, `${source}: text_config`);
  }
  const spec = family === 'gpt2' ? gpt2Spec(c) : ropeFamilySpec(c, family);
  validateSpec(spec, source);
  return { spec, modelType: modelType as string };
}

function gpt2Spec(c: ConfigReader): ModelSpec {
  const dim = c.int('n_embd', 768);
  const nHeads = c.int('n_head', 12);
  const act = c.str('activation_function', 'gelu_new');
  if (!TANH_GELU.has(act)) c.fail('activation_function', `"${act}" is not supported (supported: ${[...TANH_GELU].join(', ')})`);
  c.neutral('scale_attn_weights', (v) => v === true, 'unscaled attention');
  c.neutral('scale_attn_by_inverse_layer_idx', (v) => v === false, 'per-layer attention scaling');
  c.neutral('add_cross_attention', (v) => v === false, 'cross-attention');
  if (dim % nHeads !== 0) c.fail('n_embd', `${dim} is not a multiple of n_head ${nHeads}`);
  return {
    family: 'gpt2',
    dim,
    nLayers: c.int('n_layer', 12),
    nHeads,
    nKvHeads: nHeads,
    headDim: dim / nHeads,
    hiddenDim: c.int('n_inner', 4 * dim),
    vocabSize: c.int('vocab_size', 50257),
    contextLength: c.int('n_positions', 1024),
    norm: { kind: 'layer', eps: c.num('layer_norm_epsilon', 1e-5) },
    qkNorm: false,
    sandwichNorms: false,
    attention: { qkvBias: true, outBias: true, queryScale: 1 / Math.sqrt(dim / nHeads) },
    positions: { kind: 'learned' },
    ffn: { kind: 'gelu_mlp', bias: true },
    embedding: { tied: c.bool('tie_word_embeddings', true) },
  };
}

/** GELU with the tanh approximation under its transformers names */
const TANH_GELU = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast']);

interface FamilyTraits {
  act: 'silu' | 'gelu_tanh';
  /** config field naming the activation */
  actField: 'hidden_act' | 'hidden_activation';
  norm: 'rms' | 'rms_one_plus';
  qkNorm: boolean;
  sandwich: boolean;
  /** q/k/v bias: fixed (Qwen2) or read from attention_bias (also biases o) */
  qkvBias: 'always' | 'attention_bias' | 'never';
  embedScale: boolean;
  tiedDefault: boolean;
  thetaDefault: number;
  headDimDefault?: number;
  /** how sliding layers are chosen */
  sliding: 'none' | 'all' | 'qwen' | 'alternate' | 'pattern' | 'phi3';
  slidingDefault?: number;
  gemmaScalars: boolean;
  contextDefault: number;
  epsDefault: number;
}

const TRAITS: Record<Exclude<Family, 'gpt2'>, FamilyTraits> = {
  llama: {
    act: 'silu',
    actField: 'hidden_act',
    norm: 'rms',
    qkNorm: false,
    sandwich: false,
    qkvBias: 'attention_bias',
    embedScale: false,
    tiedDefault: false,
    thetaDefault: 10000,
    sliding: 'none',
    gemmaScalars: false,
    contextDefault: 2048,
    epsDefault: 1e-6,
  },
  mistral: {
    act: 'silu',
    actField: 'hidden_act',
    norm: 'rms',
    qkNorm: false,
    sandwich: false,
    qkvBias: 'never',
    embedScale: false,
    tiedDefault: false,
    thetaDefault: 10000,
    sliding: 'all',
    slidingDefault: 4096,
    gemmaScalars: false,
    contextDefault: 131072,
    epsDefault: 1e-6,
  },
  qwen2: {
    act: 'silu',
    actField: 'hidden_act',
    norm: 'rms',
    qkNorm: false,
    sandwich: false,
    qkvBias: 'always',
    embedScale: false,
    tiedDefault: false,
    thetaDefault: 10000,
    sliding: 'qwen',
    slidingDefault: 4096,
    gemmaScalars: false,
    contextDefault: 32768,
    epsDefault: 1e-6,
  },
  qwen3: {
    act: 'silu',
    actField: 'hidden_act',
    norm: 'rms',
    qkNorm: true,
    sandwich: false,
    qkvBias: 'attention_bias',
    embedScale: false,
    tiedDefault: false,
    thetaDefault: 10000,
    headDimDefault: 128,
    sliding: 'qwen',
    slidingDefault: 4096,
    gemmaScalars: false,
    contextDefault: 32768,
    epsDefault: 1e-6,
  },
  gemma: {
    act: 'gelu_tanh',
    actField: 'hidden_act',
    norm: 'rms_one_plus',
    qkNorm: false,
    sandwich: false,
    qkvBias: 'attention_bias',
    embedScale: true,
    tiedDefault: true,
    thetaDefault: 10000,
    headDimDefault: 256,
    sliding: 'none',
    gemmaScalars: false,
    contextDefault: 8192,
    epsDefault: 1e-6,
  },
  gemma2: {
    act: 'gelu_tanh',
    actField: 'hidden_activation',
    norm: 'rms_one_plus',
    qkNorm: false,
    sandwich: true,
    qkvBias: 'attention_bias',
    embedScale: true,
    tiedDefault: true,
    thetaDefault: 10000,
    headDimDefault: 256,
    sliding: 'alternate',
    slidingDefault: 4096,
    gemmaScalars: true,
    contextDefault: 8192,
    epsDefault: 1e-6,
  },
  gemma3: {
    act: 'gelu_tanh',
    actField: 'hidden_activation',
    norm: 'rms_one_plus',
    qkNorm: true,
    sandwich: true,
    qkvBias: 'attention_bias',
    embedScale: true,
    tiedDefault: true,
    thetaDefault: 1_000_000,
    headDimDefault: 256,
    sliding: 'pattern',
    slidingDefault: 4096,
    gemmaScalars: true,
    contextDefault: 131072,
    epsDefault: 1e-6,
  },
  phi3: {
    act: 'silu',
    actField: 'hidden_act',
    norm: 'rms',
    qkNorm: false,
    sandwich: false,
    qkvBias: 'never',
    embedScale: false,
    tiedDefault: false,
    thetaDefault: 10000,
    sliding: 'phi3',
    gemmaScalars: false,
    contextDefault: 4096,
    epsDefault: 1e-5,
  },
};

function ropeFamilySpec(c: ConfigReader, family: Exclude<Family, 'gpt2'>): ModelSpec {
  const t = TRAITS[family];
  const dim = c.int('hidden_size');
  const nHeads = c.int('num_attention_heads');
  const nLayers = c.int('num_hidden_layers');
  const headDim = c.int('head_dim', t.headDimDefault ?? Math.floor(dim / nHeads));
  const contextLength = c.int('max_position_embeddings', t.contextDefault);

  // Gemma 1 names its activation hidden_act but real checkpoints put the one that runs in hidden_activation
  const actField = family === 'gemma' && c.has('hidden_activation') ? 'hidden_activation' : t.actField;
  const act = c.str(actField, t.act === 'silu' ? 'silu' : 'gelu_pytorch_tanh');
  // transformers reads Gemma 1's legacy hidden_act "gelu" as the tanh approximation it was trained with
  const legacyGemmaGelu = family === 'gemma' && actField === 'hidden_act' && act === 'gelu';
  const actOk = t.act === 'silu' ? act === 'silu' || act === 'swish' : TANH_GELU.has(act) || legacyGemmaGelu;
  if (!actOk) c.fail(actField, `"${act}" does not match ${family} (expected ${t.act === 'silu' ? 'silu' : [...TANH_GELU].join(' or ')})`);

  const attentionBias = t.qkvBias === 'attention_bias' ? c.bool('attention_bias', false) : false;
  if (t.qkvBias !== 'attention_bias') c.neutral('attention_bias', (v) => v === false, `${family} has no attention_bias option`);
  const mlpBias = family === 'llama' ? c.bool('mlp_bias', false) : false;
  if (family !== 'llama') c.neutral('mlp_bias', (v) => v === false, `${family} has no mlp_bias option`);

  c.neutral('pretraining_tp', (v) => v === 1, 'tensor-parallel slicing');
  c.neutral('use_bidirectional_attention', (v) => v === false, 'bidirectional attention');
  if (!t.gemmaScalars) {
    for (const f of ['attn_logit_softcapping', 'final_logit_softcapping', 'query_pre_attn_scalar']) {
      c.neutral(f, () => false, `${family} does not use it`);
    }
  }
  const gemmaDefaults = family === 'gemma2' ? { attn: 50, final: 30 } : { attn: undefined, final: undefined };
  const logitSoftcap = t.gemmaScalars ? optionalPositive(c, 'attn_logit_softcapping', gemmaDefaults.attn) : undefined;
  const finalLogitSoftcap = t.gemmaScalars ? optionalPositive(c, 'final_logit_softcapping', gemmaDefaults.final) : undefined;
  const queryScale = t.gemmaScalars ? c.num('query_pre_attn_scalar', 256) ** -0.5 : headDim ** -0.5;

  const sliding = slidingLayers(c, family, t, nLayers);
  const spec: ModelSpec = {
    family,
    dim,
    nLayers,
    nHeads,
    nKvHeads: c.int('num_key_value_heads', family === 'mistral' ? 8 : nHeads),
    headDim,
    hiddenDim: c.int('intermediate_size'),
    vocabSize: c.int('vocab_size'),
    contextLength,
    norm: { kind: t.norm, eps: c.num('rms_norm_eps', t.epsDefault) },
    qkNorm: t.qkNorm,
    sandwichNorms: t.sandwich,
    attention: {
      qkvBias: t.qkvBias === 'always' || attentionBias,
      outBias: attentionBias,
      queryScale,
      ...(logitSoftcap !== undefined ? { logitSoftcap } : {}),
      ...sliding,
    },
    positions: ropePositions(c, family, t, headDim, contextLength, sliding.slidingLayers),
    ffn: { kind: t.act === 'silu' ? 'swiglu' : 'geglu_tanh', bias: mlpBias },
    embedding: { tied: c.bool('tie_word_embeddings', t.tiedDefault), ...(t.embedScale ? { scale: Math.sqrt(dim) } : {}) },
    ...(finalLogitSoftcap !== undefined ? { finalLogitSoftcap } : {}),
  };
  return spec;
}

function optionalPositive(c: ConfigReader, field: string, fallback: number | undefined): number | undefined {
  if (c.json[field] === null) return undefined;
  if (!c.has(field)) return fallback;
  return c.num(field);
}

function slidingLayers(
  c: ConfigReader,
  family: Family,
  t: FamilyTraits,
  nLayers: number,
): { slidingWindow?: number; slidingLayers?: boolean[] } {
  const explicit = c.json.layer_types;
  let layers: boolean[] | undefined;
  if (explicit !== undefined && explicit !== null) {
    if (
      !Array.isArray(explicit) ||
      explicit.length !== nLayers ||
      !explicit.every((x) => x === 'sliding_attention' || x === 'full_attention')
    ) {
      c.fail('layer_types', `must list "sliding_attention" or "full_attention" for each of the ${nLayers} layers`);
    }
    layers = (explicit as string[]).map((x) => x === 'sliding_attention');
  }
  let window: number | undefined;
  switch (t.sliding) {
    case 'none':
      c.neutral('sliding_window', () => false, `${family} has no sliding-window attention`);
      if (layers?.some(Boolean)) c.fail('layer_types', `sliding layers are not part of ${family}`);
      return {};
    case 'qwen': {
      if (!c.bool('use_sliding_window', false)) {
        if (layers?.some(Boolean)) c.fail('layer_types', 'lists sliding layers but use_sliding_window is false');
        return {};
      }
      window = c.int('sliding_window', t.slidingDefault);
      const first = c.int('max_window_layers', 28);
      layers ??= Array.from({ length: nLayers }, (_, i) => i >= first);
      break;
    }
    case 'all':
    case 'phi3':
      if (c.json.sliding_window === null || (t.sliding === 'phi3' && !c.has('sliding_window'))) return {};
      window = c.int('sliding_window', t.slidingDefault);
      break;
    case 'alternate':
      if (c.json.sliding_window === null) return {};
      window = c.int('sliding_window', t.slidingDefault);
      layers ??= Array.from({ length: nLayers }, (_, i) => i % 2 === 0);
      break;
    case 'pattern': {
      if (c.json.sliding_window === null) return {};
      window = c.int('sliding_window', t.slidingDefault);
      const pattern = c.int('sliding_window_pattern', 6);
      layers ??= Array.from({ length: nLayers }, (_, i) => (i + 1) % pattern !== 0);
      break;
    }
  }
  return layers ? { slidingWindow: window, slidingLayers: layers } : { slidingWindow: window };
}

type RopeDict = Json;

/** The global rope dict: legacy `rope_theta` + `rope_scaling`, or transformers 5's `rope_parameters`. */
function ropeDicts(c: ConfigReader, family: Family, t: FamilyTraits): { global: RopeDict; globalField: string; local?: RopeDict } {
  const params = c.json.rope_parameters;
  if (params !== undefined && params !== null) {
    if (typeof params !== 'object' || Array.isArray(params)) c.fail('rope_parameters', 'must be an object');
    const p = params as Json;
    if (family === 'gemma3' && (p.full_attention !== undefined || p.sliding_attention !== undefined)) {
      return {
        global: { rope_theta: t.thetaDefault, ...(p.full_attention as Json) },
        globalField: 'rope_parameters.full_attention',
        local: { rope_theta: 10000, ...(p.sliding_attention as Json) },
      };
    }
    return { global: { rope_theta: c.json.rope_theta ?? t.thetaDefault, ...p }, globalField: 'rope_parameters' };
  }
  const scaling = c.json.rope_scaling;
  if (scaling !== undefined && scaling !== null && (typeof scaling !== 'object' || Array.isArray(scaling)))
    c.fail('rope_scaling', 'must be an object');
  const global: RopeDict = { rope_theta: c.json.rope_theta ?? t.thetaDefault, ...((scaling as Json | null) ?? {}) };
  const local = family === 'gemma3' ? { rope_theta: c.json.rope_local_base_freq ?? 10000 } : undefined;
  return { global, globalField: 'rope_scaling', ...(local ? { local } : {}) };
}

const SCALING_FIELDS: Record<string, string[]> = {
  default: [],
  linear: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
  yarn: ['factor', 'original_max_position_embeddings', 'beta_fast', 'beta_slow', 'attention_factor', 'truncate'],
};
const ROPE_COMMON = new Set(['rope_type', 'type', 'rope_theta', 'partial_rotary_factor']);

function ropePositions(
  c: ConfigReader,
  family: Family,
  t: FamilyTraits,
  headDim: number,
  contextLength: number,
  slidingLayersFlags: boolean[] | undefined,
): Positions {
  const { global, globalField, local } = ropeDicts(c, family, t);
  const field = (name: string): string =>
    globalField === 'rope_scaling' && name === 'rope_theta' ? 'rope_theta' : `${globalField}.${name}`;
  const num = (d: RopeDict, name: string, where: string, fallback?: number): number => {
    const v = d[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) c.fail(where, `must be a positive number (got ${JSON.stringify(v)})`);
    return v as number;
  };
  const type = String(global.rope_type ?? global.type ?? 'default');
  if (!(type in SCALING_FIELDS)) {
    c.fail(
      `${globalField}.${global.rope_type !== undefined ? 'rope_type' : 'type'}`,
      `"${type}" is not supported (supported: linear, llama3, yarn)`,
    );
  }
  const unknown = Object.keys(global).filter((k) => !ROPE_COMMON.has(k) && !SCALING_FIELDS[type].includes(k));
  if (unknown.length > 0) c.fail(`${globalField}.${unknown[0]}`, `is not supported with rope type "${type}"`);

  const partialSource = global.partial_rotary_factor ?? c.json.partial_rotary_factor ?? 1;
  if (typeof partialSource !== 'number' || !(partialSource > 0 && partialSource <= 1))
    c.fail('partial_rotary_factor', `must be in (0, 1] (got ${JSON.stringify(partialSource)})`);
  const rotaryDim = Math.floor(headDim * (partialSource as number));
  if (rotaryDim % 2 !== 0) c.fail('partial_rotary_factor', `gives an odd rotary width ${rotaryDim}`);

  const original = (): number => {
    // Phi-3 keeps the pretraining length at the top level, and transformers gives it priority
    if (family === 'phi3' && c.has('original_max_position_embeddings')) return c.int('original_max_position_embeddings');
    return num(global, 'original_max_position_embeddings', field('original_max_position_embeddings'), contextLength);
  };
  let scaling: RopeScaling | undefined;
  if (type === 'linear') scaling = { type, factor: num(global, 'factor', field('factor')) };
  if (type === 'llama3') {
    scaling = {
      type,
      factor: num(global, 'factor', field('factor')),
      lowFreqFactor: num(global, 'low_freq_factor', field('low_freq_factor')),
      highFreqFactor: num(global, 'high_freq_factor', field('high_freq_factor')),
      originalContext: original(),
    };
  }
  if (type === 'yarn') {
    if (global.truncate !== undefined && typeof global.truncate !== 'boolean')
      c.fail(field('truncate'), `must be true or false (got ${JSON.stringify(global.truncate)})`);
    const originalContext = original();
    const factor =
      global.factor === undefined || global.factor === null ? contextLength / originalContext : num(global, 'factor', field('factor'));
    scaling = {
      type,
      factor,
      originalContext,
      betaFast: num(global, 'beta_fast', field('beta_fast'), 32),
      betaSlow: num(global, 'beta_slow', field('beta_slow'), 1),
      ...(global.attention_factor !== undefined && global.attention_factor !== null
        ? { attentionFactor: num(global, 'attention_factor', field('attention_factor')) }
        : {}),
      ...(global.truncate === false ? { truncate: false } : {}),
    };
  }
  const positions: Positions = {
    kind: 'rope',
    theta: num(global, 'rope_theta', field('rope_theta')),
    rotaryDim,
    ...(scaling ? { scaling } : {}),
  };
  if (local) {
    const localType = String(local.rope_type ?? local.type ?? 'default');
    const extra = Object.keys(local).filter((k) => !ROPE_COMMON.has(k));
    if (localType !== 'default' || extra.length > 0)
      c.fail('rope_parameters.sliding_attention', 'only a plain rope_theta is supported for local layers');
    const localTheta = num(
      local,
      'rope_theta',
      globalField === 'rope_scaling' ? 'rope_local_base_freq' : 'rope_parameters.sliding_attention.rope_theta',
    );
    // local layers rotate with their own theta and no scaling
    if (slidingLayersFlags?.some(Boolean)) positions.localTheta = localTheta;
  }
  return positions;
}
