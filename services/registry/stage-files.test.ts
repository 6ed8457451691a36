import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stageFiles } from './stage-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-stage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* chunksOf(bytes: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const size of sizes) {
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('stageFiles', () => {
  it('splits chunks that span files (and empty files) by the layout, hashing each file', async () => {
    const all = Buffer.from('aaaabbbbbbcc');
    const layout = [
      { path: 'a', sizeBytes: 4 },
      { path: 'empty', sizeBytes: 0 },
      { path: 'b', sizeBytes: 6 },
      { path: 'c', sizeBytes: 2 },
    ];
    const staged = await stageFiles(dir, layout, chunksOf(all, [3, 5, 4]));
    expect(staged).toEqual([
      { path: 'a', sizeBytes: 4, sha256: sha(Buffer.from('aaaa')) },
      { path: 'empty', sizeBytes: 0, sha256: sha(Buffer.alloc(0)) },
      { path: 'b', sizeBytes: 6, sha256: sha(Buffer.from('bbbbbb')) },
      { path: 'c', sizeBytes: 2, sha256: sha(Buffer.from('cc')) },
    ]);
    expect(await readFile(path.join(dir, 'b'), 'utf8')).toBe('bbbbbb');
    expect((await readdir(dir)).sort()).toEqual(['a', 'b', 'c', 'empty']);
  });

  it('refuses more bytes than the layout declares, and an upload that ends early', async () => {
    await expect(stageFiles(dir, [{ path: 'a', sizeBytes: 2 }], chunksOf(Buffer.from('abc'), [3]))).rejects.toThrow(
      'more bytes than the 1 files declare',
    );
    await rm(path.join(dir, 'a'));
    await expect(
      stageFiles(
        dir,
        [
          { path: 'a', sizeBytes: 2 },
          { path: 'b', sizeBytes: 2 },
        ],
        chunksOf(Buffer.from('abc'), [3]),
      ),
    ).rejects.toThrow('b: the upload ended before its 2 bytes');
  });
});
