/**
 * The trained prompt as a file: safetensors with `prompt_embeddings` F32 [P, dim] (PEFT's key
 * and layout) and `__metadata__` strings describing how it was made:
 *   format "pt" (as PEFT writes), ptune_format "prompt/1", method (prompt_tuning | p_tuning | prefix_tuning),
 *   method_settings (JSON of the encoder / projection settings; P-tuning and prefix tuning only),
 *   base_model_fingerprint (sha256 of the model file), init, num_virtual_tokens, token_dim,
 *   seed, steps, lr, schedule, warmup_steps, weight_decay, grad_clip, batch_size,
 *   eval_before / eval_after (JSON of the eval metrics, when an eval set was given).
 */
import { readFile } from 'node:fs/promises';
import { readSafetensors, tensorToFloat32, writeSafetensors } from '../formats/safetensors.js';
import type { EvalMetrics } from './vocabulary.js';
import type { RunIdentity } from './run-identity.js';

export const PROMPT_TENSOR = 'prompt_embeddings';

export interface PromptFile {
  embeddings: Float32Array;
  virtualTokens: number;
  dim: number;
  metadata: Record<string, string>;
}

export function promptMetadata(
  identity: RunIdentity,
  dim: number,
  evalBefore?: EvalMetrics,
  evalAfter?: EvalMetrics,
): Record<string, string> {
  const meta: Record<string, string> = {
    format: 'pt',
    ptune_format: 'prompt/1',
    method: identity.method,
    ...(identity.methodSettings === undefined ? {} : { method_settings: identity.methodSettings }),
    base_model_fingerprint: identity.modelFingerprint,
    init: identity.init,
    num_virtual_tokens: String(identity.virtualTokens),
    token_dim: String(dim),
    seed: String(identity.seed),
    steps: String(identity.steps),
    lr: String(identity.lr),
    schedule: identity.schedule,
    warmup_steps: String(identity.warmupSteps),
    weight_decay: String(identity.weightDecay),
    grad_clip: String(identity.gradClip),
    batch_size: String(identity.batchSize),
  };
  if (evalBefore) meta.eval_before = JSON.stringify(evalBefore);
  if (evalAfter) meta.eval_after = JSON.stringify(evalAfter);
  return meta;
}

export function encodePromptFile(embeddings: Float32Array, dim: number, metadata: Record<string, string>): Uint8Array {
  if (dim <= 0 || embeddings.length === 0 || embeddings.length % dim !== 0) {
    throw new Error(`prompt of ${embeddings.length} values is not a whole number of ${dim}-wide rows`);
  }
  return writeSafetensors({ [PROMPT_TENSOR]: { dtype: 'F32', shape: [embeddings.length / dim, dim], data: embeddings } }, metadata);
}

export function decodePromptFile(bytes: Uint8Array, source: string): PromptFile {
  const file = readSafetensors(bytes, { source, rejectNonFinite: false });
  const t = file.tensors[PROMPT_TENSOR];
  if (!t) throw new Error(`${source}: no "${PROMPT_TENSOR}" tensor (found: ${Object.keys(file.tensors).join(', ') || 'none'})`);
  if (t.shape.length !== 2)
    throw new Error(`${source}: "${PROMPT_TENSOR}" has shape [${t.shape.join(', ')}], expected [virtual tokens, dim]`);
  return { embeddings: tensorToFloat32(t), virtualTokens: t.shape[0], dim: t.shape[1], metadata: file.metadata };
}

export async function readPromptFile(file: string): Promise<PromptFile> {
  return decodePromptFile(await readFile(file), file);
}

/** Reads a prompt file and checks it fits a model of width `dim` (and, if given, P virtual tokens). */
export async function readPromptFor(file: string, dim: number, virtualTokens?: number): Promise<PromptFile> {
  const p = await readPromptFile(file);
  if (p.dim !== dim || (virtualTokens !== undefined && p.virtualTokens !== virtualTokens)) {
    const want = `[${virtualTokens ?? 'P'}, ${dim}]`;
    throw new Error(`${file}: "${PROMPT_TENSOR}" is [${p.virtualTokens}, ${p.dim}] but this model and run need ${want}`);
  }
  return p;
}
