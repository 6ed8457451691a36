/**
 * PEFT-compatible export folder: `adapter_config.json` + `adapter_model.safetensors`, loadable
 * with `PeftModel.from_pretrained(base, folder)`. Field names follow PEFT's PeftConfig /
 * PromptLearningConfig and PromptTuningConfig, PromptEncoderConfig (P_TUNING) or
 * PrefixTuningConfig (PREFIX_TUNING); each method writes only its own fields. PEFT stores all
 * three under `prompt_embeddings`: [P, token_dim] for prompt and P-tuning (the encoder's output),
 * [P, num_layers·2·token_dim] for prefix tuning (the projected prefix when prefix_projection is
 * set: PEFT loads it in inference mode as the prefix itself).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from './safetensors.js';

export type PromptTuningInit = 'RANDOM' | 'SAMPLE_VOCAB' | 'TEXT';

export type PeftMethodConfig =
  | {
      peftType: 'PROMPT_TUNING';
      init: PromptTuningInit;
      /** required when init is TEXT */
      initText?: string;
    }
  | {
      peftType: 'P_TUNING';
      encoderReparameterizationType: 'MLP' | 'LSTM';
      encoderHiddenSize: number;
      /** LSTM layers (PEFT ignores it for MLP); PEFT's default 2 */
      encoderNumLayers: number;
    }
  | {
      peftType: 'PREFIX_TUNING';
      prefixProjection: boolean;
      encoderHiddenSize: number;
    };

export interface PeftExport {
  /** written as base_model_name_or_path (and tokenizer_name_or_path for TEXT init) */
  baseModelNameOrPath: string;
  method: PeftMethodConfig;
  numVirtualTokens: number;
  /**
   * PEFT's token_dim. For PREFIX_TUNING pass the key/value width nKvHeads·headSize and as
   * numAttentionHeads the KV-head count, as PEFT's config preparation sets them for
   * grouped-query attention (and saves them).
   */
  tokenDim: number;
  numAttentionHeads: number;
  numLayers: number;
  /** row-major [numVirtualTokens, storedWidth(e)] */
  promptEmbeddings: Float32Array;
  /** extra `__metadata__` entries of the safetensors file (PEFT's own writer adds {"format": "pt"}) */
  metadata?: Record<string, string>;
}

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

function methodFields(m: PeftMethodConfig, baseModel: string): Record<string, unknown> {
  switch (m.peftType) {
    case 'PROMPT_TUNING':
      if (m.init === 'TEXT' && !m.initText) throw new Error('PEFT TEXT init needs the init text');
      return {
        prompt_tuning_init: m.init,
        prompt_tuning_init_text: m.init === 'TEXT' ? m.initText : null,
        // PEFT refuses TEXT init without a tokenizer path
        tokenizer_name_or_path: m.init === 'TEXT' ? baseModel : null,
        tokenizer_kwargs: null,
      };
    case 'P_TUNING':
      return {
        encoder_reparameterization_type: m.encoderReparameterizationType,
        encoder_hidden_size: m.encoderHiddenSize,
        encoder_num_layers: m.encoderNumLayers,
        encoder_dropout: 0,
      };
    case 'PREFIX_TUNING':
      return { encoder_hidden_size: m.encoderHiddenSize, prefix_projection: m.prefixProjection };
  }
}

export function peftAdapterConfig(e: PeftExport): Record<string, unknown> {
  return {
    peft_type: e.method.peftType,
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: e.baseModelNameOrPath,
    revision: null,
    inference_mode: true,
    num_virtual_tokens: e.numVirtualTokens,
    token_dim: e.tokenDim,
    num_transformer_submodules: 1,
    num_attention_heads: e.numAttentionHeads,
    num_layers: e.numLayers,
    ...methodFields(e.method, e.baseModelNameOrPath),
  };
}

/** Width of a `prompt_embeddings` row: token_dim, or num_layers·2·token_dim for prefix tuning. */
export const storedWidth = (e: Pick<PeftExport, 'method' | 'tokenDim' | 'numLayers'>): number =>
  e.method.peftType === 'PREFIX_TUNING' ? e.numLayers * 2 * e.tokenDim : e.tokenDim;

/** The adapter weights file: `prompt_embeddings` F32 [numVirtualTokens, storedWidth(e)]. */
export function peftAdapterWeights(e: PeftExport): Uint8Array {
  const width = storedWidth(e);
  const expected = e.numVirtualTokens * width;
  if (!Number.isInteger(e.numVirtualTokens) || e.numVirtualTokens <= 0 || e.promptEmbeddings.length !== expected) {
    throw new Error(`prompt embeddings hold ${e.promptEmbeddings.length} values; [${e.numVirtualTokens}, ${width}] needs ${expected}`);
  }
  return writeSafetensors(
    { prompt_embeddings: { dtype: 'F32', shape: [e.numVirtualTokens, width], data: e.promptEmbeddings } },
    { format: 'pt', ...e.metadata },
  );
}

/** Writes the two files into `dir` (created if needed); both are built before anything is written. */
export async function writePeftExport(dir: string, e: PeftExport): Promise<{ configPath: string; weightsPath: string }> {
  const config = JSON.stringify(peftAdapterConfig(e), null, 2) + '\n';
  const weights = peftAdapterWeights(e);
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, ADAPTER_CONFIG_FILE);
  const weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  await writeFile(weightsPath, weights);
  await writeFile(configPath, config);
  return { configPath, weightsPath };
}
