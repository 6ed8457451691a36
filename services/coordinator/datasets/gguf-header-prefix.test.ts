import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGgufHeader, writeGeneratedModel } from '../../engine/index.js';
import { LocalBlobStore, contentKey } from '../../storage/index.js';
import { readGgufHeader } from './gguf-header-prefix.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-gguf-prefix-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function store(bytes: Uint8Array): Promise<{ blobs: LocalBlobStore; key: string }> {
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = contentKey('model', sha256);
  await blobs.put(key, bytes, { sha256 });
  return { blobs, key };
}

describe('readGgufHeader', () => {
  it('reads the same header as parsing the whole file, from a prefix of a model larger than its first attempt', async () => {
    const file = path.join(dir, 'demo.gguf');
    await writeGeneratedModel('demo', 2, file); // ≈ 3 MiB: more than the first 1 MiB attempt
    const bytes = new Uint8Array(await readFile(file));
    const { blobs, key } = await store(bytes);
    const header = await readGgufHeader(blobs, key);
    expect(header).toEqual(parseGgufHeader(bytes, key));
  });

  it('reports what the parser reports for a damaged file', async () => {
    const bytes = new Uint8Array(await readFile(path.join(dir, 'demo.gguf'))).slice(0, 4000);
    const { blobs, key } = await store(bytes);
    await expect(readGgufHeader(blobs, key)).rejects.toThrow(/past the end|too short|truncated|exceeds|bytes/);
  });
});
