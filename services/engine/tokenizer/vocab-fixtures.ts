/**
 * Locates llama.cpp's tokenizer conformance fixtures in `../shared/models/vocab` (beside the
 * repository; see its README): vocabulary GGUF files, test strings (`.inp`) and expected ids (`.out`).
 * Tests that need them use `describe.skipIf(!vocabFixtures.available)` and print `skipReason`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = resolve(repoRoot, '../shared/models/vocab');

export interface ConformanceCase {
  text: string;
  ids: number[];
}

export const vocabFixtures = {
  dir,
  available: existsSync(resolve(dir, 'README.md')),
  skipReason: `tokenizer fixtures not found at ${dir} (clone the shared models beside the repo to run these tests)`,
  ggufPath(name: string): string {
    return resolve(dir, `ggml-vocab-${name}.gguf`);
  },
  /** the cases of `ggml-vocab-NAME.gguf.inp/.out`: texts end at each `__ggml_vocab_test__` line */
  cases(name: string): ConformanceCase[] {
    const base = resolve(dir, `ggml-vocab-${name}.gguf`);
    const texts = readFileSync(`${base}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
    const last = texts.pop();
    if (last !== '') throw new Error(`${base}.inp: does not end with a __ggml_vocab_test__ line`);
    const lines = readFileSync(`${base}.out`, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (lines.length !== texts.length) throw new Error(`${base}: ${texts.length} test strings but ${lines.length} expected lines`);
    return texts.map((text, i) => ({ text, ids: lines[i].trim() === '' ? [] : lines[i].trim().split(/\s+/).map(Number) }));
  },
};
