/**
 * PEFT-compatible export folder: `adapter_config.json` + `adapter_model.safetensors`, loadable
 * with `PeftModel.from_pretrained(base, folder)`. Field names follow PEFT's PeftConfig /
 * PromptLearningConfig / PromptTuningConfig. Only prompt tuning is written today; P-tuning and
 * prefix tuning add members to `PeftMethodConfig` (PEFT stores all three under `prompt_embeddings`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from './safetensors.js';

export type PromptTuningInit = 'RANDOM' | 'SAMPLE_VOCAB' | 'TEXT';

export type PeftMethodConfig = {
  peftType: 'PROMPT_TUNING';
  init: PromptTuningInit;
  /** required when init is TEXT */
  initText?: string;
};

export interface PeftExport {
  /** written as base_model_name_or_path (and tokenizer_name_or_path for TEXT init) */
  baseModelNameOrPath: string;
  method: PeftMethodConfig;
  numVirtualTokens: number;
  tokenDim: number;
  numAttentionHeads: number;
  numLayers: number;
  /** row-major [numVirtualTokens, tokenDim] */
  promptEmbeddings: Float32Array;
  /** extra `__metadata__` entries of the safetensors file (PEFT's own writer adds {"format": "pt"}) */
  metadata?: Record<string, string>;
}

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

export function peftAdapterConfig(e: PeftExport): Record<string, unknown> {
  const m = e.method;
  if (m.init === 'TEXT' && !m.initText) throw new Error('PEFT TEXT init needs the init text');
  return {
    peft_type: m.peftType,
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: e.baseModelNameOrPath,
    revision: null,
    inference_mode: true,
    num_virtual_tokens: e.numVirtualTokens,
    token_dim: e.tokenDim,
    num_transformer_submodules: 1,
    num_attention_heads: e.numAttentionHeads,
    num_layers: e.numLayers,
    prompt_tuning_init: m.init,
    prompt_tuning_init_text: m.init === 'TEXT' ? m.initText : null,
    // PEFT refuses TEXT init without a tokenizer path
    tokenizer_name_or_path: m.init === 'TEXT' ? e.baseModelNameOrPath : null,
    tokenizer_kwargs: null,
  };
}

/** The adapter weights file: `prompt_embeddings` F32 [numVirtualTokens, tokenDim]. */
export function peftAdapterWeights(e: PeftExport): Uint8Array {
  const expected = e.numVirtualTokens * e.tokenDim;
  if (!Number.isInteger(e.numVirtualTokens) || e.numVirtualTokens <= 0 || e.promptEmbeddings.length !== expected) {
    throw new Error(`prompt embeddings hold ${e.promptEmbeddings.length} values; [${e.numVirtualTokens}, ${e.tokenDim}] needs ${expected}`);
  }
  return writeSafetensors(
    { prompt_embeddings: { dtype: 'F32', shape: [e.numVirtualTokens, e.tokenDim], data: e.promptEmbeddings } },
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
