import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type TestS3 } from '../../../test/support/s3.js';
import { BlobIntegrityError, BlobNotFoundError, InvalidBlobKeyError } from './blob-errors.js';
import { contentKey } from './blob-key.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

interface Harness {
  store: BlobStore;
  /** Overwrites the stored bytes behind the store's back (bit rot, a bad disk, an operator). */
  corrupt(key: string, bytes: Uint8Array): Promise<void>;
}

let s3: TestS3;
let localRoot: string;
const harnesses: Record<string, () => Harness> = {
  local: () => {
    const store = new LocalBlobStore(localRoot);
    return { store, corrupt: (key, bytes) => writeFile(path.join(localRoot, key), bytes) };
  },
  s3: () => {
    const store = new S3BlobStore(s3.storeOptions);
    const raw = new S3Client({ ...s3.storeOptions, requestChecksumCalculation: 'WHEN_REQUIRED' });
    return {
      store,
      corrupt: async (key, bytes) => {
        await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: bytes }));
      },
    };
  },
};

beforeAll(async () => {
  s3 = await startS3();
  localRoot = await mkdtemp(path.join(os.tmpdir(), 'ptune-blobs-'));
});
afterAll(async () => {
  await s3?.stop();
  await rm(localRoot, { recursive: true, force: true });
});

describe.each(Object.keys(harnesses))('%s blob store', (name) => {
  it('puts, verifies, reads, lists and deletes a blob', async () => {
    const { store } = harnesses[name]();
    const bytes = bytesOf(`prompt tensor bytes for ${name}`);
    const key = contentKey('prompt', sha(bytes));

    expect(await store.has(key)).toBe(false);
    expect(await store.put(key, bytes, { sha256: sha(bytes) })).toEqual({ key, sha256: sha(bytes), sizeBytes: bytes.byteLength });
    expect(await store.has(key)).toBe(true);
    expect(await store.size(key)).toBe(bytes.byteLength);
    expect(Buffer.from(await store.get(key))).toEqual(Buffer.from(bytes));
    expect(await readAll(await store.getStream(key))).toEqual(Buffer.from(bytes));

    const listed = await collect(store.list('prompt/'));
    expect(listed.find((b) => b.key === key)).toMatchObject({ key, sizeBytes: bytes.byteLength });
    expect((await collect(store.list('dataset/'))).find((b) => b.key === key)).toBeUndefined();

    await store.delete(key);
    expect(await store.has(key)).toBe(false);
    await expect(store.get(key)).rejects.toThrow(BlobNotFoundError);
    await expect(store.getStream(key)).rejects.toThrow(BlobNotFoundError);
    await expect(store.size(key)).rejects.toThrow(BlobNotFoundError);
    await store.delete(key); // deleting a missing blob is fine
  });

  it('streams a multi-chunk body in and out', async () => {
    const { store } = harnesses[name]();
    const chunks = Array.from({ length: 40 }, (_, i) => new Uint8Array(64 * 1024).fill(i));
    const all = Buffer.concat(chunks);
    const key = contentKey('model', sha(all));
    const result = await store.put(key, Readable.from(chunks), { sha256: sha(all) });
    expect(result.sizeBytes).toBe(all.byteLength);
    expect(sha(await readAll(await store.getStream(key)))).toBe(sha(all));
  });

  it('refuses bytes that do not match the declared sha256 and stores nothing', async () => {
    const { store } = harnesses[name]();
    const declared = bytesOf('what the client meant to send');
    const sent = bytesOf('what actually arrived');
    const key = contentKey('prompt', sha(declared));
    await expect(store.put(key, sent, { sha256: sha(declared) })).rejects.toThrow(BlobIntegrityError);
    await expect(store.put(key, Readable.from([sent]), { sha256: sha(declared) })).rejects.toThrow(BlobIntegrityError);
    expect(await store.has(key)).toBe(false);
  });

  it('detects stored bytes that no longer match their key on read', async () => {
    const { store, corrupt } = harnesses[name]();
    const bytes = bytesOf(`good bytes ${name}`);
    const key = contentKey('prompt', sha(bytes));
    await store.put(key, bytes, { sha256: sha(bytes) });
    await corrupt(key, bytesOf('rotten bytes'));
    await expect(store.get(key)).rejects.toThrow(BlobIntegrityError);
    await expect(readAll(await store.getStream(key))).rejects.toThrow(BlobIntegrityError);
  });

  it.each(['../escape', '/etc/passwd', 'prompt/../../x', 'a\\b', 'a\0b', '.tmp/x'])(
    'rejects the key %j in every operation',
    async (key) => {
      const { store } = harnesses[name]();
      const bytes = bytesOf('x');
      await expect(store.put(key, bytes, { sha256: sha(bytes) })).rejects.toThrow(InvalidBlobKeyError);
      await expect(store.get(key)).rejects.toThrow(InvalidBlobKeyError);
      await expect(store.getStream(key)).rejects.toThrow(InvalidBlobKeyError);
      await expect(store.has(key)).rejects.toThrow(InvalidBlobKeyError);
      await expect(store.size(key)).rejects.toThrow(InvalidBlobKeyError);
      await expect(store.delete(key)).rejects.toThrow(InvalidBlobKeyError);
      await expect(collect(store.list(key))).rejects.toThrow(InvalidBlobKeyError);
    },
  );
});

describe('local blob store', () => {
  it('leaves no temporary files behind, after success or failure', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ptune-blobs-'));
    try {
      const store = new LocalBlobStore(root);
      const bytes = bytesOf('tmp check');
      await store.put(contentKey('dataset', sha(bytes)), bytes, { sha256: sha(bytes) });
      await expect(store.put(contentKey('dataset', sha(bytesOf('other'))), bytes, { sha256: sha(bytesOf('other')) })).rejects.toThrow();
      expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
      expect((await collect(store.list())).map((b) => b.key)).toEqual([contentKey('dataset', sha(bytes))]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
