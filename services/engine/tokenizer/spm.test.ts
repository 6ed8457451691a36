import { beforeAll, describe, expect, it } from 'vitest';
import { loadGguf } from '../model/gguf.js';
import { stories260K } from '../model/stories260k-fixture.js';
import { SpmTokenizer, type TokenizerSpec } from './spm.js';
import { TokenType } from './token-type.js';

/** A hand-made vocabulary small enough to reason about merges by hand. */
function toySpec(): TokenizerSpec {
  const pieces = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.unknown, TokenType.control, TokenType.control];
  for (let b = 0; b < 256; b++) {
    pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.byte);
  }
  const normal = ['▁', 'a', 'b', 'c', 'ab', 'bc', '▁a', '▁ab', 'abc'];
  const scores = pieces.map(() => 0);
  const normalScores = [-100, -100, -100, -100, -1, -2, -3, -4, -0.5];
  normal.forEach((p, i) => {
    pieces.push(p);
    types.push(TokenType.normal);
    scores.push(normalScores[i]);
  });
  return { pieces, scores, tokenTypes: types, bosId: 1, eosId: 2, unkId: 0 };
}

describe('SpmTokenizer (toy vocabulary)', () => {
  const tok = new SpmTokenizer(toySpec());
  const id = (p: string): number => toySpec().pieces.indexOf(p);

  it('merges the highest-scoring pair first, leftmost on ties', () => {
    // "abc": ab(-1) beats bc(-2) → [ab, c] → abc(-0.5)
    expect(tok.encode('abc', { addBos: false, continuation: true })).toEqual([id('abc')]);
    // " ab" → ▁ a b: ab(-1) beats ▁a(-3) → ▁ ab → ▁ab(-4)
    expect(tok.encode('ab', { addBos: true })).toEqual([1, id('▁ab')]);
    // "aa": no pair merges
    expect(tok.encode('aa', { addBos: false, continuation: true })).toEqual([id('a'), id('a')]);
    // ties: "abab" → both "ab" pairs have the same score; result is the same either way but must merge both
    expect(tok.encode('abab', { addBos: false, continuation: true })).toEqual([id('ab'), id('ab')]);
  });

  it('falls back to UTF-8 bytes for unknown characters and never merges them', () => {
    expect(tok.encode('é', { addBos: false, continuation: true })).toEqual([3 + 0xc3, 3 + 0xa9]);
    expect(tok.encode('<s>', { addBos: false, continuation: true })).toEqual([3 + 0x3c, 3 + 0x73, 3 + 0x3e]);
  });

  it('adds no dummy prefix to empty text', () => {
    expect(tok.encode('', { addBos: true })).toEqual([1]);
  });

  it('decodes bytes, spaces and the space after BOS', () => {
    const ids = tok.encode('ab é c', { addBos: true });
    expect(tok.decode(ids)).toBe('ab é c');
    expect(tok.decode(tok.encode(' ab', { addBos: false, continuation: true }))).toBe(' ab');
  });

  it('splits around added tokens: user-defined always, control only when asked, a dummy prefix after each', () => {
    const spec = toySpec();
    spec.pieces.push('<u>');
    spec.tokenTypes.push(TokenType.userDefined);
    spec.scores.push(0);
    const t = new SpmTokenizer(spec);
    const u = spec.pieces.length - 1;
    expect(t.encode('ab<u>ab', { addBos: false })).toEqual([id('▁ab'), u, id('▁ab')]);
    expect(t.encode('<s>ab', { addBos: false })).toEqual([id('▁'), 3 + 0x3c, 3 + 0x73, 3 + 0x3e, id('ab')]);
    expect(t.encode('<s>ab', { addBos: false, parseSpecial: true })).toEqual([1, id('▁ab')]);
    expect(t.encode('ab', { addBos: false, continuation: true })).toEqual([id('ab')]);
    expect(t.specialIds).toEqual(new Set([1, 2]));
  });

  it('rejects inconsistent specs and out-of-range ids', () => {
    expect(() => new SpmTokenizer({ ...toySpec(), scores: [0] })).toThrow(/disagree/);
    expect(() => new SpmTokenizer({ ...toySpec(), bosId: 10_000 })).toThrow(/bos id/);
    expect(() => tok.tokenText(-1)).toThrow(/outside the vocabulary/);
  });

  it('encodes long text in linear-ish work (round trip on 200k characters)', () => {
    const text = 'abc ab ba cab é '.repeat(12_500);
    const ids = tok.encode(text, { addBos: true });
    expect(tok.decode(ids)).toBe(text);
  });
});

describe.skipIf(!stories260K.available)('SpmTokenizer on stories260K', () => {
  let tok: SpmTokenizer;
  beforeAll(async () => {
    tok = (await loadGguf(stories260K.ggufPath)).tokenizer as SpmTokenizer;
  });

  it('matches every reference tokenization exactly', () => {
    const examples = stories260K.reference().tokenizer_encode_examples;
    expect(Object.keys(examples).length).toBeGreaterThan(0);
    for (const [text, ids] of Object.entries(examples)) {
      expect(tok.encode(text, { addBos: true }), text).toEqual(ids);
    }
  });

  it('decodes the reference greedy generation to the reference text', () => {
    const g = stories260K.reference().greedy_from_bos;
    expect(tok.decode([...g.prompt_ids, ...g.generated_ids])).toBe(g.text);
  });

  it('knows its special ids', () => {
    expect([tok.bosId, tok.eosId, tok.unkId, tok.vocabSize]).toEqual([1, 2, 0, 512]);
    expect(tok.tokenText(3 + 0x0a)).toBe('<0x0A>');
  });
});
if (!stories260K.available) console.warn(`skipping stories260K tokenizer tests: ${stories260K.skipReason}`);
