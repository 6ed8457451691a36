import type { ChatTemplate } from '../../engine/chat/template.js';
import { encodeExamples } from '../../engine/data/encode.js';
import type { TextTokenizer } from '../../engine/tokenizer/text-tokenizer.js';
import type { BlobStore } from '../../storage/index.js';
import { InvalidRequestError } from '../jobs/invalid-request.js';
import { parseDataset } from './parse-dataset.js';

export interface LengthCheck {
  field: string;
  blobKey: string;
  tokenizer: TextTokenizer;
  /** renders `messages` lines; absent: the model has no chat template (such lines are refused) */
  chatTemplate?: ChatTemplate | undefined;
  contextLength: number;
  /** the most virtual tokens any trial of the job prepends */
  virtualTokens: number;
}

/** Every example, tokenized for the model, must fit its context with the virtual tokens; errors name file:line. */
export async function checkExampleLengths(blobs: BlobStore, check: LengthCheck): Promise<void> {
  const source = `${check.field} (${check.blobKey})`;
  try {
    const examples = parseDataset(await blobs.get(check.blobKey), source);
    encodeExamples(check.tokenizer, examples, source, { contextLength: check.contextLength, virtualTokens: check.virtualTokens }, check.chatTemplate);
  } catch (err) {
    throw new InvalidRequestError(check.field, (err as Error).message);
  }
}
