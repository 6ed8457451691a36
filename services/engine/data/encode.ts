/**
 * Turns examples into token ids: `[BOS] + encode(input, dummy prefix) + encode(output, no dummy
 * prefix, no BOS)`. Outputs usually begin with a space, which the output encoding keeps.
 */
import type { Tokenizer } from '../tokenizer/spm.js';
import { DataError, type RawExample } from './jsonl.js';

export interface EncodedExample {
  /** BOS + input tokens: what a generator is given */
  promptIds: number[];
  /** output tokens: what the model must produce */
  outputIds: number[];
  /** promptIds followed by outputIds */
  ids: number[];
  /** line in the source file (0 when not from a file) */
  line: number;
}

export function encodeExample(tokenizer: Tokenizer, input: string, output: string, line = 0): EncodedExample {
  const promptIds = tokenizer.encode(input, { bos: true, dummyPrefix: true });
  const outputIds = tokenizer.encode(output, { bos: false, dummyPrefix: false });
  return { promptIds, outputIds, ids: [...promptIds, ...outputIds], line };
}

export interface LengthLimit {
  /** the model's context length */
  contextLength: number;
  /** virtual tokens prepended by the prompt (they count against the context) */
  virtualTokens: number;
}

/**
 * Encodes every example and checks it fits `virtualTokens + tokens ≤ contextLength`; all
 * problems are reported together (nothing is returned unless every example is valid).
 */
export function encodeExamples(tokenizer: Tokenizer, examples: RawExample[], source: string, limit: LengthLimit): EncodedExample[] {
  const maxTokens = limit.contextLength - limit.virtualTokens;
  if (maxTokens < 2) {
    throw new Error(`${limit.virtualTokens} virtual tokens leave no room in a context of ${limit.contextLength} tokens`);
  }
  const problems: string[] = [];
  const encoded = examples.map((ex) => {
    const e = encodeExample(tokenizer, ex.input, ex.output, ex.line);
    if (e.outputIds.length === 0) problems.push(`${source}:${ex.line}: "output" encodes to no tokens`);
    if (e.ids.length > maxTokens) {
      problems.push(
        `${source}:${ex.line}: example is ${e.ids.length} tokens; with ${limit.virtualTokens} virtual tokens the ` +
          `model's context of ${limit.contextLength} allows ${maxTokens} (shorten it or use fewer virtual tokens)`,
      );
    }
    return e;
  });
  if (problems.length > 0) throw new DataError(source, problems);
  return encoded;
}
