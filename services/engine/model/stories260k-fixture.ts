/**
 * Locates the real-model fixture `../shared/models` (beside the repository). Tests that need it
 * use `describe.skipIf(!stories260K.available)` and print `stories260K.skipReason`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = resolve(repoRoot, '../shared/models');
const ggufPath = resolve(dir, 'stories260K.gguf');
const referencePath = resolve(dir, 'stories260K.reference.json');

export interface Stories260KReference {
  greedy_from_bos: { prompt_ids: number[]; generated_ids: number[]; text: string };
  prompt_logits: {
    prompt_text: string;
    prompt_ids: number[];
    last_position_logits: number[];
    all_position_logits: number[][];
    argmax_per_position: number[];
  };
  tokenizer_encode_examples: Record<string, number[]>;
  [key: string]: unknown;
}

export const stories260K = {
  dir,
  ggufPath,
  referencePath,
  available: existsSync(ggufPath) && existsSync(referencePath),
  skipReason: `stories260K fixture not found at ${dir} (clone the shared models beside the repo to run these tests)`,
  reference(): Stories260KReference {
    return JSON.parse(readFileSync(referencePath, 'utf8')) as Stories260KReference;
  },
};
