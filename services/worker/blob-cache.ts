/**
 * Blobs fetched from the coordinator (GetBlob), cached on disk by sha256 so that a worker downloads a
 * base model or dataset once. A cached file is trusted only after its content was verified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import type { ServiceClient } from '../grpc/index.js';

export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return env.PTUNE_CACHE_DIR || path.join(os.homedir(), '.cache', 'ptune');
}

export class BlobCache {
  constructor(
    private readonly client: ServiceClient<typeof WorkerProtocolService>,
    readonly dir: string,
  ) {}

  /** Local path of the blob `key`, downloading and verifying it when not cached yet. */
  async file(key: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const promised = key.slice(key.lastIndexOf('/') + 1);
    const cached = path.join(this.dir, 'sha256', promised);
    if (/^[0-9a-f]{64}$/.test(promised) && (await exists(cached))) return cached;

    const dir = path.join(this.dir, 'sha256');
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.${process.pid}.${randomBytes(6).toString('hex')}.part`);
    try {
      const { sha256 } = await this.download(key, tmp, options.signal);
      const target = path.join(dir, sha256);
      await rename(tmp, target);
      return target;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Streams GetBlob into `file`, hashing as it writes; fails unless size and sha256 match the header. */
  private async download(key: string, file: string, signal: AbortSignal | undefined): Promise<{ sha256: string }> {
    let expected: { size: bigint; sha256: string } | undefined;
    const hash = createHash('sha256');
    let size = 0n;
    const out = await open(file, 'wx', 0o644);
    try {
      for await (const message of this.client.getBlob({ key }, { signal })) {
        if (message.part.case === 'header') expected = { size: message.part.value.sizeBytes, sha256: message.part.value.sha256 };
        else if (message.part.case === 'chunk') {
          hash.update(message.part.value);
          size += BigInt(message.part.value.byteLength);
          await writeAll(out, message.part.value, file);
        }
      }
      await out.sync();
      // what is on disk, not only what was received, must be what the header promised
      const written = (await out.stat()).size;
      if (BigInt(written) !== size) throw new Error(`blob ${key}: received ${size} bytes but ${written} are on disk in ${file}`);
    } finally {
      await out.close();
    }
    const sha256 = hash.digest('hex');
    if (!expected || size !== expected.size || sha256 !== expected.sha256) {
      throw new Error(
        `blob ${key}: received ${size} bytes with sha256 ${sha256}, expected ${expected?.size ?? '?'} bytes with ${expected?.sha256 ?? '?'}`,
      );
    }
    const promised = key.slice(key.lastIndexOf('/') + 1);
    if (/^[0-9a-f]{64}$/.test(promised) && promised !== sha256)
      throw new Error(`blob ${key}: the coordinator sent content with sha256 ${sha256}`);
    return { sha256 };
  }
}

/** Writes every byte of `bytes`: FileHandle.write may write fewer than asked (it says how many). */
async function writeAll(handle: FileHandle, bytes: Uint8Array, file: string): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.byteLength - at);
    if (bytesWritten <= 0) throw new Error(`${file}: the disk took none of the ${bytes.byteLength - at} bytes left to write (disk full?)`);
    at += bytesWritten;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
