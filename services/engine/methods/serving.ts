/**
 * Serving a stored tensor: whatever method trained it, a stored `prompt_embeddings` is either
 * virtual-token embeddings [P, dim] (prompt tuning, P-tuning) or a key/value prefix
 * [P, layers·2·kvDim] (prefix tuning, with or without projection), used as is — as PEFT does in
 * inference mode. The file's `method` metadata decides; files without it are told apart by width.
 */
import type { ModelShape } from '../model/spec.js';
import { decodePromptFile } from '../prompt/prompt-file.js';
import { graphSource, type GraphSource } from './graph-source.js';
import { type Placement, type TrainingMethod } from './method.js';
import { methodNames, type MethodName } from '../prompt/vocabulary.js';
import { kvDim, prefixWidth } from './prefix-layout.js';
import { prefixTuningMethod } from './prefix-tuning.js';
import { promptTuningMethod } from './prompt-tuning.js';
import { readFile } from 'node:fs/promises';

export interface StoredPrompt {
  method: MethodName;
  placement: Placement;
  numVirtualTokens: number;
  /** row-major [numVirtualTokens, width] */
  tensor: Float32Array;
  width: number;
  metadata: Record<string, string>;
}

export const placementOf = (method: MethodName): Placement => (method === 'prefix_tuning' ? 'past-key-values' : 'virtual-tokens');

/** The identity method that feeds a stored tensor of this placement into the graph. */
export function servingMethod(placement: Placement, numVirtualTokens: number, c: ModelShape): TrainingMethod {
  return placement === 'virtual-tokens'
    ? promptTuningMethod(numVirtualTokens, c.dim)
    : prefixTuningMethod(numVirtualTokens, c, false, kvDim(c));
}

/** Interprets a prompt file's bytes for a model; the message names the file and what does not fit. */
export function decodeStoredPrompt(bytes: Uint8Array, source: string, c: ModelShape): StoredPrompt {
  const file = decodePromptFile(bytes, source);
  const declared = file.metadata.method;
  if (declared !== undefined && !methodNames.includes(declared as MethodName)) {
    throw new Error(`${source}: metadata method "${declared}" is not one of ${methodNames.join(', ')}`);
  }
  const method: MethodName | undefined =
    (declared as MethodName | undefined) ??
    (file.dim === c.dim ? 'prompt_tuning' : file.dim === prefixWidth(c) ? 'prefix_tuning' : undefined);
  const placement = method && placementOf(method);
  const width = placement === 'past-key-values' ? prefixWidth(c) : c.dim;
  if (!method || !placement || file.dim !== width) {
    throw new Error(
      `${source}: "prompt_embeddings" is [${file.virtualTokens}, ${file.dim}]${declared ? ` (${declared})` : ''}; this model needs ` +
        `[P, ${c.dim}] for virtual tokens or [P, ${prefixWidth(c)}] (layers·2·kvDim) for a prefix`,
    );
  }
  return { method, placement, numVirtualTokens: file.virtualTokens, tensor: file.embeddings, width, metadata: file.metadata };
}

export async function readStoredPrompt(file: string, c: ModelShape): Promise<StoredPrompt> {
  return decodeStoredPrompt(await readFile(file), file, c);
}

/** A stored tensor as graph hooks plus the one graph input (name, shape, data) that carries it. */
export interface ServedTensor extends GraphSource {
  name: string;
  dims: readonly number[];
  data: Float32Array;
  /** positions it takes before the real tokens (P) */
  length: number;
}

/** Serves `tensor` ([P, dim] virtual tokens or [P, layers·2·kvDim] prefix) for a model; throws if it is not whole rows. */
export function servedTensor(placement: Placement, tensor: Float32Array, c: ModelShape): ServedTensor {
  const width = placement === 'virtual-tokens' ? c.dim : prefixWidth(c);
  const length = tensor.length / width;
  if (!Number.isInteger(length) || length < 1)
    throw new Error(`a ${placement} tensor of ${tensor.length} values is not whole rows of ${width}`);
  const m = servingMethod(placement, length, c);
  const [param] = m.parameters;
  return { ...graphSource(m), name: param.name, dims: param.shape, data: tensor, length };
}
