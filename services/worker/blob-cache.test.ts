/**
 * The worker's blob cache writes each GetBlob chunk to disk as it arrives (issue #15 item 4): the
 * coordinator here sends the next chunk only once the previous one is in the cache's partial file,
 * so a cache that gathered chunks in memory before writing would never receive the second chunk.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import { createClient, type GrpcTransport } from '../grpc/index.js';
import { BlobCache } from './blob-cache.js';
import { startBlobServer, type BlobServer } from '../../test/support/blob-server.js';

const CHUNK = 256 * 1024;
const CHUNKS = 8;
const blob = Uint8Array.from({ length: CHUNK * CHUNKS }, (_, i) => (i * 7919) % 251);
const SHA = createHash('sha256').update(blob).digest('hex');

/** bytes in the cache's partial download file(s) */
async function partialBytes(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let n = 0;
  for (const name of names.filter((f) => f.endsWith('.part'))) n += (await stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size;
  return n;
}

describe('BlobCache downloads', () => {
  let dir: string;
  let server: BlobServer;
  let transport: GrpcTransport;
  /** per chunk sent: the partial file's size when the coordinator was about to send the next one */
  const onDisk: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-blob-cache-'));
    server = await startBlobServer(async function* () {
      yield { part: { case: 'header', value: { sizeBytes: BigInt(blob.length), sha256: SHA } } };
      for (let i = 0; i < CHUNKS; i++) {
        yield { part: { case: 'chunk', value: blob.subarray(i * CHUNK, (i + 1) * CHUNK) } };
        const want = (i + 1) * CHUNK;
        const deadline = Date.now() + 10_000;
        while ((await partialBytes(path.join(dir, 'sha256'))) < want && Date.now() < deadline) await sleep(5);
        onDisk.push(await partialBytes(path.join(dir, 'sha256')));
      }
    });
    transport = server.transport;
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every chunk to its file before the next one arrives, then keeps the verified file', async () => {
    const cache = new BlobCache(createClient(WorkerProtocolService, transport), dir);
    const file = await cache.file(`models/${SHA}`);
    expect(onDisk).toEqual(Array.from({ length: CHUNKS }, (_, i) => (i + 1) * CHUNK));
    expect(file).toBe(path.join(dir, 'sha256', SHA));
    expect(Buffer.from(await readFile(file)).equals(Buffer.from(blob))).toBe(true);
    expect((await readdir(path.join(dir, 'sha256'))).filter((f) => f.endsWith('.part'))).toEqual([]);
  }, 60_000);
});
