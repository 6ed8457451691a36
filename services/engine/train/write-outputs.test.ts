import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptAndOutput } from '../data/encode.js';
import { writeGeneratedModel } from '../model/generate.js';
import { loadGguf } from '../model/gguf.js';
import type { LoadedModel } from '../model/load-model.js';
import { decodeCheckpoint } from './checkpoint-file.js';
import { exampleSet } from './example-set.js';
import { train } from './train.js';
import { writePromptOutputs } from './write-outputs.js';
import { encodePromptFile, readPromptFile } from '../prompt/prompt-file.js';

let dir: string;
let model: LoadedModel;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ptune-outputs-'));
  await writeGeneratedModel('tiny', 3, path.join(dir, 'tiny.gguf'));
  model = await loadGguf(path.join(dir, 'tiny.gguf'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writePromptOutputs', () => {
  it('writes the prompt with its provenance and a PEFT folder that agree', async () => {
    const examples = [promptAndOutput([1, 50, 60], [70], 1)];
    const set = exampleSet(examples, { padId: 0, maxSeqLen: 100 });
    const result = await train({
      model,
      train: set,
      eval: set,
      virtualTokens: 3,
      init: { kind: 'text', text: 'the dog' },
      steps: 2,
      lr: 0.01,
      batchSize: 1,
      seed: 5,
      threads: 1,
    });
    const out = path.join(dir, 'p.safetensors');
    await writePromptOutputs(result, model, { out, peftDir: path.join(dir, 'peft') });

    const prompt = await readPromptFile(out);
    expect([prompt.virtualTokens, prompt.dim]).toEqual([3, model.spec.dim]);
    expect(prompt.embeddings).toEqual(result.promptEmbeddings);
    expect(prompt.metadata).toMatchObject({
      method: 'prompt_tuning',
      base_model_fingerprint: model.fingerprint,
      init: 'text:the dog',
      num_virtual_tokens: '3',
      seed: '5',
      steps: '2',
      lr: '0.01',
    });
    expect(JSON.parse(prompt.metadata.eval_after).loss).toBe(result.evalAfter!.loss);

    const config = JSON.parse(await readFile(path.join(dir, 'peft', 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'PROMPT_TUNING',
      num_virtual_tokens: 3,
      prompt_tuning_init: 'TEXT',
      prompt_tuning_init_text: 'the dog',
    });
    const adapter = await readPromptFile(path.join(dir, 'peft', 'adapter_model.safetensors'));
    expect(adapter.embeddings).toEqual(result.promptEmbeddings);
  });

  it('a prompt file is not mistaken for a checkpoint', () => {
    const bytes = encodePromptFile(new Float32Array(4), 2, {});
    expect(() => decodeCheckpoint(bytes, 'p.safetensors')).toThrow(/p\.safetensors: not a ptune checkpoint/);
  });
});
