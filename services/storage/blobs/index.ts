export type { BlobBody, BlobInfo, BlobStore, PutOptions, PutResult } from './blob-store.js';
export { BlobIntegrityError, BlobNotFoundError, InvalidBlobKeyError } from './blob-errors.js';
export { type BlobKind, contentKey, isSha256Hex, sha256OfKey, validateBlobKey } from './blob-key.js';
export { LocalBlobStore } from './local-blob-store.js';
export { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.js';
export { openBlobStore } from './open-blob-store.js';
export { sweepOrphanBlobs, type SweepOptions, type SweepResult } from './sweep-orphan-blobs.js';
