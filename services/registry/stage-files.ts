/**
 * Writes an upload's chunks into files on local disk (a chunk may span two files), hashing each file
 * as it is written: a model is checked from disk before any of it reaches the blob store.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface FileLayout {
  path: string;
  sizeBytes: number;
}

export interface StagedFile extends FileLayout {
  sha256: string;
}

export async function stageFiles(dir: string, layout: readonly FileLayout[], chunks: AsyncIterable<Uint8Array>): Promise<StagedFile[]> {
  const staged: StagedFile[] = [];
  let index = 0;
  let current: { handle: FileHandle; hash: Hash; written: number } | undefined;

  // Opens the next file, closing (and recording) every file that is complete, empty ones included.
  const advance = async (): Promise<void> => {
    while (index < layout.length && (current === undefined || current.written === layout[index].sizeBytes)) {
      if (current !== undefined) {
        await current.handle.close();
        staged.push({ ...layout[index], sha256: current.hash.digest('hex') });
        current = undefined;
        index++;
        continue;
      }
      current = { handle: await open(path.join(dir, layout[index].path), 'wx', 0o600), hash: createHash('sha256'), written: 0 };
    }
  };

  try {
    await advance();
    for await (const chunk of chunks) {
      for (let at = 0; at < chunk.byteLength;) {
        if (current === undefined) throw new Error(`more bytes than the ${layout.length} files declare`);
        const n = Math.min(layout[index].sizeBytes - current.written, chunk.byteLength - at);
        const piece = chunk.subarray(at, at + n);
        current.hash.update(piece);
        await current.handle.write(piece);
        current.written += n;
        at += n;
        await advance();
      }
    }
  } finally {
    await current?.handle.close();
  }
  if (index !== layout.length) throw new Error(`${layout[index].path}: the upload ended before its ${layout[index].sizeBytes} bytes`);
  return staged;
}
