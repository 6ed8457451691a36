/**
 * GPT-2's byte-level alphabet: every byte value gets a printable character, so byte-level BPE
 * vocabularies hold text such as "Ġthe" (Ġ = the space byte 0x20). Printable Latin-1 bytes map to
 * themselves; the other 68 bytes map to U+0100 onwards, in byte order.
 */
const byteToChar: string[] = new Array<string>(256);
const charToByte = new Map<string, number>();

function isPrintable(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

let next = 0x100;
for (let b = 0; b < 256; b++) {
  const ch = String.fromCharCode(isPrintable(b) ? b : next++);
  byteToChar[b] = ch;
  charToByte.set(ch, b);
}

/** the character of each byte value, in byte order */
export const BYTE_ALPHABET: readonly string[] = byteToChar;

const utf8 = new TextEncoder();

/** the byte-level spelling of `text`'s UTF-8 bytes */
export function toByteLevel(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += byteToChar[b];
  return out;
}

/** bytes of a byte-level spelling; undefined when a character is outside the alphabet */
export function fromByteLevel(text: string): number[] | undefined {
  const bytes: number[] = [];
  for (const ch of text) {
    const b = charToByte.get(ch);
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  return bytes;
}
