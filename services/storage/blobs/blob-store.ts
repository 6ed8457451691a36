import type { Readable } from 'node:stream';

/** Bytes to store: a buffer, or a stream of chunks (Node Readable or any async iterable). */
export type BlobBody = Uint8Array | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** Expected sha256 (hex) of the bytes; `put` fails with BlobIntegrityError unless what was written matches. */
  sha256: string;
}

export interface PutResult {
  key: string;
  sha256: string;
  sizeBytes: number;
}

export interface BlobInfo {
  key: string;
  sizeBytes: number;
  lastModified: Date;
}

/**
 * Content-addressed blob storage (a local folder or an S3 bucket). Keys look like `<kind>/<sha256>`
 * (see blob-key.ts); when a key's last segment is a sha256, `put` and reads check the bytes against it.
 *
 * Writers must `put` a blob (even one that exists) right before inserting the row that references it:
 * `put` refreshes the blob's modification time, which is what keeps the orphan sweeper's grace
 * period from racing the insert.
 */
export interface BlobStore {
  /** Writes and verifies `body`; returns only once the stored bytes are known to hash to `sha256`. */
  put(key: string, body: BlobBody, options: PutOptions): Promise<PutResult>;
  /** The whole blob, verified against its key's sha256. Throws BlobNotFoundError. */
  get(key: string): Promise<Uint8Array>;
  /** The blob as a stream; for content-addressed keys the stream errors at its end if the bytes do not match. */
  getStream(key: string): Promise<Readable>;
  /** Size of the stored blob in bytes, without reading it. Throws BlobNotFoundError. */
  size(key: string): Promise<number>;
  has(key: string): Promise<boolean>;
  /** Removes the blob; removing a missing blob is not an error. */
  delete(key: string): Promise<void>;
  /** Every blob whose key starts with `prefix` (all blobs without one). */
  list(prefix?: string): AsyncIterable<BlobInfo>;
}
