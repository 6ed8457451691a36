import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGeneratedModel } from './generate.js';
import { readGgufHeader } from './gguf.js';
import { readGgufHeaderStream } from './gguf-header-stream.js';
import { parseGgufHeader } from './gguf-parse.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-gguf-prefix-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readGgufHeaderStream', () => {
  it('reads the same header as parsing the whole file, from a prefix of a model larger than its first attempt', async () => {
    const file = path.join(dir, 'demo.gguf');
    await writeGeneratedModel('demo', 2, file); // ≈ 3 MiB: more than the first 1 MiB attempt
    const bytes = new Uint8Array(await readFile(file));
    let read = 0;
    const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
    stream.on('data', (chunk) => (read += chunk.length));
    const { header } = await readGgufHeaderStream(stream, bytes.byteLength, file);
    expect(header).toEqual(parseGgufHeader(bytes, file));
    expect(read).toBeLessThan(bytes.byteLength);
  });

  it('reports what the parser reports for a damaged file', async () => {
    const cut = path.join(dir, 'cut.gguf');
    await writeFile(cut, (await readFile(path.join(dir, 'demo.gguf'))).subarray(0, 4000));
    await expect(readGgufHeaderStream(createReadStream(cut), 4000, cut)).rejects.toThrow(/past the end|too short|truncated|exceeds|bytes/);
  });

  it('refuses a header that claims more than 256 MiB (a crafted string length) without reading the file whole', async () => {
    // GGUF v3, no tensors, one key whose string value claims 300 MiB; the file is 320 MiB (sparse)
    const head = Buffer.alloc(64);
    let at = head.write('GGUF', 0, 'latin1');
    at = head.writeUInt32LE(3, at);
    at = head.writeBigUInt64LE(0n, at);
    at = head.writeBigUInt64LE(1n, at);
    at = head.writeBigUInt64LE(3n, at);
    at += head.write('big', at, 'latin1');
    at = head.writeUInt32LE(8, at); // string
    at = head.writeBigUInt64LE(BigInt(300 << 20), at);
    const crafted = path.join(dir, 'crafted.gguf');
    await writeFile(crafted, head.subarray(0, at));
    await truncate(crafted, 320 << 20);
    let read = 0;
    const stream = createReadStream(crafted);
    stream.on('data', (chunk) => (read += chunk.length));
    await expect(readGgufHeaderStream(stream, 320 << 20, crafted)).rejects.toThrow(/more than 256 MiB/);
    expect(read).toBeLessThan(64 << 20);
    const handle = await open(crafted);
    try {
      await expect(readGgufHeader(handle, 320 << 20, crafted)).rejects.toThrow(/more than 256 MiB/);
    } finally {
      await handle.close();
    }
  });
});
