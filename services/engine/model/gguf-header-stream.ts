/**
 * The header of a GGUF file (metadata, tokenizer, tensor table) read from the start of a byte
 * stream, without holding the file: the tensor data that follows is never read. Used on a stored
 * blob (the coordinator checking a dataset against a model) and on a local file (describeModel).
 */
import { parseGgufHeader } from './gguf-parse.js';
import type { GgufHeader } from './gguf-types.js';

const FIRST_ATTEMPT_BYTES = 1024 * 1024;

/**
 * `size` is the whole file's length: parseGgufHeader checks every tensor's extent against the
 * buffer's length, so the buffer has the file's length. It is allocated zero-filled (calloc), and
 * the pages past the prefix written here are never touched, so they take no memory. Returns the
 * header and that sparse buffer (valid for the header's bytes only).
 */
export async function readGgufHeaderStream(
  stream: AsyncIterable<Uint8Array> & { destroy(): void },
  size: number,
  source: string,
): Promise<{ header: GgufHeader; sparse: Uint8Array }> {
  const bytes = new Uint8Array(size);
  let filled = 0;
  let attemptAt = Math.min(FIRST_ATTEMPT_BYTES, size);
  try {
    for await (const chunk of stream) {
      const n = Math.min(chunk.byteLength, size - filled);
      bytes.set(chunk.subarray(0, n), filled);
      filled += n;
      if (filled < attemptAt || filled === size) continue;
      // Parsed from the bytes read so far; zeros past them can fake a header, so it counts only if it ends inside them.
      const header = tryParse(bytes, source);
      if (header !== undefined && header.dataOffset <= filled) return { header, sparse: bytes };
      attemptAt = Math.min(attemptAt * 2, size);
    }
  } finally {
    stream.destroy();
  }
  return { header: parseGgufHeader(bytes, source), sparse: bytes }; // the whole file was read: the parser's own error, if any
}

function tryParse(bytes: Uint8Array, source: string): GgufHeader | undefined {
  try {
    return parseGgufHeader(bytes, source);
  } catch {
    return undefined;
  }
}
