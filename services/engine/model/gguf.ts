/**
 * Loads a GGUF checkpoint of any architecture gguf-spec.ts reads (float or quantized tensors):
 * its spec, canonical weights (read once into float32), tokenizer, chat template and fingerprint
 * (sha256 of the whole file). Note: `spec.contextLength` is what the file declares
 * (`<arch>.context_length`); GGUF does not record the length the model was trained at
 * (stories260K declares 2048 but was trained at 512).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ggufChatTemplate, textTokenizerFromMetadata } from '../tokenizer/gguf-tokenizer.js';
import type { LoadedModel } from './load-model.js';
import { GgufMetadata } from './gguf-metadata.js';
import { parseGgufHeader } from './gguf-parse.js';
import { ggufArchitecture, specFromGguf } from './gguf-spec.js';
import { ggufWeights } from './gguf-weights.js';

/** Files above this size are refused rather than read into memory. */
const MAX_FILE_BYTES = 4 * 1024 ** 3 - 1;

export async function loadGguf(path: string): Promise<LoadedModel> {
  const size = (await stat(path)).size;
  if (size > MAX_FILE_BYTES) throw new Error(`${path}: ${size} bytes is more than ptune can load (${MAX_FILE_BYTES})`);
  return loadGgufBytes(new Uint8Array(await readFile(path)), path);
}

/** Same as loadGguf for a file already in memory; `path` names it in errors. */
export function loadGgufBytes(bytes: Uint8Array, path: string): LoadedModel {
  const header = parseGgufHeader(bytes, path);
  const meta = new GgufMetadata(header.metadata, path);
  const arch = ggufArchitecture(meta, path);
  const tokenizer = withSource(path, () => textTokenizerFromMetadata(meta, path));
  const names = new Set(header.tensors.map((t) => t.name));
  const weights = ggufWeights(bytes, header, path);
  const ropeFreqs = names.has('rope_freqs.weight') ? weights.readTensor('rope_freqs.weight') : undefined;
  const spec = specFromGguf({ meta, tensorNames: names, vocabSize: tokenizer.vocabSize, ropeFreqs, path });
  const source = weights.canonical(spec, arch);
  const chatTemplate = ggufChatTemplate(meta);
  return {
    spec,
    tensors: source.readAll(),
    weights: source,
    tokenizer,
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
    fingerprint: createHash('sha256').update(bytes).digest('hex'),
    source: { kind: 'gguf', path },
  };
}

function withSource<T>(path: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith(`${path}: `) ? message : `${path}: ${message}`, { cause: e });
  }
}
