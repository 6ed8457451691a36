/**
 * The header of a GGUF file (metadata, tokenizer, tensor table) read from the start of a byte
 * stream, without holding the file: the stream is read only as far as the header goes, and the
 * tensor data that follows is never read. Used on a stored blob (the coordinator checking a
 * dataset against a model).
 */
import { FIRST_HEADER_BYTES, GgufNeedMoreBytes, nextHeaderLength, parseGgufHeader } from './gguf-parse.js';
import type { GgufHeader } from './gguf-types.js';

/** `size` is the whole file's length (the parser checks every tensor's extent against it). */
export async function readGgufHeaderStream(
  stream: AsyncIterable<Uint8Array> & { destroy(): void },
  size: number,
  source: string,
): Promise<{ header: GgufHeader }> {
  const chunks: Uint8Array[] = [];
  let filled = 0;
  let attemptAt = Math.min(FIRST_HEADER_BYTES, size);
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
      filled += chunk.byteLength;
      if (filled < attemptAt) continue;
      try {
        return { header: parseGgufHeader(Buffer.concat(chunks, filled), source, size) };
      } catch (e) {
        if (!(e instanceof GgufNeedMoreBytes)) throw e;
        attemptAt = nextHeaderLength(e, attemptAt, size, source);
      }
    }
  } finally {
    stream.destroy();
  }
  // the stream ended before the header did: the parser's own error on what was read
  return { header: parseGgufHeader(Buffer.concat(chunks, filled), source) };
}
