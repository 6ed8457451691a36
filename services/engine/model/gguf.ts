/**
 * Loads a GGUF checkpoint of any architecture gguf-spec.ts reads (float or quantized tensors):
 * its spec, canonical weights, tokenizer, chat template and fingerprint (sha256 of the file).
 * The file is never held whole: the header is read from its first bytes, each tensor from its own
 * byte range into a buffer of its size, the fingerprint hashed as a stream. Note:
 * `spec.contextLength` is what the file declares (`<arch>.context_length`); GGUF does not record
 * the length the model was trained at (stories260K declares 2048 but was trained at 512).
 */
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { ggufChatTemplate, textTokenizerFromMetadata } from '../tokenizer/gguf-tokenizer.js';
import type { LoadedModel, OpenedModel } from './load-model.js';
import { GgufMetadata } from './gguf-metadata.js';
import { FIRST_HEADER_BYTES, GgufNeedMoreBytes, nextHeaderLength, parseGgufHeader } from './gguf-parse.js';
import { ggufArchitecture, specFromGguf } from './gguf-spec.js';
import type { GgufHeader, GgufTensorInfo } from './gguf-types.js';
import { canonicalF32, ggufEntries, type GgufEntry, ggufTensorF32, ggufWeightSource, type ReadGgufTensor } from './gguf-weights.js';
import { fileSha256 } from './hf/fingerprint.js';
import { readRange } from './read-range.js';
import type { ModelSpec } from './spec.js';
import { expectedWeights, readAllWeights, type F32Tensor } from './weights.js';

export async function loadGguf(path: string): Promise<LoadedModel> {
  const model = await openGguf(path);
  return { ...model, tensors: await readAllWeights(model.spec, model.weights, path) };
}

/** The model without its weights read: header, rope_freqs (part of the spec), fingerprint, and a lazy weight source. */
export async function openGguf(path: string): Promise<OpenedModel> {
  const size = (await stat(path)).size;
  const handle = await open(path, 'r');
  let header: GgufHeader;
  let ropeFreqs: Float32Array | undefined;
  try {
    header = await readGgufHeader(handle, size, path);
    const rope = header.tensors.find((t) => t.name === ROPE_FREQS);
    ropeFreqs = rope && ggufTensorF32(rope, await readTensorBytes(handle, header, rope, path));
  } finally {
    await handle.close();
  }
  const model = ggufModel(header, path, ropeFreqs);
  const weights = ggufWeightSource(model.entries, model.spec.headDim, path, async (info) => {
    const file = await open(path, 'r');
    try {
      return await readTensorBytes(file, header, info, path);
    } finally {
      await file.close();
    }
  });
  return { ...model.parts, weights, fingerprint: await fileSha256(path) };
}

/**
 * Same as loadGguf for a file already in memory (tests and fuzzers build files as bytes); `path`
 * names it in errors.
 */
export function loadGgufBytes(bytes: Uint8Array, path: string): LoadedModel {
  const header = parseGgufHeader(bytes, path);
  const raw = (info: GgufTensorInfo): Uint8Array =>
    bytes.subarray(header.dataOffset + info.offset, header.dataOffset + info.offset + info.byteLength);
  const rope = header.tensors.find((t) => t.name === ROPE_FREQS);
  const model = ggufModel(header, path, rope && ggufTensorF32(rope, raw(rope)));
  const read: ReadGgufTensor = (info) => Promise.resolve(raw(info));
  const tensors = new Map<string, F32Tensor>(
    expectedWeights(model.spec).map(({ name, dims }) => [
      name,
      { dims, data: canonicalF32(model.entries.get(name)!, raw(model.entries.get(name)!.info), model.spec.headDim) },
    ]),
  );
  return {
    ...model.parts,
    tensors,
    weights: ggufWeightSource(model.entries, model.spec.headDim, path, read),
    fingerprint: createHash('sha256').update(bytes).digest('hex'),
  };
}

const ROPE_FREQS = 'rope_freqs.weight';

interface GgufModel {
  spec: ModelSpec;
  entries: Map<string, GgufEntry>;
  /** the LoadedModel fields that do not depend on how the weights are read */
  parts: Pick<LoadedModel, 'spec' | 'tokenizer' | 'chatTemplate' | 'source'>;
}

/** Everything of a GGUF model but its weights, from the header (and rope_freqs' values, read into the spec). */
function ggufModel(header: GgufHeader, path: string, ropeFreqs: Float32Array | undefined): GgufModel {
  const meta = new GgufMetadata(header.metadata, path);
  const arch = ggufArchitecture(meta, path);
  const tokenizer = withSource(path, () => textTokenizerFromMetadata(meta, path));
  const names = new Set(header.tensors.map((t) => t.name));
  const spec = specFromGguf({ meta, tensorNames: names, vocabSize: tokenizer.vocabSize, ropeFreqs, path });
  const entries = ggufEntries(header, spec, arch, path);
  const chatTemplate = ggufChatTemplate(meta);
  const parts = { spec, tokenizer, ...(chatTemplate !== undefined ? { chatTemplate } : {}), source: { kind: 'gguf' as const, path } };
  return { spec, entries, parts };
}

/** The header from the file's first bytes: 1 MiB, then as many as the header turns out to need. */
export async function readGgufHeader(handle: FileHandle, size: number, path: string): Promise<GgufHeader> {
  for (let length = Math.min(FIRST_HEADER_BYTES, size); ;) {
    try {
      return parseGgufHeader(await readRange(handle, 0, length, `${path}: GGUF header`), path, size);
    } catch (e) {
      if (!(e instanceof GgufNeedMoreBytes)) throw e;
      length = nextHeaderLength(e, length, size, path);
    }
  }
}

const readTensorBytes = (handle: FileHandle, header: GgufHeader, info: GgufTensorInfo, path: string): Promise<Uint8Array> =>
  readRange(handle, header.dataOffset + info.offset, info.byteLength, `${path}: tensor "${info.name}"`);

function withSource<T>(path: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith(`${path}: `) ? message : `${path}: ${message}`, { cause: e });
  }
}
