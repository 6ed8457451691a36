import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Claims the ptune data directory (`<dir>/lock`) for this process. PGlite has no locking of its own
 * and two processes on one database directory would corrupt it. A lock left by a process that no longer exists is taken over.
 * Returns the release function.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const lockFile = path.join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) break;
    if (owner === process.pid) {
      throw new Error(`${dir} is already open in this process; close the other database handle first`);
    }
    await rm(lockFile, { force: true });
  }
  throw new Error(`${dir} is in use by another ptune process (see ${lockFile}); stop it or choose another --data-dir`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
