import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { loadGguf } from '../model/gguf.js';
import { stories260K } from '../model/stories260k-fixture.js';
import { SpmTokenizer } from '../tokenizer/spm.js';
import { loadDataset } from './dataset.js';
import { encodeExample, encodeExamples } from './encode.js';

const tok = new SpmTokenizer(generatedTokenizerSpec(320));

describe('encodeExample', () => {
  it('is BOS + input with dummy prefix + output without it', () => {
    const e = encodeExample(tok, 'the dog', ' ran', 3);
    expect(e.promptIds).toEqual(tok.encode('the dog', { addBos: true }));
    expect(e.outputIds).toEqual(tok.encode(' ran', { addBos: false, continuation: true }));
    expect(e.ids).toEqual([...e.promptIds, ...e.outputIds]);
    expect(e.promptIds[0]).toBe(tok.bosId);
    expect(e.line).toBe(3);
    expect(tok.decode(e.ids)).toBe('the dog ran');
  });

  it('rejects examples longer than the context minus virtual tokens, naming file and line', () => {
    const long = { input: 'x'.repeat(40), output: ' y', line: 9 };
    const ok = { input: 'a', output: ' b', line: 1 };
    const n = encodeExample(tok, long.input, long.output).ids.length;
    expect(encodeExamples(tok, [ok, long], 'd.jsonl', { contextLength: n + 4, virtualTokens: 4 })).toHaveLength(2);
    expect(() => encodeExamples(tok, [ok, long], 'd.jsonl', { contextLength: n + 4, virtualTokens: 5 }))
      .toThrow(new RegExp(`d\\.jsonl:9: example is ${n} tokens; with 5 virtual tokens`));
  });
});

describe('loadDataset', () => {
  it('validates every line before returning anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptune-ds-'));
    try {
      const path = join(dir, 'train.jsonl');
      await writeFile(path, '{"input":"a","output":" b"}\n{"input":"c","output":" d"}\n');
      const ds = await loadDataset(path, tok, { contextLength: 64, virtualTokens: 8 });
      expect(ds.examples.map((e) => e.line)).toEqual([1, 2]);
      await writeFile(path, '{"input":"a","output":" b"}\n{"input":"c"}\n');
      await expect(loadDataset(path, tok, { contextLength: 64, virtualTokens: 8 })).rejects.toThrow(/train\.jsonl:2: "output" must be a string/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!stories260K.available)('encodeExample on stories260K', () => {
  it('splits prompt and output as the reference tokenizer does', async () => {
    const t = (await loadGguf(stories260K.ggufPath)).tokenizer;
    const e = encodeExample(t, 'Once upon a', ' time');
    expect(e.ids).toEqual(stories260K.reference().tokenizer_encode_examples['Once upon a time']);
  });
});
if (!stories260K.available) console.warn(`skipping stories260K encoding test: ${stories260K.skipReason}`);
