/**
 * The committed reference outputs (test/reference/outputs/<family>.json, made by make-outputs.py
 * from reference.py): for each family's tiny generated model, float64 PyTorch logits at every
 * position for the token ids alone, with a soft prompt, and with a prefix.
 *
 * Layouts (row-major float32):
 *   prompt.data        [prompt.length, dim]       prepended before the token embeddings, unscaled
 *   prefix.layers[l]   keys / values [nKvHeads, prefix.length, headDim], as past_key_values holds
 *                      them (keys after k-norm and RoPE at positions 0..length-1; used as stored)
 *   logits.plain       [ids.length, vocabSize]
 *   logits.prompt      [prompt.length + ids.length, vocabSize]   (virtual positions included)
 *   logits.prefix      [ids.length, vocabSize]    (the ids sit at positions prefix.length…)
 * The model is rebuilt with writeHfModel({ family, preset, seed, dtype }) (weightsSha256 pins it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Family } from '../../services/engine/model/spec.js';

export interface ReferenceFixture {
  family: Family;
  preset: 'tiny';
  seed: number;
  dtype: 'f32';
  /** sha256 of the model's safetensors file(s), concatenated in name order */
  weightsSha256: string;
  text: string;
  /** what the folder's tokenizer.json gives for `text` (BOS included where the family adds it) */
  ids: number[];
  dim: number;
  vocabSize: number;
  nLayers: number;
  nKvHeads: number;
  headDim: number;
  prompt: { length: number; data: Float32Array };
  prefix: { length: number; layers: { keys: Float32Array; values: Float32Array }[] };
  logits: { plain: Float32Array; prompt: Float32Array; prefix: Float32Array };
  /** max |reference − transformers| per case, as make-outputs.py measured it */
  crossCheck: { plain: number; prompt: number; prefix: number };
}

const referenceOutputsDir = join(import.meta.dirname, 'outputs');

function floats(source: string, field: string, base64: unknown, count: number): Float32Array {
  if (typeof base64 !== 'string') throw new Error(`${source}: ${field} must be base64 text`);
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== count * 4) throw new Error(`${source}: ${field} holds ${bytes.length / 4} floats, expected ${count}`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export function loadReferenceFixture(family: Family): ReferenceFixture {
  const source = join(referenceOutputsDir, `${family}.json`);
  const raw = JSON.parse(readFileSync(source, 'utf8')) as Record<string, unknown> & {
    ids: number[];
    dim: number;
    vocabSize: number;
    nKvHeads: number;
    headDim: number;
    prompt: { length: number; data: string };
    prefix: { length: number; layers: { keys: string; values: string }[] };
    logits: Record<'plain' | 'prompt' | 'prefix', string>;
  };
  const { ids, dim, vocabSize, nKvHeads, headDim, prompt, prefix } = raw;
  const t = ids.length;
  const kv = nKvHeads * prefix.length * headDim;
  return {
    ...(raw as unknown as ReferenceFixture),
    prompt: { length: prompt.length, data: floats(source, 'prompt.data', prompt.data, prompt.length * dim) },
    prefix: {
      length: prefix.length,
      layers: prefix.layers.map((l, i) => ({
        keys: floats(source, `prefix.layers[${i}].keys`, l.keys, kv),
        values: floats(source, `prefix.layers[${i}].values`, l.values, kv),
      })),
    },
    logits: {
      plain: floats(source, 'logits.plain', raw.logits.plain, t * vocabSize),
      prompt: floats(source, 'logits.prompt', raw.logits.prompt, (prompt.length + t) * vocabSize),
      prefix: floats(source, 'logits.prefix', raw.logits.prefix, t * vocabSize),
    },
  };
}
