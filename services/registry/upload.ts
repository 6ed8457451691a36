import { invalidArgument, resourceExhausted } from '../domain/index.js';

/** The `part` oneof shared by the header-then-chunks client streams. */
type Part<H> = { case: 'header'; value: H } | { case: 'chunk'; value: Uint8Array } | { case: undefined; value?: undefined };

export interface UploadRules<H> {
  /** Validates the header before any chunk is read (may ask the database); returns the declared total size in bytes. */
  checkHeader(header: H | undefined): number | Promise<number>;
  /** Largest upload accepted, in bytes. */
  maxBytes: number;
  /** What is uploaded, for messages ("prompt", "weights"). */
  what: string;
  /** The setting that raises `maxBytes` (e.g. "PTUNE_MAX_DATASET_BYTES"), named when the limit refuses an upload. */
  limitSetting?: string;
}

export interface OpenedUpload<H> {
  header: H;
  /** Size the header declared (already checked against the limit). */
  declared: number;
  /**
   * The chunks, in order, read from the stream as they are consumed (never buffered). Iterating to
   * the end throws unless exactly `declared` bytes came; iterate it once.
   */
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Opens a header-then-chunks stream. The header must come first and once; the declared size is
 * checked against the limit before any chunk is accepted, and against the bytes received at the end
 * (a client that stops early or sends more is refused).
 */
export async function openUpload<H>(messages: AsyncIterable<{ part: Part<H> }>, rules: UploadRules<H>): Promise<OpenedUpload<H>> {
  const iterator = messages[Symbol.asyncIterator]();
  const first = await iterator.next();
  const part = first.done === true ? undefined : first.value.part;
  if (part?.case !== 'header') throw invalidArgument('header', 'the first message of the stream must be the header');
  const header = part.value;
  const declared = await rules.checkHeader(header);
  if (declared > rules.maxBytes) {
    const setting = rules.limitSetting === undefined ? '' : ` (${rules.limitSetting})`;
    throw resourceExhausted(`${rules.what} of ${declared} bytes is above this server's limit of ${rules.maxBytes} bytes${setting}`);
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let received = 0;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      const message = next.value.part;
      if (message.case === 'header') throw invalidArgument('header', 'appears twice; send it once, first');
      if (message.case !== 'chunk') throw invalidArgument('part', 'a message after the header must carry a chunk');
      received += message.value.byteLength;
      if (received > declared) throw invalidArgument('header.size_bytes', `declares ${declared} bytes but more were sent`);
      yield message.value;
    }
    if (received !== declared) throw invalidArgument('header.size_bytes', `declares ${declared} bytes but ${received} were sent`);
  }
  return { header, declared, chunks: chunks() };
}

/** Reads a header-then-chunks stream into memory: for small payloads that are parsed whole (prompts, datasets). */
export async function receiveUpload<H>(
  messages: AsyncIterable<{ part: Part<H> }>,
  rules: UploadRules<H>,
): Promise<{ header: H; bytes: Uint8Array }> {
  const upload = await openUpload(messages, rules);
  const chunks: Uint8Array[] = [];
  for await (const chunk of upload.chunks) chunks.push(chunk);
  return { header: upload.header, bytes: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) };
}
