/**
 * Reads training/eval examples from JSONL, one object per line (other fields are ignored), in one
 * of two shapes per file: `{"input": string, "output": string}`, or a conversation
 * `{"messages": [{"role": string, "content": string}, …]}` with at least one "assistant" message
 * (rendered later with the model's chat template). Blank or whitespace-only lines are skipped
 * wherever they are; CRLF line ends and a leading UTF-8 BOM are accepted. Every line is checked
 * before anything is returned, and all problems are reported together, each as `file:line: what`.
 */
import { readFile } from 'node:fs/promises';
import type { ChatMessage } from '../chat/template.js';

export interface CompletionExample {
  input: string;
  output: string;
  /** 1-based line number in the source file */
  line: number;
}

export interface ChatExample {
  messages: ChatMessage[];
  /** 1-based line number in the source file */
  line: number;
}

export type RawExample = CompletionExample | ChatExample;

export function isChatExample(e: RawExample): e is ChatExample {
  return 'messages' in e;
}

function describe(v: unknown): string {
  return v === undefined ? 'nothing' : Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/** problems of one `messages` value, or the messages */
function parseMessages(value: unknown, where: string, problems: string[]): ChatMessage[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    const got = Array.isArray(value) ? 'an empty array' : describe(value);
    problems.push(`${where}: "messages" must be a non-empty array of {"role", "content"} (got ${got})`);
    return undefined;
  }
  const before = problems.length;
  const messages: ChatMessage[] = [];
  value.forEach((m: unknown, i) => {
    const at = `${where}: messages[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      problems.push(`${at} must be an object {"role", "content"} (got ${describe(m)})`);
      return;
    }
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || role === '') problems.push(`${at}.role must be a non-empty string (got ${describe(role)})`);
    if (typeof content !== 'string') problems.push(`${at}.content must be a string (got ${describe(content)})`);
    if (typeof role === 'string' && typeof content === 'string') messages.push({ role, content });
  });
  if (problems.length > before) return undefined;
  if (!messages.some((m) => m.role === 'assistant' && m.content.length > 0)) {
    problems.push(`${where}: no non-empty "assistant" message (there is nothing to learn from)`);
    return undefined;
  }
  return messages;
}

/** Thrown when a data file is invalid; `problems` lists every `file:line: …` message. */
export class DataError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n… and ${problems.length - shown.length} more` : '';
    super(`${source}: ${problems.length} invalid example(s):\n${shown.join('\n')}${more}`);
    this.name = 'DataError';
  }
}

export function parseExamplesJsonl(text: string, source: string): RawExample[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const examples: RawExample[] = [];
  const problems: string[] = [];
  /** the shape of the file: that of its first object line */
  let shape: { chat: boolean; line: number } | undefined;
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const where = `${source}:${line}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      problems.push(`${where}: not valid JSON (${(e as Error).message})`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${where}: expected an object {"input": "...", "output": "..."} or {"messages": [...]}`);
      return;
    }
    const chat = 'messages' in value;
    if (chat && ('input' in value || 'output' in value)) {
      problems.push(`${where}: has both "messages" and "input"/"output"; a line is one or the other`);
      return;
    }
    shape ??= { chat, line };
    if (chat !== shape.chat) {
      const [mine, theirs] = chat ? ['"messages"', '"input"/"output"'] : ['"input"/"output"', '"messages"'];
      problems.push(`${where}: a ${mine} line in a file of ${theirs} lines (line ${shape.line}); use one shape per file`);
      return;
    }
    if (chat) {
      const messages = parseMessages((value as { messages: unknown }).messages, where, problems);
      if (messages) examples.push({ messages, line });
      return;
    }
    const { input, output } = value as { input?: unknown; output?: unknown };
    if (typeof input !== 'string')
      problems.push(`${where}: "input" must be a string (got ${input === undefined ? 'nothing' : typeof input})`);
    if (typeof output !== 'string')
      problems.push(`${where}: "output" must be a string (got ${output === undefined ? 'nothing' : typeof output})`);
    else if (output.length === 0) problems.push(`${where}: "output" is empty (there is nothing to learn from)`);
    if (typeof input === 'string' && typeof output === 'string' && output.length > 0) examples.push({ input, output, line });
  });
  if (problems.length > 0) throw new DataError(source, problems);
  if (examples.length === 0) throw new DataError(source, [`${source}: no examples (the file is empty)`]);
  return examples;
}

export async function readExamplesJsonl(path: string): Promise<RawExample[]> {
  return parseExamplesJsonl(await readFile(path, 'utf8'), path);
}
