/**
 * A soft-prompt method: which trainable parameters it has, how it initializes them, and how the
 * graph turns them into the tensor that is stored and served ([P, storedWidth], PEFT's
 * `prompt_embeddings`) and where that tensor enters the model (virtual-token embeddings before
 * BOS, or per-layer key/value prefixes).
 */
import { methodNames } from '../prompt/vocabulary.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import type { LoadedModel } from '../model/load-model.js';
import type { ModelShape } from '../model/spec.js';
import type { Rng } from '../model/rng.js';
import type { ParameterSet } from '../prompt/vocabulary.js';
import type { PromptInit } from '../prompt/prompt-init.js';
import type { ParameterShape } from './parameters.js';

/** PEFT's names for the methods, lower-cased (also the `method` metadata of a prompt file). */
export type EncoderType = 'mlp' | 'lstm';

/** A method as a user chooses it; omitted hidden sizes take PEFT's default (the method's token_dim). */
export type MethodOptions =
  | { method: 'prompt_tuning' }
  | { method: 'p_tuning'; encoder: EncoderType; encoderHiddenSize?: number }
  | { method: 'prefix_tuning'; prefixProjection?: boolean; encoderHiddenSize?: number };

/** A method with every setting resolved against a model. */
export type MethodSpec =
  | { method: 'prompt_tuning' }
  | { method: 'p_tuning'; encoder: EncoderType; encoderHiddenSize: number }
  | { method: 'prefix_tuning'; prefixProjection: boolean; encoderHiddenSize: number };

/** Where the stored tensor enters the model. */
export type Placement = 'virtual-tokens' | 'past-key-values';

export interface TrainingMethod {
  readonly spec: MethodSpec;
  /** P */
  readonly numVirtualTokens: number;
  readonly placement: Placement;
  /** the stored tensor is [P, storedWidth]: dim for virtual tokens, layers·2·kvDim for prefixes */
  readonly storedWidth: number;
  /** trainable graph inputs, in order */
  readonly parameters: readonly ParameterShape[];
  /** builds the stored tensor [P, storedWidth] from the parameter inputs (in `parameters` order) */
  encode(g: GraphBuilder, inputs: readonly Value[]): Value;
  /** initial values of every parameter; draws only from `rng` */
  initialParameters(init: PromptInit, model: LoadedModel, rng: Rng): Promise<ParameterSet>;
}

/** The method-specific settings as a canonical string (none for prompt tuning), for run identities and metadata. */
export function methodSettings(spec: MethodSpec): string | undefined {
  switch (spec.method) {
    case 'prompt_tuning':
      return undefined;
    case 'p_tuning':
      return JSON.stringify({ encoder: spec.encoder, encoder_hidden_size: spec.encoderHiddenSize });
    case 'prefix_tuning':
      return JSON.stringify({ prefix_projection: spec.prefixProjection, encoder_hidden_size: spec.encoderHiddenSize });
  }
}

/** Throws a message naming the setting unless the options fit a model. */
export function checkMethodOptions(o: MethodOptions, c: ModelShape): void {
  if (!methodNames.includes(o.method)) throw new Error(`method must be one of ${methodNames.join(', ')} (got ${String(o.method)})`);
  if (o.method === 'prompt_tuning') return;
  if (o.encoderHiddenSize !== undefined && !(Number.isSafeInteger(o.encoderHiddenSize) && o.encoderHiddenSize >= 1)) {
    throw new Error(`encoder hidden size must be an integer ≥ 1 (got ${o.encoderHiddenSize})`);
  }
  if (o.method === 'p_tuning' && o.encoder !== 'mlp' && o.encoder !== 'lstm')
    throw new Error(`P-tuning encoder must be mlp or lstm (got ${String(o.encoder)})`);
  if (c.dim <= 0) throw new Error('model dim must be positive');
}
