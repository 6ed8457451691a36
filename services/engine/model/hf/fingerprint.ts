/**
 * A Hugging Face folder's fingerprint, as the registry defines it: the sha256 of its manifest,
 * one `"<sha256 hex>  <path>\n"` line per file (the sha256sum format), sorted by path in byte
 * order. Files are hashed as streams, never read whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function hfFolderFingerprint(dir: string, files: readonly string[]): Promise<string> {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  let manifest = '';
  for (const f of sorted) manifest += `${await fileSha256(join(dir, f))}  ${f}\n`;
  return createHash('sha256').update(manifest, 'utf8').digest('hex');
}
