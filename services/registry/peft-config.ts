/**
 * PEFT adapter_config.json, read on import and written on export. PEFT stores the final virtual-token
 * embeddings of all three prompt-learning methods under `prompt_embeddings`, and loads them directly
 * when `inference_mode` is true, so an exported version needs no prompt encoder.
 */
import { InitMethod, TuningMethod } from '../gen/ptune/v1/common_pb.js';
import { peftAdapterConfig, type PeftMethodConfig } from '../engine/index.js';
import type { BaseModel } from '../storage/index.js';
import { initFromPeft, initToPeft, invalidArgument, methodFromPeft, methodProtoNames } from '../domain/index.js';

/** What an imported adapter_config.json says about the prompt. */
export interface PeftConfigInfo {
  method: TuningMethod;
  numVirtualTokens: number;
  /** Present for prompt tuning when the config records it. */
  init?: { method: InitMethod; text: string };
}

export function readPeftConfig(bytes: Uint8Array, field: string): PeftConfigInfo {
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw invalidArgument(field, `is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalidArgument(field, 'must be a JSON object');
  const c = config as Record<string, unknown>;
  const method = methodFromPeft(c.peft_type);
  if (method === undefined) {
    throw invalidArgument(
      `${field}.peft_type`,
      `${JSON.stringify(c.peft_type)} is not a prompt-learning type; use ${methodProtoNames.join(', ')}`,
    );
  }
  const tokens = c.num_virtual_tokens;
  if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens <= 0) {
    throw invalidArgument(`${field}.num_virtual_tokens`, `must be a positive integer, got ${JSON.stringify(tokens)}`);
  }
  const submodules = c.num_transformer_submodules ?? 1;
  if (submodules !== 1) {
    throw invalidArgument(
      `${field}.num_transformer_submodules`,
      `is ${JSON.stringify(submodules)}; only decoder-only models (1) are supported`,
    );
  }
  const init = initFromPeft(c.prompt_tuning_init);
  const info: PeftConfigInfo = { method, numVirtualTokens: tokens };
  if (init !== undefined)
    info.init = { method: init, text: typeof c.prompt_tuning_init_text === 'string' ? c.prompt_tuning_init_text : '' };
  return info;
}

export interface PeftExportInput {
  method: TuningMethod;
  numVirtualTokens: number;
  model: BaseModel;
  init: { method: InitMethod; text: string };
  promptEmbeddings: Float32Array;
}

/** adapter_config.json of a stored version, written by the engine's PEFT config writer. */
export function peftConfigFor(input: PeftExportInput): Record<string, unknown> {
  const { model } = input;
  const prefix = input.method === TuningMethod.PREFIX_TUNING;
  return peftAdapterConfig({
    baseModelNameOrPath: model.name,
    method: peftMethod(input),
    numVirtualTokens: input.numVirtualTokens,
    // PEFT sizes prefix key/values by the key/value heads (grouped-query attention).
    tokenDim: prefix ? model.headDim * model.numKvHeads : model.hiddenSize,
    numAttentionHeads: prefix ? model.numKvHeads : model.numHeads,
    numLayers: model.numLayers,
    promptEmbeddings: input.promptEmbeddings,
  });
}

function peftMethod(input: PeftExportInput): PeftMethodConfig {
  switch (input.method) {
    case TuningMethod.P_TUNING:
      // The stored tensor is the encoder's output, which PEFT uses as is in inference mode.
      return { peftType: 'P_TUNING', encoderReparameterizationType: 'MLP', encoderHiddenSize: input.model.hiddenSize, encoderNumLayers: 2 };
    case TuningMethod.PREFIX_TUNING:
      return { peftType: 'PREFIX_TUNING', prefixProjection: false, encoderHiddenSize: input.model.hiddenSize };
    default: {
      const init = initToPeft(input.init.method) ?? 'RANDOM';
      return { peftType: 'PROMPT_TUNING', init, ...(init === 'TEXT' ? { initText: input.init.text } : {}) };
    }
  }
}
