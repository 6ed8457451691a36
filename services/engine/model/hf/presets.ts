/**
 * config.json of generated Hugging Face models, one per family, in each family's own field names.
 * `tiny` models exercise every variant a family has (GQA, biases, q/k norms, sliding windows
 * shorter than the test sequences, rope scaling, partial rotary, soft-capping) at sizes a test
 * runs in milliseconds; `bench` models are ~100M parameters; `large` ones ~500M (about 1 GB in
 * f16, for load-time and memory measurements); `tinyllama-1b` has TinyLlama 1.1B's shape (22 × 2048,
 * 32 query / 4 KV heads, FFN 5632, vocab 32000) for the big-model benchmarks.
 */
import type { Family } from '../spec.js';
import type { SpecialTokens } from './tokenizer-json.js';

export type HfPresetName = 'tiny' | 'bench' | 'large' | 'tinyllama-1b';

export interface HfFamilyPreset {
  config: Record<string, unknown>;
  special: SpecialTokens;
  addBos: boolean;
}

const TINY_VOCAB = 288;

const SIZES: Record<HfPresetName, Record<string, number>> = {
  tiny: {
    vocab_size: TINY_VOCAB,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 128,
  },
  bench: {
    vocab_size: 32000,
    hidden_size: 768,
    intermediate_size: 2048,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    num_key_value_heads: 4,
    max_position_embeddings: 1024,
  },
  large: {
    vocab_size: 32000,
    hidden_size: 1536,
    intermediate_size: 4096,
    num_hidden_layers: 16,
    num_attention_heads: 12,
    num_key_value_heads: 4,
    max_position_embeddings: 2048,
  },
  /** TinyLlama 1.1B's shape (1.1B parameters, 4.4 GB in f32): the big-model benchmarks */
  'tinyllama-1b': {
    vocab_size: 32000,
    hidden_size: 2048,
    intermediate_size: 5632,
    num_hidden_layers: 22,
    num_attention_heads: 32,
    num_key_value_heads: 4,
    max_position_embeddings: 2048,
  },
};

/** head_dim where the family sets it explicitly (Qwen3, Gemma): not hidden_size / heads in tiny, so that case is tested */
const HEAD_DIM: Record<HfPresetName, number> = { tiny: 16, bench: 64, large: 128, 'tinyllama-1b': 64 };

/** a window shorter than the parity sequences, so the band mask is exercised */
const window = (p: HfPresetName): number => (p === 'tiny' ? 4 : 512);

export function hfFamilyPreset(family: Family, preset: HfPresetName): HfFamilyPreset {
  const sizes = SIZES[preset];
  const tiny = preset === 'tiny';
  const headDim = HEAD_DIM[preset];
  const llamaSpecial: SpecialTokens = { bos: '<s>', eos: '</s>' };
  const gemmaSpecial: SpecialTokens = { bos: '<bos>', eos: '<eos>', pad: '<pad>' };
  const qwenSpecial: SpecialTokens = { eos: '<|endoftext|>', pad: '<|im_end|>' };
  switch (family) {
    case 'llama':
      return {
        config: {
          architectures: ['LlamaForCausalLM'],
          model_type: 'llama',
          ...sizes,
          hidden_act: 'silu',
          rms_norm_eps: 1e-5,
          rope_theta: 500000,
          rope_scaling: {
            rope_type: 'llama3',
            factor: 8,
            low_freq_factor: 1,
            high_freq_factor: 4,
            original_max_position_embeddings: tiny ? 16 : 8192,
          },
          attention_bias: false,
          mlp_bias: false,
          tie_word_embeddings: false,
        },
        special: llamaSpecial,
        addBos: true,
      };
    case 'mistral':
      return {
        config: {
          architectures: ['MistralForCausalLM'],
          model_type: 'mistral',
          ...sizes,
          hidden_act: 'silu',
          rms_norm_eps: 1e-5,
          rope_theta: 1e6,
          sliding_window: window(preset),
          tie_word_embeddings: false,
        },
        special: llamaSpecial,
        addBos: true,
      };
    case 'qwen2':
      return {
        config: {
          architectures: ['Qwen2ForCausalLM'],
          model_type: 'qwen2',
          ...sizes,
          hidden_act: 'silu',
          rms_norm_eps: 1e-6,
          rope_theta: 1e6,
          use_sliding_window: false,
          sliding_window: null,
          max_window_layers: sizes.num_hidden_layers,
          tie_word_embeddings: true,
        },
        special: qwenSpecial,
        addBos: false,
      };
    case 'qwen3':
      return {
        config: {
          architectures: ['Qwen3ForCausalLM'],
          model_type: 'qwen3',
          ...sizes,
          head_dim: headDim,
          hidden_act: 'silu',
          rms_norm_eps: 1e-6,
          rope_theta: 1e6,
          rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: sizes.max_position_embeddings / 4 },
          attention_bias: false,
          use_sliding_window: false,
          sliding_window: null,
          tie_word_embeddings: false,
        },
        special: qwenSpecial,
        addBos: false,
      };
    case 'gemma':
      return {
        config: {
          architectures: ['GemmaForCausalLM'],
          model_type: 'gemma',
          ...sizes,
          num_key_value_heads: 1,
          head_dim: headDim,
          hidden_act: 'gelu_pytorch_tanh',
          hidden_activation: 'gelu_pytorch_tanh',
          rms_norm_eps: 1e-6,
          rope_theta: 10000,
          attention_bias: false,
          tie_word_embeddings: true,
        },
        special: gemmaSpecial,
        addBos: true,
      };
    case 'gemma2':
      return {
        config: {
          architectures: ['Gemma2ForCausalLM'],
          model_type: 'gemma2',
          ...sizes,
          head_dim: headDim,
          hidden_activation: 'gelu_pytorch_tanh',
          rms_norm_eps: 1e-6,
          rope_theta: 10000,
          attention_bias: false,
          query_pre_attn_scalar: tiny ? 24 : headDim,
          sliding_window: window(preset),
          final_logit_softcapping: tiny ? 3 : 30,
          attn_logit_softcapping: tiny ? 2 : 50,
          tie_word_embeddings: true,
        },
        special: gemmaSpecial,
        addBos: true,
      };
    case 'gemma3':
      return {
        config: {
          architectures: ['Gemma3ForCausalLM'],
          model_type: 'gemma3_text',
          ...sizes,
          head_dim: headDim,
          hidden_activation: 'gelu_pytorch_tanh',
          rms_norm_eps: 1e-6,
          rope_theta: 1e6,
          rope_local_base_freq: 10000,
          rope_scaling: { rope_type: 'linear', factor: 8 },
          attention_bias: false,
          query_pre_attn_scalar: headDim,
          sliding_window: window(preset),
          sliding_window_pattern: tiny ? 2 : 6,
          final_logit_softcapping: null,
          attn_logit_softcapping: null,
          tie_word_embeddings: true,
        },
        special: gemmaSpecial,
        addBos: true,
      };
    case 'phi3':
      return {
        config: {
          architectures: ['Phi3ForCausalLM'],
          model_type: 'phi3',
          ...sizes,
          hidden_act: 'silu',
          rms_norm_eps: 1e-5,
          rope_theta: 10000,
          partial_rotary_factor: 0.5,
          original_max_position_embeddings: sizes.max_position_embeddings,
          sliding_window: null,
          tie_word_embeddings: false,
        },
        special: llamaSpecial,
        addBos: false,
      };
    case 'gpt2':
      return {
        config: {
          architectures: ['GPT2LMHeadModel'],
          model_type: 'gpt2',
          vocab_size: sizes.vocab_size,
          n_embd: sizes.hidden_size,
          n_layer: sizes.num_hidden_layers,
          n_head: sizes.num_attention_heads,
          n_inner: tiny ? 64 : 4 * sizes.hidden_size,
          n_positions: sizes.max_position_embeddings,
          activation_function: 'gelu_new',
          layer_norm_epsilon: 1e-5,
          scale_attn_weights: true,
          tie_word_embeddings: true,
        },
        special: { bos: '<|endoftext|>', eos: '<|endoftext|>' },
        addBos: false,
      };
  }
}
