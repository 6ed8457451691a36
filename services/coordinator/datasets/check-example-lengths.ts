import { encodeExamples, type ModelText } from '../../engine/index.js';
import type { BlobStore } from '../../storage/index.js';
import { invalidArgument } from '../../domain/index.js';
import { parseDataset } from './parse-dataset.js';

export interface LengthCheck {
  field: string;
  blobKey: string;
  tokenizer: ModelText['tokenizer'];
  /** renders `messages` lines; absent: the model has no chat template (such lines are refused) */
  chatTemplate?: ModelText['chatTemplate'] | undefined;
  contextLength: number;
  /** the most virtual tokens any trial of the job prepends */
  virtualTokens: number;
}

/** Every example, tokenized for the model, must fit its context with the virtual tokens; errors name file:line. */
export async function checkExampleLengths(blobs: BlobStore, check: LengthCheck): Promise<void> {
  const source = `${check.field} (${check.blobKey})`;
  try {
    const examples = parseDataset(await blobs.get(check.blobKey), source);
    encodeExamples(
      check.tokenizer,
      examples,
      source,
      { contextLength: check.contextLength, virtualTokens: check.virtualTokens },
      check.chatTemplate,
    );
  } catch (err) {
    throw invalidArgument(check.field, (err as Error).message);
  }
}
