import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { families, type Family } from '../spec.js';
import { expectedWeights } from '../weights.js';
import { specFromHfConfig } from './config.js';
import { hfFamilyPreset } from './presets.js';

const base = (family: Family, edit: Record<string, unknown> = {}): Record<string, unknown> => {
  const config: Record<string, unknown> = { ...hfFamilyPreset(family, 'tiny').config, ...edit };
  for (const [k, v] of Object.entries(edit)) if (v === undefined) delete config[k];
  return config;
};
const spec = (family: Family, edit: Record<string, unknown> = {}) => specFromHfConfig(base(family, edit), 'm/config.json').spec;

describe('config.json → ModelSpec', () => {
  it('reads each family variant', () => {
    expect(spec('qwen2').attention).toMatchObject({ qkvBias: true, outBias: false });
    expect(spec('qwen3')).toMatchObject({ qkNorm: true, headDim: 16, attention: { queryScale: 0.25 } });
    expect(spec('gemma')).toMatchObject({
      norm: { kind: 'rms_one_plus' },
      ffn: { kind: 'geglu_tanh' },
      nKvHeads: 1,
      embedding: { tied: true, scale: Math.sqrt(32) },
    });
    expect(spec('gemma2')).toMatchObject({
      sandwichNorms: true,
      finalLogitSoftcap: 3,
      attention: { logitSoftcap: 2, queryScale: 24 ** -0.5, slidingWindow: 4, slidingLayers: [true, false] },
    });
    expect(spec('gemma3')).toMatchObject({
      qkNorm: true,
      positions: { theta: 1e6, localTheta: 10000, scaling: { type: 'linear', factor: 8 } },
      attention: { slidingLayers: [true, false] },
    });
    expect(spec('phi3').positions).toMatchObject({ kind: 'rope', rotaryDim: 4 });
    expect(spec('gpt2')).toMatchObject({
      norm: { kind: 'layer' },
      positions: { kind: 'learned' },
      ffn: { kind: 'gelu_mlp', bias: true },
      attention: { qkvBias: true, outBias: true },
    });
    expect(spec('llama').positions).toMatchObject({
      scaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 16 },
    });
    expect(spec('qwen3').positions).toMatchObject({ scaling: { type: 'yarn', factor: 4, originalContext: 32, betaFast: 32, betaSlow: 1 } });
    const untruncated = spec('qwen3', {
      rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32, truncate: false, attention_factor: 1.5 },
    });
    expect(untruncated.positions).toMatchObject({ scaling: { truncate: false, attentionFactor: 1.5 } });
  });

  it("applies each family's transformers defaults to missing fields", () => {
    expect(spec('mistral', { sliding_window: undefined }).attention.slidingWindow).toBe(4096);
    expect(spec('mistral', { sliding_window: null }).attention.slidingWindow).toBeUndefined();
    const g2 = spec('gemma2', { final_logit_softcapping: undefined, attn_logit_softcapping: undefined, query_pre_attn_scalar: undefined });
    expect(g2).toMatchObject({ finalLogitSoftcap: 30, attention: { logitSoftcap: 50, queryScale: 256 ** -0.5 } });
    expect(spec('gemma3', { sliding_window_pattern: undefined, num_hidden_layers: 7 }).attention.slidingLayers).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      true,
    ]);
    expect(spec('qwen2', { use_sliding_window: true, sliding_window: 8, max_window_layers: 1 }).attention).toMatchObject({
      slidingWindow: 8,
      slidingLayers: [false, true],
    });
    expect(spec('llama', { num_key_value_heads: undefined }).nKvHeads).toBe(4);
    expect(spec('gpt2', { n_inner: undefined }).hiddenDim).toBe(128);
    // Gemma 1's legacy "gelu" means the tanh approximation (as transformers reads it), unless hidden_activation says otherwise
    expect(spec('gemma', { hidden_act: 'gelu', hidden_activation: null }).ffn.kind).toBe('geglu_tanh');
    expect(() => spec('gemma', { hidden_act: 'gelu', hidden_activation: 'gelu' })).toThrow(/hidden_activation "gelu" does not match gemma/);
  });

  it('reads transformers 5 rope_parameters like legacy rope_theta + rope_scaling', () => {
    const legacy = spec('llama');
    const v5 = spec('llama', {
      rope_theta: undefined,
      rope_scaling: undefined,
      rope_parameters: {
        rope_type: 'llama3',
        rope_theta: 500000,
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 16,
      },
    });
    expect(v5).toEqual(legacy);
    const g3 = spec('gemma3', {
      rope_theta: undefined,
      rope_local_base_freq: undefined,
      rope_scaling: undefined,
      rope_parameters: {
        full_attention: { rope_type: 'linear', factor: 8, rope_theta: 1e6 },
        sliding_attention: { rope_type: 'default', rope_theta: 10000 },
      },
    });
    expect(g3).toEqual(spec('gemma3'));
  });

  it('reads a multimodal Gemma 3 config through text_config', () => {
    const text = base('gemma3');
    const s = specFromHfConfig(
      { model_type: 'gemma3', text_config: { ...text, model_type: 'gemma3_text' }, vision_config: {} },
      'm/config.json',
    ).spec;
    expect(s).toEqual(spec('gemma3'));
  });

  it.each<[string, Family, Record<string, unknown>, RegExp]>([
    ['unknown model_type', 'llama', { model_type: 'mamba' }, /model_type "mamba" is not supported \(supported: llama, /],
    [
      'rope type',
      'llama',
      { rope_scaling: { rope_type: 'dynamic', factor: 2 } },
      /rope_scaling\.rope_type "dynamic" is not supported \(supported: linear, llama3, yarn\)/,
    ],
    [
      'legacy rope "type"',
      'phi3',
      { rope_scaling: { type: 'longrope', short_factor: [1], long_factor: [1] } },
      /rope_scaling\.type "longrope" is not supported/,
    ],
    [
      'yarn mscale',
      'qwen3',
      { rope_scaling: { rope_type: 'yarn', factor: 4, mscale: 1 } },
      /rope_scaling\.mscale is not supported with rope type "yarn"/,
    ],
    [
      'yarn truncate of the wrong type',
      'qwen3',
      { rope_scaling: { rope_type: 'yarn', factor: 4, truncate: 'no' } },
      /rope_scaling\.truncate must be true or false/,
    ],
    ['activation of another family', 'llama', { hidden_act: 'gelu' }, /hidden_act "gelu" does not match llama/],
    ['exact GELU for Gemma 2', 'gemma2', { hidden_activation: 'gelu' }, /hidden_activation "gelu" does not match gemma2/],
    ['GPT-2 activation', 'gpt2', { activation_function: 'relu' }, /activation_function "relu" is not supported/],
    [
      'attention softcap on Llama',
      'llama',
      { attn_logit_softcapping: 50 },
      /attn_logit_softcapping 50 is not supported \(llama does not use it\)/,
    ],
    ['final softcap on Qwen2', 'qwen2', { final_logit_softcapping: 30 }, /final_logit_softcapping 30 is not supported/],
    ['query_pre_attn_scalar on Mistral', 'mistral', { query_pre_attn_scalar: 128 }, /query_pre_attn_scalar 128 is not supported/],
    [
      'sliding window on Llama',
      'llama',
      { sliding_window: 128 },
      /sliding_window 128 is not supported \(llama has no sliding-window attention\)/,
    ],
    [
      'layer_types of the wrong length',
      'gemma2',
      { layer_types: ['sliding_attention'] },
      /layer_types must list "sliding_attention" or "full_attention" for each of the 2 layers/,
    ],
    ['odd partial rotary width', 'phi3', { partial_rotary_factor: 0.375 }, /partial_rotary_factor gives an odd rotary width 3/],
    ['partial rotary out of range', 'phi3', { partial_rotary_factor: 1.5 }, /partial_rotary_factor must be in \(0, 1\]/],
    [
      'attention_bias on Mistral',
      'mistral',
      { attention_bias: true },
      /attention_bias true is not supported \(mistral has no attention_bias option\)/,
    ],
    ['mlp_bias on Qwen3', 'qwen3', { mlp_bias: true }, /mlp_bias true is not supported/],
    ['tensor-parallel slicing', 'llama', { pretraining_tp: 2 }, /pretraining_tp 2 is not supported/],
    ['bidirectional attention', 'gemma3', { use_bidirectional_attention: true }, /use_bidirectional_attention true is not supported/],
    [
      'GPT-2 per-layer attention scaling',
      'gpt2',
      { scale_attn_by_inverse_layer_idx: true },
      /scale_attn_by_inverse_layer_idx true is not supported/,
    ],
    ['GPT-2 unscaled attention', 'gpt2', { scale_attn_weights: false }, /scale_attn_weights false is not supported/],
    ['missing size', 'qwen2', { hidden_size: undefined }, /hidden_size is missing/],
    ['non-integer size', 'gemma', { num_attention_heads: 2.5 }, /num_attention_heads must be a positive integer \(got 2\.5\)/],
    ['tie flag of the wrong type', 'llama', { tie_word_embeddings: 'yes' }, /tie_word_embeddings must be true or false/],
    ['GQA that does not divide', 'llama', { num_key_value_heads: 3 }, /nHeads 4 must be a multiple of nKvHeads 3/],
  ])('refuses %s, naming the field', (_, family, edit, message) => {
    expect(() => spec(family, edit)).toThrow(message);
    expect(() => spec(family, edit)).toThrow(/^m\/config\.json/);
  });

  it.each(families)('%s bench and large presets: valid ~100M- and ~500M-parameter models', (family) => {
    const count = (preset: 'bench' | 'large'): number =>
      expectedWeights(specFromHfConfig(hfFamilyPreset(family, preset).config).spec).reduce(
        (n, w) => n + w.dims.reduce((a, b) => a * b, 1),
        0,
      );
    expect(count('bench')).toBeGreaterThan(90e6);
    expect(count('bench')).toBeLessThan(130e6);
    expect(count('large')).toBeGreaterThan(380e6);
    expect(count('large')).toBeLessThan(600e6);
  });

  it('Llama biases and head_dim are read', () => {
    expect(spec('llama', { attention_bias: true, mlp_bias: true, head_dim: 16 })).toMatchObject({
      headDim: 16,
      attention: { qkvBias: true, outBias: true, queryScale: 0.25 },
      ffn: { bias: true },
    });
  });
});

describe('config.json as transformers 5 saves it', () => {
  /** each tiny preset loaded by transformers 5.18 and written back with save_pretrained (rope_parameters, layer_types, …) */
  const saved = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'transformers5-configs.json'), 'utf8')) as Record<
    Family,
    unknown
  >;

  it.each(families)('%s: the same spec as the legacy config it came from', (family) => {
    expect(specFromHfConfig(saved[family], 'saved/config.json').spec).toEqual(spec(family));
  });
});
