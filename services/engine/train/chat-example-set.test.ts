/**
 * Chat data end to end on the engine side: a generated Hugging Face folder whose
 * tokenizer_config.json carries a chat template, loaded with loadModel, a `messages` JSONL read by
 * loadExampleSet; the training batch's loss mask marks exactly the assistant tokens and <|im_end|>.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeHfModel } from '../model/hf/generate-hf.js';
import { loadModel } from '../model/load-model.js';
import { loadExampleSet } from './example-set.js';

const work = await mkdtemp(join(tmpdir(), 'ptune-chat-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const CHATML = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}";

describe('loadExampleSet on chat data', () => {
  it('trains on assistant turns only, with the template from tokenizer_config.json', async () => {
    const dir = join(work, 'qwen2');
    await writeHfModel(dir, { family: 'qwen2', preset: 'tiny', seed: 3 });
    const configPath = join(dir, 'tokenizer_config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    await writeFile(configPath, JSON.stringify({ ...config, chat_template: CHATML }));
    const model = await loadModel(dir);
    expect(model.chatTemplate).toBe(CHATML);

    const file = join(work, 'chat.jsonl');
    const conversation = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Ok then' },
    ];
    await writeFile(file, JSON.stringify({ messages: conversation }) + '\n');
    const set = await loadExampleSet(file, model, 4);
    const b = set.batch([0], 1);
    const trained = Array.from(b.tokens, Number).filter((_, t) => b.lossMask[t] === 1);
    const imEnd = model.tokenizer.encode('<|im_end|>', { addBos: false, parseSpecial: true });
    expect(imEnd).toHaveLength(1);
    expect(trained).toEqual([...model.tokenizer.encode('Ok then', { addBos: false }), ...imEnd]);

    await writeFile(
      file,
      JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }) + '\n' + JSON.stringify({ input: 'a', output: ' b' }) + '\n',
    );
    await expect(loadExampleSet(file, model, 4)).rejects.toThrow(
      /chat\.jsonl:1: no non-empty "assistant" message[\s\S]*chat\.jsonl:2: a "input"\/"output" line in a file of "messages" lines/,
    );
  });
});
