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
    const text = [
      '{"input":"a","output":"b"}',
      '{bad',
      '[1]',
      '{"input":1,"output":"b"}',
      '{"input":"a"}',
      '{"input":"a","output":""}',
    ].join('\n');
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

  it('parses conversations: {"messages": [{"role", "content"}, …]}', () => {
    const text = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}],"id":1}\n';
    expect(parseExamplesJsonl(text, 'c.jsonl')).toEqual([
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
        line: 1,
      },
    ]);
  });

  it('reports bad conversations, and lines of the other shape, with file and line', () => {
    const ok = '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}';
    const text = [
      ok,
      '{"messages":[]}',
      '{"messages":[{"role":"user"},"x",{"role":1,"content":"c"}]}',
      '{"messages":[{"role":"user","content":"only a question"}]}',
      '{"messages":[{"role":"assistant","content":"a"}],"input":"q"}',
      '{"input":"q","output":"a"}',
    ].join('\n');
    let error: DataError | undefined;
    try {
      parseExamplesJsonl(text, 'c.jsonl');
    } catch (e) {
      error = e as DataError;
    }
    expect(error?.problems).toEqual([
      'c.jsonl:2: "messages" must be a non-empty array of {"role", "content"} (got an empty array)',
      'c.jsonl:3: messages[0].content must be a string (got nothing)',
      'c.jsonl:3: messages[1] must be an object {"role", "content"} (got string)',
      'c.jsonl:3: messages[2].role must be a non-empty string (got number)',
      'c.jsonl:4: no non-empty "assistant" message (there is nothing to learn from)',
      'c.jsonl:5: has both "messages" and "input"/"output"; a line is one or the other',
      'c.jsonl:6: a "input"/"output" line in a file of "messages" lines (line 1); use one shape per file',
    ]);
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
