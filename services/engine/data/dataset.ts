/** A validated, tokenized JSONL dataset, all or nothing. */
import type { Tokenizer } from '../tokenizer/spm.js';
import { encodeExamples, type EncodedExample, type LengthLimit } from './encode.js';
import { readExamplesJsonl } from './jsonl.js';

export interface Dataset {
  path: string;
  examples: EncodedExample[];
}

/** Throws DataError (every `file:line` problem) or returns the whole dataset encoded. */
export async function loadDataset(path: string, tokenizer: Tokenizer, limit: LengthLimit): Promise<Dataset> {
  const raw = await readExamplesJsonl(path);
  return { path, examples: encodeExamples(tokenizer, raw, path, limit) };
}
