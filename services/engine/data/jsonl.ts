/**
 * Reads training/eval examples from JSONL: one `{"input": string, "output": string}` object per
 * line (other fields are ignored). Blank or whitespace-only lines are skipped wherever they are;
 * CRLF line ends and a leading UTF-8 BOM are accepted. Every line is checked before anything is
 * returned, and all problems are reported together, each as `file:line: what`.
 */
import { readFile } from 'node:fs/promises';

export interface RawExample {
  input: string;
  output: string;
  /** 1-based line number in the source file */
  line: number;
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
      problems.push(`${where}: expected an object {"input": "...", "output": "..."}`);
      return;
    }
    const { input, output } = value as { input?: unknown; output?: unknown };
    if (typeof input !== 'string') problems.push(`${where}: "input" must be a string (got ${input === undefined ? 'nothing' : typeof input})`);
    if (typeof output !== 'string') problems.push(`${where}: "output" must be a string (got ${output === undefined ? 'nothing' : typeof output})`);
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
