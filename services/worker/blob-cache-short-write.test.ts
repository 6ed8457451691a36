/**
 * A write to disk may take fewer bytes than asked (FileHandle.write says how many): the blob cache
 * writes the rest, and refuses a download the disk does not take, so a truncated file is never
 * renamed into the cache as verified. The disk here takes at most `limit` bytes per write.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import type { ServiceClient } from '../grpc/index.js';
import { BlobCache } from './blob-cache.js';

const disk = vi.hoisted(() => ({ limit: Infinity }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (...args) => {
    const handle = await fs.open(...args);
    const write = handle.write.bind(handle) as (b: Uint8Array, offset: number, length: number) => Promise<{ bytesWritten: number }>;
    Object.assign(handle, {
      write: (buffer: Uint8Array, offset = 0, length = buffer.byteLength - offset) => write(buffer, offset, Math.min(length, disk.limit)),
    });
    return handle;
  };
  return { ...fs, open };
});

const blob = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251);
const SHA = createHash('sha256').update(blob).digest('hex');

/** A coordinator answering GetBlob with the header and two chunks. */
const client = {
  async *getBlob() {
    yield { part: { case: 'header', value: { sizeBytes: BigInt(blob.length), sha256: SHA } } };
    yield { part: { case: 'chunk', value: blob.subarray(0, 60_000) } };
    yield { part: { case: 'chunk', value: blob.subarray(60_000) } };
  },
} as unknown as ServiceClient<typeof WorkerProtocolService>;

describe('BlobCache on a disk that takes part of each write', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-blob-short-'));
  });
  afterEach(async () => {
    disk.limit = Infinity;
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the rest of each chunk until every byte is on disk', async () => {
    disk.limit = 4096;
    const file = await new BlobCache(client, dir).file(`models/${SHA}`);
    expect(file).toBe(path.join(dir, 'sha256', SHA));
    expect(Buffer.from(await readFile(file)).equals(Buffer.from(blob))).toBe(true);
  });

  it('refuses when the disk takes nothing, leaving no file in the cache', async () => {
    disk.limit = 0;
    await expect(new BlobCache(client, dir).file(`models/${SHA}`)).rejects.toThrow(/the disk took none of the 60000 bytes left to write/);
    expect(await readdir(path.join(dir, 'sha256'))).toEqual([]);
  });
});
