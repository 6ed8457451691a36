/** GetBlob and PutBlob bodies: blobs stream between the store and the wire, never held whole. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { dataLoss, invalidArgument, notFound } from '../domain/index.js';
import { BlobIntegrityError, BlobNotFoundError, InvalidBlobKeyError, sha256OfKey, type BlobStore } from '../storage/index.js';

const BLOB_CHUNK_BYTES = 1024 * 1024;
const MAX_CHUNK_BYTES = 4 * BLOB_CHUNK_BYTES;

type GetBlobPart = { case: 'header'; value: { sizeBytes: bigint; sha256: string } } | { case: 'chunk'; value: Uint8Array };

/**
 * The GetBlob stream: a header (size, sha256) then chunks of `chunkSize` bytes (0: 1 MiB; at most
 * 4 MiB). A content-addressed key's sha256 is its own; any other key is hashed in a first streamed
 * pass. The store verifies the bytes as they stream: damage found at the end fails the call with
 * DATA_LOSS after the chunks, so a client must check the header's sha256 (the worker's cache does).
 */
export async function* streamBlob(blobs: BlobStore, key: string, chunkSize: number): AsyncGenerator<{ part: GetBlobPart }> {
  try {
    const sizeBytes = await blobs.size(key);
    const sha256 = sha256OfKey(key) ?? (await hashStream(await blobs.getStream(key)));
    yield { part: { case: 'header', value: { sizeBytes: BigInt(sizeBytes), sha256 } } };
    for await (const chunk of rechunk(await blobs.getStream(key), Math.min(chunkSize || BLOB_CHUNK_BYTES, MAX_CHUNK_BYTES))) {
      yield { part: { case: 'chunk', value: chunk } };
    }
  } catch (err) {
    if (err instanceof InvalidBlobKeyError) throw invalidArgument('key', err.message);
    if (err instanceof BlobNotFoundError) throw notFound(`blob ${err.key} does not exist`, { field: 'key' });
    if (err instanceof BlobIntegrityError) throw dataLoss(`${err.message}: the stored bytes are damaged`, { field: 'key' });
    throw err;
  }
}

async function hashStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Regroups a byte stream into chunks of exactly `size` bytes (the last may be shorter); holds at most one chunk. */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let pending = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const piece of source) {
    for (let at = 0; at < piece.byteLength;) {
      const n = Math.min(size - filled, piece.byteLength - at);
      pending.set(piece.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield pending;
        pending = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield pending.subarray(0, filled);
}
