/**
 * Data paths on a worker: whatever blob key a (compromised) coordinator hands out, the worker's
 * cache writes only `<cache>/sha256/<sha256 of the bytes it verified>` and never reads a file
 * outside its cache for it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { createClient, type GrpcTransport } from '../../services/grpc/index.js';
import { BlobCache } from '../../services/worker/blob-cache.js';
import { startBlobServer, type BlobServer } from '../support/blob-server.js';

const PAYLOAD = new TextEncoder().encode('{"input":"a","output":"b"}\n');
const SHA = createHash('sha256').update(PAYLOAD).digest('hex');

describe('worker blob cache under hostile keys', () => {
  let dir: string;
  let cacheDir: string;
  let server: BlobServer;
  let transport: GrpcTransport;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-worker-paths-'));
    cacheDir = path.join(dir, 'cache');
    await mkdir(path.join(cacheDir, 'sha256'), { recursive: true });
    // a file a traversal would reach: it must never be served as the blob
    await writeFile(path.join(dir, SHA), 'planted outside the cache');
    await writeFile(path.join(dir, 'secret'), 'do not read');
    // A coordinator that answers every key with the same verified bytes.
    server = await startBlobServer(async function* () {
      yield { part: { case: 'header', value: { sizeBytes: BigInt(PAYLOAD.length), sha256: SHA } } };
      yield { part: { case: 'chunk', value: PAYLOAD } };
    });
    transport = server.transport;
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    'dataset/../../secret',
    `../../${SHA}`,
    `dataset/../../../${SHA}`,
    '/etc/passwd',
    'dataset/..',
    '..',
    `dataset\\..\\..\\${SHA}`,
    'dataset/%2e%2e/secret',
  ])('key %s lands in the cache by verified sha256', async (key) => {
    const cache = new BlobCache(createClient(WorkerProtocolService, transport), cacheDir);
    const file = await cache.file(key);
    expect(file).toBe(path.join(cacheDir, 'sha256', SHA));
    expect((await readdir(dir)).sort()).toEqual([SHA, 'cache', 'secret'].sort());
    expect((await readdir(path.join(cacheDir, 'sha256'))).filter((f) => !f.endsWith('.tmp'))).toEqual([SHA]);
  });
});
