import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Writes one message and, when the stream's buffer is full, waits for it to drain (or the abort). */
export async function writeMessage(stream: Writable, message: unknown, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (!stream.write(message)) await once(stream, 'drain', { signal });
}
