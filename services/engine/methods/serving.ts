/**
 * Serving a stored tensor: whatever method trained it, a stored `prompt_embeddings` is either
 * virtual-token embeddings [P, dim] (prompt tuning, P-tuning) or a key/value prefix
 * [P, layers·2·kvDim] (prefix tuning, with or without projection), used as is — as PEFT does in
 * inference mode. The file's `method` metadata decides; files without it are told apart by width.
 */
import type { HostTensor } from '../graph/run.js';
import type { LlamaConfig } from '../model/llama.js';
import { decodePromptFile } from '../train/prompt-file.js';
import { graphSource, type GraphSource } from './graph-source.js';
import { methodNames, type MethodName, type Placement, type TrainingMethod } from './method.js';
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
export function servingMethod(placement: Placement, numVirtualTokens: number, c: LlamaConfig): TrainingMethod {
  return placement === 'virtual-tokens' ? promptTuningMethod(numVirtualTokens, c.dim) : prefixTuningMethod(numVirtualTokens, c, false, kvDim(c));
}

/** Interprets a prompt file's bytes for a model; the message names the file and what does not fit. */
export function decodeStoredPrompt(bytes: Uint8Array, source: string, c: LlamaConfig): StoredPrompt {
  const file = decodePromptFile(bytes, source);
  const declared = file.metadata.method;
  if (declared !== undefined && !methodNames.includes(declared as MethodName)) {
    throw new Error(`${source}: metadata method "${declared}" is not one of ${methodNames.join(', ')}`);
  }
  const method: MethodName | undefined = (declared as MethodName | undefined) ??
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

export async function readStoredPrompt(file: string, c: LlamaConfig): Promise<StoredPrompt> {
  return decodeStoredPrompt(await readFile(file), file, c);
}

/** Graph hooks plus the feeds that carry the stored tensor. */
export function servedPrompt(p: StoredPrompt, c: LlamaConfig): GraphSource & { feeds: Record<string, HostTensor> } {
  const m = servingMethod(p.placement, p.numVirtualTokens, c);
  const [param] = m.parameters;
  return { ...graphSource(m), feeds: { [param.name]: { data: p.tensor, dims: param.shape } } };
}
