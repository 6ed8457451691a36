import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, parseExamplesJsonl, readExamplesJsonl } from './jsonl.js';

describe('JSONL examples', () => {
  it('parses objects, skips blank lines, accepts CRLF and a BOM, keeps line numbers', () => {
    const text = '\uFEFF{"input":"a","output":" b"}\r\n\n  \n{"input":"","output":"x","id":7}\n';
    expect(parseExamplesJsonl(text, 'd.jsonl')).toEqual([
      { input: 'a', output: ' b', line: 1 },
      { input: '', output: 'x', line: 4 },
    ]);
  });

  it('reports every bad line with file and line', () => {
    const text = ['{"input":"a","output":"b"}', '{bad', '[1]', '{"input":1,"output":"b"}', '{"input":"a"}', '{"input":"a","output":""}'].join('\n');
    let error: DataError | undefined;
    try {
      parseExamplesJsonl(text, 'd.jsonl');
    } catch (e) {
      error = e as DataError;
    }
    expect(error).toBeInstanceOf(DataError);
    expect(error?.problems).toEqual([
      expect.stringMatching(/^d\.jsonl:2: not valid JSON/),
      'd.jsonl:3: expected an object {"input": "...", "output": "..."} or {"messages": [...]}',
      'd.jsonl:4: "input" must be a string (got number)',
      'd.jsonl:5: "output" must be a string (got nothing)',
      'd.jsonl:6: "output" is empty (there is nothing to learn from)',
    ]);
    expect(error?.message).toMatch(/^d\.jsonl: 5 invalid example\(s\):\nd\.jsonl:2:/);
  });

  it('rejects a file without examples', () => {
    expect(() => parseExamplesJsonl('\n\n', 'e.jsonl')).toThrow(/e\.jsonl: no examples/);
  });

  it('reads from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptune-jsonl-'));
    try {
      const path = join(dir, 't.jsonl');
      await writeFile(path, '{"input":"q","output":" a"}\n');
      expect(await readExamplesJsonl(path)).toEqual([{ input: 'q', output: ' a', line: 1 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
