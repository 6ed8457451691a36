import { GgufMetadata, Tokenizer, tokenizerSpecFromMetadata } from '../../engine/index.js';
import type { BlobStore } from '../../storage/index.js';
import { readGgufHeader } from './gguf-header-prefix.js';

const cache = new Map<string, Promise<Tokenizer>>();
const CACHE_ENTRIES = 4;

/**
 * The tokenizer inside a GGUF base model (read from its metadata only, streamed from the start of
 * the blob), cached by blob key. A cache, not state: a restart just reads it again.
 */
export function modelTokenizer(blobs: BlobStore, weightsBlobKey: string): Promise<Tokenizer> {
  let tokenizer = cache.get(weightsBlobKey);
  if (!tokenizer) {
    tokenizer = readGgufHeader(blobs, weightsBlobKey).then(
      (header) => new Tokenizer(tokenizerSpecFromMetadata(new GgufMetadata(header.metadata, weightsBlobKey), weightsBlobKey)),
    );
    tokenizer.catch(() => cache.delete(weightsBlobKey));
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(weightsBlobKey, tokenizer);
  }
  return tokenizer;
}
