import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir } from './data-dir-lock.js';

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lockDataDir', () => {
  it('refuses a directory held by another live process, and takes over from a dead one', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-lock-'));
    const other = spawn('sleep', ['30']);
    try {
      await writeFile(path.join(dir, 'lock'), `${other.pid}\n`);
      await expect(lockDataDir(dir)).rejects.toThrow(/in use by another ptune process/);
    } finally {
      other.kill();
    }
    const dead = spawnSync('true').pid;
    await writeFile(path.join(dir, 'lock'), `${dead}\n`);
    const release = await lockDataDir(dir);
    expect(await readFile(path.join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    await release();
    await (
      await lockDataDir(dir)
    )();
  });
});
