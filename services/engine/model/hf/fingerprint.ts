/**
 * A Hugging Face folder's fingerprint, as the registry defines it: the sha256 of its manifest,
 * one `"<sha256 hex>  <path>\n"` line per file (the sha256sum format), sorted by path in byte
 * order. Files are hashed as streams, never read whole. The registry builds the same manifest from
 * an upload's file hashes (folderManifest). fileSha256 also fingerprints a GGUF file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

export interface ManifestEntry {
  path: string;
  sha256: string;
}

/** A folder's canonical manifest; its sha256 is the folder's fingerprint. */
export function folderManifest(files: readonly ManifestEntry[]): string {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return sorted.map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

export const manifestFingerprint = (manifest: string): string => createHash('sha256').update(manifest, 'utf8').digest('hex');

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function hfFolderFingerprint(dir: string, files: readonly string[]): Promise<string> {
  const entries: ManifestEntry[] = [];
  for (const path of files) entries.push({ path, sha256: await fileSha256(join(dir, path)) });
  return manifestFingerprint(folderManifest(entries));
}
