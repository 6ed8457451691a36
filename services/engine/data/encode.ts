/**
 * Turns examples into token ids and the mask of tokens the loss covers.
 * - `input`/`output`: `encode(input)` (with BOS by the model's rule, SentencePiece's dummy-prefix
 *   space) + `encode(output, continuation, no BOS)`. Outputs usually begin with a space, which the
 *   output encoding keeps. The loss covers the output tokens.
 * - `messages`: the conversation rendered with the model's chat template, cut into segments by
 *   ../chat/assistant-spans.ts, each segment encoded in turn (control-token text such as
 *   "<|im_start|>" becomes its token; the template writes BOS itself, so none is added). The loss
 *   covers the assistant segments only.
 */
import { chatSegments } from '../chat/assistant-spans.js';
import { controlTokenTexts } from '../chat/model-template.js';
import type { ChatMessage, ChatTemplate } from '../chat/template.js';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { DataError, isChatExample, type RawExample } from './jsonl.js';

export interface EncodedExample {
  /** the tokens before the first trained token: what a generator is given */
  promptIds: number[];
  /** the tokens from the first trained token on */
  outputIds: number[];
  /** promptIds followed by outputIds */
  ids: number[];
  /** per token of `ids`: 1 when the loss covers it (it must be predicted), else 0 */
  trained: Uint8Array;
  /** line in the source file (0 when not from a file) */
  line: number;
}

function encoded(ids: number[], trained: Uint8Array, line: number): EncodedExample {
  let first = trained.indexOf(1);
  if (first < 0) first = ids.length;
  return { promptIds: ids.slice(0, first), outputIds: ids.slice(first), ids, trained, line };
}

/** an example whose loss covers `outputIds` */
export function promptAndOutput(promptIds: number[], outputIds: number[], line = 0): EncodedExample {
  const trained = new Uint8Array(promptIds.length + outputIds.length).fill(1, promptIds.length);
  return { promptIds, outputIds, ids: [...promptIds, ...outputIds], trained, line };
}

export function encodeExample(tokenizer: TextTokenizer, input: string, output: string, line = 0): EncodedExample {
  return promptAndOutput(tokenizer.encode(input), tokenizer.encode(output, { addBos: false, continuation: true }), line);
}

/** a conversation; a template error (a role it rejects …) throws ChatTemplateError */
export function encodeChatExample(
  tokenizer: TextTokenizer,
  template: ChatTemplate,
  messages: readonly ChatMessage[],
  line = 0,
): EncodedExample {
  const ids: number[] = [];
  const mask: number[] = [];
  const controls = controlTokenTexts(tokenizer);
  let previous: string | undefined;
  for (const segment of chatSegments(template, messages, controls)) {
    // a segment continues the text before it, unless that ended with a control token: then it
    // starts a text fragment, as when the whole conversation is encoded at once
    const continuation = previous !== undefined && !controls.some((c) => previous?.endsWith(c));
    const segmentIds = tokenizer.encode(segment.text, { addBos: false, continuation, parseSpecial: true });
    for (const id of segmentIds) {
      ids.push(id);
      mask.push(segment.trained ? 1 : 0);
    }
    previous = segment.text;
  }
  return encoded(ids, Uint8Array.from(mask), line);
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
 * `chatTemplate` renders `messages` lines (absent: the model has none, and such lines are refused).
 */
export function encodeExamples(
  tokenizer: TextTokenizer,
  examples: RawExample[],
  source: string,
  limit: LengthLimit,
  chatTemplate?: ChatTemplate,
): EncodedExample[] {
  const maxTokens = limit.contextLength - limit.virtualTokens;
  if (maxTokens < 2) {
    throw new Error(`${limit.virtualTokens} virtual tokens leave no room in a context of ${limit.contextLength} tokens`);
  }
  const problems: string[] = [];
  const encoded: EncodedExample[] = [];
  for (const ex of examples) {
    const where = `${source}:${ex.line}`;
    let e: EncodedExample;
    if (isChatExample(ex)) {
      if (!chatTemplate) {
        problems.push(`${where}: a "messages" line, but the model has no chat template (use "input"/"output" lines)`);
        continue;
      }
      try {
        e = encodeChatExample(tokenizer, chatTemplate, ex.messages, ex.line);
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
        continue;
      }
      if (!e.trained.includes(1)) problems.push(`${where}: the assistant messages encode to no tokens`);
    } else {
      e = encodeExample(tokenizer, ex.input, ex.output, ex.line);
      if (e.outputIds.length === 0) problems.push(`${where}: "output" encodes to no tokens`);
    }
    if (e.promptIds.length === 0) {
      problems.push(`${where}: nothing comes before the first output token (the model adds no BOS; give a non-empty input)`);
    }
    if (e.ids.length > maxTokens) {
      problems.push(
        `${where}: example is ${e.ids.length} tokens; with ${limit.virtualTokens} virtual tokens the ` +
          `model's context of ${limit.contextLength} allows ${maxTokens} (shorten it or use fewer virtual tokens)`,
      );
    }
    encoded.push(e);
  }
  if (problems.length > 0) throw new DataError(source, problems);
  return encoded;
}
