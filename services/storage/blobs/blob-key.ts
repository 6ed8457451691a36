import { InvalidBlobKeyError } from './blob-errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
// Lower-case segments that cannot be `.`/`..`, hidden files, or contain separators of any OS.
const SEGMENT = /^[a-z0-9][a-z0-9._-]*$/;
const MAX_KEY_LENGTH = 512;

export type BlobKind = 'prompt' | 'model' | 'dataset' | 'checkpoint';

/** The content-addressed key of a blob: `<kind>/<sha256>`. */
export function contentKey(kind: BlobKind, sha256: string): string {
  assertSha256(sha256, `${kind} blob`);
  return `${kind}/${sha256}`;
}

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

export function assertSha256(value: string, what: string): void {
  if (!isSha256Hex(value)) throw new Error(`${what}: sha256 must be 64 lower-case hex digits, got ${JSON.stringify(value)}`);
}

/**
 * Checks that a key is relative, made of `/`-separated lower-case segments, and cannot name anything
 * outside the store's root on any filesystem (no `..`, absolute paths, NUL, backslashes, drive letters).
 */
export function validateBlobKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidBlobKeyError(String(key), 'empty');
  if (key.length > MAX_KEY_LENGTH) throw new InvalidBlobKeyError(key, `longer than ${MAX_KEY_LENGTH} characters`);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment)) {
      throw new InvalidBlobKeyError(
        key,
        `segment ${JSON.stringify(segment)} must match ${SEGMENT} (lower-case letters, digits, '.', '_', '-', not starting with '.')`,
      );
    }
  }
}

/** Validates a list prefix: a key or the beginning of one (may end with `/`). */
export function validateBlobPrefix(prefix: string): void {
  if (prefix === '') return;
  validateBlobKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/** The sha256 a key promises, when its last segment is one. */
export function sha256OfKey(key: string): string | undefined {
  const last = key.slice(key.lastIndexOf('/') + 1);
  return isSha256Hex(last) ? last : undefined;
}

/** Validates key and expected digest together before any byte is written. */
export function checkPutArguments(key: string, sha256: string): void {
  validateBlobKey(key);
  assertSha256(sha256, `put ${key}`);
  const promised = sha256OfKey(key);
  if (promised !== undefined && promised !== sha256) {
    throw new InvalidBlobKeyError(key, `names sha256 ${promised} but the bytes are declared as ${sha256}`);
  }
}
