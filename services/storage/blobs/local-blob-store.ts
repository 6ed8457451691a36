import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobIntegrityError, BlobNotFoundError } from './blob-errors.js';
import { checkPutArguments, sha256OfKey, validateBlobKey, validateBlobPrefix } from './blob-key.js';
import type { BlobBody, BlobInfo, BlobStore, PutOptions, PutResult } from './blob-store.js';
import { verifyingStream } from './verify-stream.js';

/** Hidden (dot) names can never be keys, so partial writes live beside the blobs without clashing. */
const TMP_DIR = '.tmp';

/**
 * Blobs as files under `root`: `<root>/<key>`. A put streams into `<root>/.tmp`, hashing as it goes,
 * fsyncs, checks the digest, then renames into place and fsyncs the directory, so a blob is either
 * absent or complete and verified, even across crashes.
 */
export class LocalBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  async put(key: string, body: BlobBody, options: PutOptions): Promise<PutResult> {
    checkPutArguments(key, options.sha256);
    const tmpDir = path.join(this.root, TMP_DIR);
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, `${randomBytes(8).toString('hex')}.part`);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const file = await open(tmp, 'wx', 0o644);
    try {
      for await (const chunk of body instanceof Uint8Array ? [body] : body) {
        hash.update(chunk);
        sizeBytes += chunk.byteLength;
        await file.write(chunk);
      }
      await file.sync();
    } catch (err) {
      await file.close();
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await file.close();
    const actual = hash.digest('hex');
    if (actual !== options.sha256) {
      await unlink(tmp);
      throw new BlobIntegrityError(key, options.sha256, actual);
    }
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(tmp, target);
    await syncDirectory(path.dirname(target));
    return { key, sha256: actual, sizeBytes };
  }

  async get(key: string): Promise<Uint8Array> {
    const bytes = await readFile(this.pathOf(key)).catch((err: unknown) => this.rethrow(err, key));
    const expected = sha256OfKey(key);
    if (expected !== undefined) {
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== expected) throw new BlobIntegrityError(key, expected, actual);
    }
    return bytes;
  }

  async getStream(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    await stat(file).catch((err: unknown) => this.rethrow(err, key));
    const stream = createReadStream(file);
    const expected = sha256OfKey(key);
    return expected === undefined ? stream : verifyingStream(stream, key, expected);
  }

  async size(key: string): Promise<number> {
    const s = await stat(this.pathOf(key)).catch((err: unknown) => this.rethrow(err, key));
    return s.size;
  }

  async has(key: string): Promise<boolean> {
    return stat(this.pathOf(key)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(prefix = ''): AsyncIterable<BlobInfo> {
    validateBlobPrefix(prefix);
    yield* this.walk('', prefix);
  }

  private async *walk(dirKey: string, prefix: string): AsyncGenerator<BlobInfo> {
    const dir = dirKey === '' ? this.root : path.join(this.root, dirKey);
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
      if (isMissing(err)) return [];
      throw err;
    });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      // Descend only where keys under this directory can still match the prefix.
      if (!(key.startsWith(prefix) || prefix.startsWith(`${key}/`))) continue;
      if (entry.isDirectory()) {
        yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const s = await stat(path.join(this.root, key));
        yield { key, sizeBytes: s.size, lastModified: s.mtime };
      }
    }
  }

  private pathOf(key: string): string {
    validateBlobKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  private rethrow(err: unknown, key: string): never {
    if (isMissing(err)) throw new BlobNotFoundError(key, this.root);
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
