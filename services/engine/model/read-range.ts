/** Reading a byte range of a file through an open handle, into a buffer of exactly that size. */
import type { FileHandle } from 'node:fs/promises';

/** one read() is limited to 2 GiB and may return less than asked */
const READ_CHUNK = 1 << 30;

/** `length` bytes at `position`; `what` names the range in the error when the file ends first. */
export async function readRange(handle: FileHandle, position: number, length: number, what: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length;) {
    const { bytesRead } = await handle.read(bytes, at, Math.min(READ_CHUNK, length - at), position + at);
    if (bytesRead === 0) throw new Error(`${what} was cut short at byte ${position + at} (the file changed after it was opened?)`);
    at += bytesRead;
  }
  return bytes;
}
