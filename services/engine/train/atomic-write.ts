import { open, rename, rm } from 'node:fs/promises';

/** Writes a temporary file beside the target, fsyncs it and renames it over the target, so readers never see a partial file. */
export async function writeFileAtomic(target: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  await rename(tmp, target);
}
