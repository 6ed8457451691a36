import { parseExamplesJsonl, type RawExample } from '../../engine/index.js';

/** Decodes and parses a JSONL dataset; errors name `source` and the line (engine DataError). */
export function parseDataset(bytes: Uint8Array, source: string): RawExample[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${source}: not valid UTF-8`);
  }
  return parseExamplesJsonl(text, source);
}
