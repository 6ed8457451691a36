/** A validated, tokenized JSONL dataset, all or nothing. */
import type { ChatTemplate } from '../chat/template.js';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { encodeExamples, type EncodedExample, type LengthLimit } from './encode.js';
import { readExamplesJsonl } from './jsonl.js';

export interface Dataset {
  path: string;
  examples: EncodedExample[];
}

/**
 * Throws DataError (every `file:line` problem) or returns the whole dataset encoded; `chatTemplate`
 * renders `messages` lines (see ../chat/model-template.ts).
 */
export async function loadDataset(
  path: string,
  tokenizer: TextTokenizer,
  limit: LengthLimit,
  chatTemplate?: ChatTemplate,
): Promise<Dataset> {
  const raw = await readExamplesJsonl(path);
  return { path, examples: encodeExamples(tokenizer, raw, path, limit, chatTemplate) };
}
