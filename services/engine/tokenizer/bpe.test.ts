import { describe, expect, it } from 'vitest';
import { GgufMetadata } from '../model/gguf-metadata.js';
import type { GgufValue } from '../model/gguf-types.js';
import { BpeTokenizer, type BpeSpec } from './bpe.js';
import { BYTE_ALPHABET, toByteLevel } from './byte-level.js';
import { textTokenizerFromMetadata } from './gguf-tokenizer.js';
import { preTokenize, preTokenizer } from './pre-tokenizers.js';
import { TokenType } from './token-type.js';

/** every byte as a token, then a few merged tokens, one control and one user-defined token */
function toySpec(): BpeSpec {
  const extra = ['ab', 'abc', 'Ġa', 'Ġab', '<|endoftext|>', '<USR>'];
  const n = BYTE_ALPHABET.length;
  return {
    tokens: [...BYTE_ALPHABET, ...extra],
    tokenTypes: [...BYTE_ALPHABET.map(() => TokenType.normal), 1, 1, 1, 1, TokenType.control, TokenType.userDefined],
    merges: ['a b', 'ab c', 'Ġ a', 'Ġ ab'],
    preTokenizer: preTokenizer('gpt-2', 'toy'),
    bosId: undefined,
    eosId: n + 4,
    padId: undefined,
    addBos: false,
    source: 'toy',
  };
}

describe('BpeTokenizer (toy vocabulary)', () => {
  const spec = toySpec();
  const tok = new BpeTokenizer(spec);
  const id = (t: string): number => spec.tokens.indexOf(t);

  it('merges by rank, lowest first: " ab" is Ġ·a·b → Ġ·ab (rank 0 beats "Ġ a") → Ġab', () => {
    expect(tok.encode('abc')).toEqual([id('abc')]);
    expect(tok.encode('ab ab')).toEqual([id('ab'), id('Ġab')]);
    expect(tok.encode(' a')).toEqual([id('Ġa')]);
    expect(tok.encode('ba')).toEqual([id('b'), id('a')]);
  });

  it('spells characters outside the merges as their UTF-8 bytes', () => {
    expect(tok.encode('é')).toEqual([...toByteLevel('é')].map(id));
  });

  it('matches user-defined tokens always, control tokens only when asked', () => {
    expect(tok.encode('a<USR>b')).toEqual([id('a'), id('<USR>'), id('b')]);
    expect(tok.encode('<|endoftext|>')).not.toContain(id('<|endoftext|>'));
    expect(tok.encode('x<|endoftext|>', { parseSpecial: true })).toEqual([id('x'), id('<|endoftext|>')]);
    expect(tok.specialIds).toEqual(new Set([id('<|endoftext|>')]));
  });

  it('decodes bytes back to text and drops control tokens', () => {
    const text = 'ab abc é <USR> ok';
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.decode([id('a'), id('<|endoftext|>'), id('b')])).toBe('ab');
    expect(tok.tokenText(id('Ġab'))).toBe('Ġab');
    expect(() => tok.tokenText(spec.tokens.length)).toThrow(/outside the vocabulary/);
  });

  it('merges a 100k-character word (no spaces) the same way as its short pieces', () => {
    const word = 'abc'.repeat(33_334);
    const ids = tok.encode(word);
    expect(ids).toEqual(new Array<number>(33_334).fill(id('abc')));
    expect(tok.decode(ids)).toBe(word);
  });

  it('follows the BOS rule, and refuses BOS when the model has none', () => {
    expect(tok.addsBos).toBe(false);
    expect(() => tok.encode('a', { addBos: true })).toThrow(/no BOS token/);
    const withBos = new BpeTokenizer({ ...spec, bosId: id('<|endoftext|>'), addBos: true });
    expect(withBos.encode('a')).toEqual([id('<|endoftext|>'), id('a')]);
    expect(withBos.encode('a', { addBos: false })).toEqual([id('a')]);
  });

  it('keeps a word that is a token whole when the pre-tokenizer ignores merges (Llama 3)', () => {
    const noMergePath = new BpeTokenizer({ ...spec, merges: [] });
    const llama3 = new BpeTokenizer({ ...spec, merges: [], preTokenizer: preTokenizer('llama-bpe', 'toy') });
    expect(noMergePath.encode('abc')).toEqual([id('a'), id('b'), id('c')]);
    expect(llama3.encode('abc')).toEqual([id('abc')]);
  });

  it('rejects inconsistent specs', () => {
    expect(() => new BpeTokenizer({ ...spec, tokenTypes: [1] })).toThrow(/toy: \d+ tokens but 1 token types/);
    expect(() => new BpeTokenizer({ ...spec, merges: ['ab'] })).toThrow(/toy: merge 0 "ab" is not two tokens/);
    expect(() => new BpeTokenizer({ ...spec, addBos: true })).toThrow(/adds BOS but has no BOS token id/);
  });
});

describe('pre-tokenizers', () => {
  it('split as each model does', () => {
    const words = (name: string, text: string): string[] => preTokenize(text, preTokenizer(name, 'x').patterns);
    expect(words('gpt-2', "I'm  here 1234!")).toEqual(['I', "'m", ' ', ' here', ' 1234', '!']);
    expect(words('starcoder', 'x 1234')).toEqual(['x', ' ', '1', '2', '3', '4']);
    expect(words('llama-bpe', 'x 12345')).toEqual(['x', ' ', '123', '45']);
    expect(words('qwen2', 'x 123')).toEqual(['x', ' ', '1', '2', '3']);
    expect(words('deepseek-coder', 'a\nb')).toEqual(['a', '\n', 'b']);
  });

  it('refuses a name it does not know, naming the key', () => {
    expect(() => preTokenizer('tekken', 'm.gguf')).toThrow(
      /^m\.gguf: tokenizer\.ggml\.pre "tekken" is not supported \(supported: default, gpt-2/,
    );
  });
});

describe('tokenizer from GGUF metadata', () => {
  const str = (value: string): GgufValue => ({ type: 'string', value });
  const strings = (items: string[]): GgufValue => ({ type: 'array', itemType: 'string', items: items.map(str) });
  const meta = (entries: Record<string, GgufValue>): GgufMetadata => new GgufMetadata(new Map(Object.entries(entries)), 'v.gguf');
  const bpe = {
    'tokenizer.ggml.model': str('gpt2'),
    'tokenizer.ggml.tokens': strings(['a', 'b', 'ab']),
    'tokenizer.ggml.merges': strings(['a b']),
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: 0 } as GgufValue,
  };

  it('builds a byte-level BPE tokenizer ("gpt2"), GPT-2 pre-tokenizer when tokenizer.ggml.pre is absent', () => {
    const t = textTokenizerFromMetadata(meta(bpe), 'v.gguf');
    expect([t.kind, t.vocabSize, t.bosId, t.addsBos]).toEqual(['bpe', 3, undefined, false]);
    expect(t.encode('ab')).toEqual([2]);
  });

  it('refuses an unknown tokenizer model or pre-tokenizer, and a missing EOS, naming file and key', () => {
    expect(() => textTokenizerFromMetadata(meta({ ...bpe, 'tokenizer.ggml.model': str('rwkv') }), 'v.gguf')).toThrow(
      'v.gguf: tokenizer.ggml.model "rwkv" is not supported (supported: llama (SentencePiece), gpt2 (byte-level BPE))',
    );
    expect(() => textTokenizerFromMetadata(meta({ ...bpe, 'tokenizer.ggml.pre': str('chatglm-bpe') }), 'v.gguf')).toThrow(
      /v\.gguf: tokenizer\.ggml\.pre "chatglm-bpe"/,
    );
    const { 'tokenizer.ggml.eos_token_id': _, ...noEos } = bpe;
    expect(() => textTokenizerFromMetadata(meta(noEos), 'v.gguf')).toThrow(/v\.gguf: metadata "tokenizer\.ggml\.eos_token_id" is missing/);
  });
});
