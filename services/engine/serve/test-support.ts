/** Models, prompts and a collector the serving tests share (test support, not shipped API). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prefixWidth } from '../methods/prefix-layout.js';
import { placementOf, type StoredPrompt } from '../methods/serving.js';
import { writeGeneratedModel } from '../model/generate.js';
import { loadGguf } from '../model/gguf.js';
import type { LoadedModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import type { MethodName } from '../prompt/vocabulary.js';
import type { GeneratedToken, GenerateStream, GenerateSummary, ServedPrompt } from './engine.js';

/** The generated 'tiny' GGUF (GQA: 4 heads over 2 KV heads), written to a temporary folder. */
export async function tinyModel(): Promise<{ model: LoadedModel; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ptune-serve-'));
  const file = path.join(dir, 'tiny.gguf');
  await writeGeneratedModel('tiny', 0, file);
  return { model: await loadGguf(file), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A served prompt of seeded values in (−scale, scale): virtual tokens or a key/value prefix. */
export function randomPrompt(model: LoadedModel, method: MethodName, length: number, seed: number, scale = 0.5): ServedPrompt {
  const placement = placementOf(method);
  const width = placement === 'virtual-tokens' ? model.spec.dim : prefixWidth(model.spec);
  const rng = Rng.fromSeed(seed);
  const tensor = Float32Array.from({ length: length * width }, () => scale * (2 * rng.nextFloat() - 1));
  const stored: StoredPrompt = { method, placement, numVirtualTokens: length, tensor, width, metadata: {} };
  return { id: `${method}-${length}-${seed}`, stored };
}

/** Greedy sampling settings without max_tokens. */
export const greedy = { temperature: 0, topP: 1, topK: 0, stop: [] as string[] };

export interface Collected {
  ids: number[];
  text: string;
  summary: GenerateSummary;
  chunks: GeneratedToken[];
}

export async function collect(stream: GenerateStream): Promise<Collected> {
  const chunks: GeneratedToken[] = [];
  for await (const t of stream.tokens) chunks.push(t);
  return { ids: chunks.map((c) => c.id), text: chunks.map((c) => c.text).join(''), summary: await stream.summary, chunks };
}
