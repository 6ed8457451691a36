import { describe, expect, it } from 'vitest';
import { TextStream } from './text-stream.js';

// a byte-level toy tokenizer: id = one UTF-8 byte, decoded as the tokenizers do (U+FFFD for a partial character)
const bytes = { decode: (ids: readonly number[]) => new TextDecoder().decode(Uint8Array.from(ids)) };
const idsOf = (text: string): number[] => [...new TextEncoder().encode(text)];

function run(text: string, stops: string[]): { pieces: string[]; stopped: boolean; rest: string } {
  const s = new TextStream(bytes, stops);
  const pieces: string[] = [];
  for (const id of idsOf(text)) {
    const step = s.push(id);
    pieces.push(step.text);
    if (step.stopped) return { pieces, stopped: true, rest: '' };
  }
  return { pieces, stopped: false, rest: s.flush() };
}

describe('TextStream', () => {
  it("streams each token's text, holding back a partial UTF-8 character until it is whole", () => {
    const { pieces, rest } = run('aé€b', []);
    expect(pieces).toEqual(['a', '', 'é', '', '', '€', 'b']);
    expect(rest).toBe('');
  });

  it('cuts before a stop string spread over tokens and streams nothing of it', () => {
    const { pieces, stopped } = run('hello END world', ['END']);
    expect(stopped).toBe(true);
    expect(pieces.join('')).toBe('hello ');
    // "E" and "EN" were held back as a possible start of the stop string
    expect(pieces.slice(-3)).toEqual(['', '', '']);
  });

  it('releases held text when it turns out not to be a stop string, and at the end of the stream', () => {
    const a = run('x EN y', ['END']);
    expect(a.stopped).toBe(false);
    expect(a.pieces.join('') + a.rest).toBe('x EN y');
    const b = run('ends with EN', ['END']);
    expect(b.pieces.join('')).toBe('ends with ');
    expect(b.rest).toBe('EN');
  });

  it('stops at the earliest of several stop strings', () => {
    const { pieces, stopped } = run('abc##def@@', ['@@', '##']);
    expect(stopped).toBe(true);
    expect(pieces.join('')).toBe('abc');
  });
});
