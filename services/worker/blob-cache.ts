/**
 * Blobs fetched from the coordinator (GetBlob), cached on disk by sha256 so that a worker downloads a
 * base model or dataset once. A cached file is trusted only after its content was verified.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import type { ServiceClient } from '../grpc/index.js';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
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

    let expected: { size: bigint; sha256: string } | undefined;
    const chunks: Uint8Array[] = [];
    for await (const message of this.client.getBlob({ key }, { signal: options.signal })) {
      if (message.part.case === 'header') expected = { size: message.part.value.sizeBytes, sha256: message.part.value.sha256 };
      else if (message.part.case === 'chunk') chunks.push(message.part.value);
    }
    const bytes = Buffer.concat(chunks);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (!expected || BigInt(bytes.length) !== expected.size || sha256 !== expected.sha256) {
      throw new Error(`blob ${key}: received ${bytes.length} bytes with sha256 ${sha256}, expected ${expected?.size ?? '?'} bytes with ${expected?.sha256 ?? '?'}`);
    }
    const target = path.join(this.dir, 'sha256', sha256);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, target);
    return target;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
