/**
 * The header of a stored GGUF model (metadata, tokenizer, tensor table) read from the start of its
 * blob, streamed, without holding the whole file: the tensor data that follows is never read.
 */
import { parseGgufHeader } from '../../engine/index.js';
import type { BlobStore } from '../../storage/index.js';

type GgufHeader = ReturnType<typeof parseGgufHeader>;

const FIRST_ATTEMPT_BYTES = 1024 * 1024;

export async function readGgufHeader(blobs: BlobStore, key: string): Promise<GgufHeader> {
  const size = await blobs.size(key);
  // parseGgufHeader checks every tensor's extent against the buffer's length, so the buffer has the
  // file's length; it is allocated zero-filled (calloc), and the pages past the prefix we write are
  // never touched, so they take no memory.
  const bytes = new Uint8Array(size);
  let filled = 0;
  let attemptAt = Math.min(FIRST_ATTEMPT_BYTES, size);
  const stream = await blobs.getStream(key);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const n = Math.min(chunk.byteLength, size - filled);
      bytes.set(chunk.subarray(0, n), filled);
      filled += n;
      if (filled < attemptAt || filled === size) continue;
      // Parsed from the bytes read so far; zeros past them can fake a header, so it counts only if it ends inside them.
      const header = tryParse(bytes, key);
      if (header !== undefined && header.dataOffset <= filled) return header;
      attemptAt = Math.min(attemptAt * 2, size);
    }
  } finally {
    stream.destroy();
  }
  return parseGgufHeader(bytes, key); // the whole file was read: the parser's own error, if any
}

function tryParse(bytes: Uint8Array, key: string): GgufHeader | undefined {
  try {
    return parseGgufHeader(bytes, key);
  } catch {
    return undefined;
  }
}
