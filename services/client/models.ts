/** Model upload: a local GGUF file or Hugging Face folder as a RegisterBaseModel stream, read 1 MiB at a time. */
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { RegisterBaseModelRequestSchema } from '../gen/ptune/v1/registry_pb.js';
import { CHUNK_BYTES as CHUNK } from './prompts.js';

export interface LocalFile {
  /** name inside the model (the folder's file name) */
  path: string;
  file: string;
  size: number;
}

/** A model on local disk: one file, or the regular files of a flat folder (sorted by name). */
export interface LocalModel {
  folder: boolean;
  files: LocalFile[];
}

/** The RegisterBaseModel stream: the header, then every file's bytes in order (read 1 MiB at a time, never whole). */
export async function* modelUpload(
  name: string,
  model: LocalModel,
  createdBy: string,
  onChunk?: (bytes: number) => void,
): AsyncGenerator<MessageInitShape<typeof RegisterBaseModelRequestSchema>> {
  const total = model.files.reduce((sum, f) => sum + f.size, 0);
  const files = model.folder ? model.files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.size) })) : [];
  yield { part: { case: 'header', value: { name, sizeBytes: BigInt(total), createdBy, files } } };
  for (const { file, size } of model.files) {
    const handle = await open(file, 'r');
    try {
      for (let at = 0; at < size; at += CHUNK) {
        const buffer = Buffer.alloc(Math.min(CHUNK, size - at));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
        if (bytesRead !== buffer.length) throw new Error(`${file} changed while it was uploaded (expected ${size} bytes)`);
        yield { part: { case: 'chunk', value: buffer } };
        onChunk?.(bytesRead);
      }
    } finally {
      await handle.close();
    }
  }
}

/** One GGUF file as a RegisterBaseModel stream. */
export function weightsUpload(
  name: string,
  file: string,
  size: number,
  createdBy: string,
  onChunk?: (bytes: number) => void,
): AsyncGenerator<MessageInitShape<typeof RegisterBaseModelRequestSchema>> {
  return modelUpload(name, { folder: false, files: [{ path: path.basename(file), file, size }] }, createdBy, onChunk);
}
