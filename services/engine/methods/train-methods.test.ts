import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptAndOutput, type EncodedExample } from '../data/encode.js';
import { readSafetensors, tensorToFloat32 } from '../formats/safetensors.js';
import { writeGeneratedModel } from '../model/generate.js';
import { loadGguf } from '../model/gguf.js';
import type { LoadedModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import { readCheckpointFile } from '../train/checkpoint-file.js';
import { TrainingAbortedError } from '../train/errors.js';
import { evaluatePrompt } from '../train/evaluate.js';
import { exampleSet, type ExampleSet } from '../train/example-set.js';
import { generateText } from '../train/generate-text.js';
import { train, type TrainOptions } from '../train/train.js';
import { writePromptOutputs } from '../train/write-outputs.js';
import type { MethodOptions } from './method.js';
import { kvDim, prefixWidth } from './prefix-layout.js';
import { readStoredPrompt } from './serving.js';

let dir: string;
let model: LoadedModel;

/** BOS + 3..6 random tokens + the fixed answer [17, 23] (learnable by any of the methods). */
function examples(count: number, seed: number): ExampleSet {
  const rng = Rng.fromSeed(seed);
  const list: EncodedExample[] = Array.from({ length: count }, (_, line) => {
    const promptIds = [1, ...Array.from({ length: 3 + rng.nextInt(4) }, () => 40 + rng.nextInt(200))];
    return promptAndOutput(promptIds, [17, 23], line);
  });
  return exampleSet(list, { padId: 0, maxSeqLen: 200 });
}

const options = (method: MethodOptions, overrides: Partial<TrainOptions> = {}): TrainOptions => ({
  model,
  train: examples(24, 1),
  eval: examples(8, 2),
  virtualTokens: 3,
  method,
  init: method.method === 'prefix_tuning' && method.prefixProjection ? { kind: 'random' } : { kind: 'sample-vocab' },
  steps: 8,
  lr: 0.05,
  batchSize: 4,
  seed: 3,
  threads: 1,
  ...overrides,
});

const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ptune-methods-'));
  const file = path.join(dir, 'tiny.gguf');
  await writeGeneratedModel('tiny', 0, file); // GQA: 4 heads over 2 KV heads
  model = await loadGguf(file);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cases: { name: string; method: MethodOptions; peft: Record<string, unknown>; settings: string; wide: boolean }[] = [
  {
    name: 'P-tuning (MLP)',
    method: { method: 'p_tuning', encoder: 'mlp', encoderHiddenSize: 16 },
    wide: false,
    peft: { peft_type: 'P_TUNING', encoder_reparameterization_type: 'MLP', encoder_hidden_size: 16, token_dim: 32, num_attention_heads: 4 },
    settings: '{"encoder":"mlp","encoder_hidden_size":16}',
  },
  {
    name: 'P-tuning (LSTM)',
    method: { method: 'p_tuning', encoder: 'lstm', encoderHiddenSize: 8 },
    wide: false,
    peft: { peft_type: 'P_TUNING', encoder_reparameterization_type: 'LSTM', encoder_hidden_size: 8, encoder_num_layers: 2 },
    settings: '{"encoder":"lstm","encoder_hidden_size":8}',
  },
  {
    name: 'prefix tuning',
    method: { method: 'prefix_tuning' },
    wide: true,
    peft: {
      peft_type: 'PREFIX_TUNING',
      prefix_projection: false,
      encoder_hidden_size: 16,
      token_dim: 16,
      num_attention_heads: 2,
      num_layers: 2,
    },
    settings: '{"prefix_projection":false,"encoder_hidden_size":16}',
  },
  {
    name: 'prefix tuning with projection',
    method: { method: 'prefix_tuning', prefixProjection: true, encoderHiddenSize: 12 },
    wide: true,
    peft: { peft_type: 'PREFIX_TUNING', prefix_projection: true, encoder_hidden_size: 12, token_dim: 16 },
    settings: '{"prefix_projection":true,"encoder_hidden_size":12}',
  },
];

describe.each(cases)('$name through the training loop', ({ name, method, peft, settings, wide }) => {
  it('resumes from a checkpoint to a bit-identical stored tensor and loss history', async () => {
    const straight = await train(options(method));
    const ckptDir = path.join(dir, `resume-${name}`);
    const controller = new AbortController();
    const first = train(options(method, { checkpointDir: ckptDir }), {
      signal: controller.signal,
      onProgress: (p) => p.step === 3 && controller.abort(),
    });
    await expect(first).rejects.toThrow(TrainingAbortedError);
    const checkpoint = await readCheckpointFile(ckptDir);
    expect(checkpoint?.identity.method).toBe(method.method);
    expect(checkpoint?.identity.methodSettings).toBe(settings);
    const resumed = await train(options(method, { resume: checkpoint }));
    expect(resumed.resumedFromStep).toBe(3);
    expect(resumed.losses).toEqual(straight.losses);
    expect(bytesOf(resumed.promptEmbeddings)).toEqual(bytesOf(straight.promptEmbeddings));
    // another encoder setting is another run
    const other: MethodOptions =
      method.method === 'p_tuning'
        ? { ...method, encoderHiddenSize: 4 }
        : { method: 'prefix_tuning', prefixProjection: !(method.method === 'prefix_tuning' && method.prefixProjection) };
    await expect(train(options(other, { resume: checkpoint }))).rejects.toThrow(/different run.*method/);
  });

  it('writes the stored tensor with method metadata and a PEFT folder; eval and generation read it back', async () => {
    const result = await train(options(method, { steps: 4 }));
    const c = model.spec;
    const width = wide ? prefixWidth(c) : c.dim;
    expect(result.dim).toBe(width);
    expect(result.promptEmbeddings.length).toBe(3 * width);
    const out = path.join(dir, `${name}.safetensors`);
    const peftDir = path.join(dir, `${name}-peft`);
    await writePromptOutputs(result, model, { out, peftDir });

    const stored = await readStoredPrompt(out, c);
    expect(stored.method).toBe(method.method);
    expect(stored.metadata.method_settings).toBe(settings);
    expect(stored.tensor).toEqual(result.promptEmbeddings);

    const config = JSON.parse(await readFile(path.join(peftDir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ ...peft, num_virtual_tokens: 3, inference_mode: true });
    const adapter = readSafetensors(new Uint8Array(await readFile(path.join(peftDir, 'adapter_model.safetensors'))));
    expect(adapter.tensors.prompt_embeddings.shape).toEqual([3, wide ? c.nLayers * 2 * kvDim(c) : c.dim]);
    expect(tensorToFloat32(adapter.tensors.prompt_embeddings)).toEqual(result.promptEmbeddings);

    // the stored tensor served alone gives the metrics the loop measured with the encoder in the graph
    const served = wide ? { prefix: stored.tensor } : { prompt: stored.tensor };
    const metrics = await evaluatePrompt(model, examples(8, 2), { ...served, batchSize: 4, threads: 1 });
    expect(metrics.loss).toBeCloseTo(result.evalAfter!.loss, 5);
    expect(metrics.firstTokenAccuracy).toBe(result.evalAfter!.firstTokenAccuracy);

    const text = await generateText(model, { text: 'a', ...served, maxTokens: 3, threads: 1 });
    expect(text.outputIds.length + (text.stop === 'eos' ? 1 : 0)).toBeGreaterThan(0);
  });
});

describe('initial prompts', () => {
  it('prefix tuning from sample-vocab or text starts from the same function as prompt tuning from the same tokens', async () => {
    for (const init of [{ kind: 'sample-vocab' }, { kind: 'text', text: 'abc' }] as const) {
      const prompt = await train(options({ method: 'prompt_tuning' }, { init, steps: 1 }));
      const prefix = await train(options({ method: 'prefix_tuning' }, { init, steps: 1 }));
      expect(prefix.evalBefore!.loss).toBeCloseTo(prompt.evalBefore!.loss, 4);
      expect(prefix.evalBefore!.firstTokenAccuracy).toBe(prompt.evalBefore!.firstTokenAccuracy);
    }
  });
});
