/**
 * What the browser tests look at, put in through the public gRPC API with the people's tokens:
 * the generated "demo" base model, tasks in two namespaces, pushed versions with metrics and
 * hyperparameters (one task's description and hyperparameters hostile HTML), aliases, and small
 * real training jobs on examples/feelings.
 */
import { mkdir, rename, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { uploadDataset, weightsUpload, type PtuneClient } from '../../../services/client/index.js';
import { loadModel, writeGeneratedModel } from '../../../services/engine/index.js';
import { writeSafetensors } from '../../../services/engine/formats/safetensors.js';
import { InitMethod } from '../../../services/gen/ptune/v1/common_pb.js';
import type { PromptVersion } from '../../../services/gen/ptune/v1/registry_pb.js';
import type { Job } from '../../../services/gen/ptune/v1/training_pb.js';
import { NAMESPACE, OTHER_NAMESPACE, type ConsoleServer } from './console-server.js';

export const MODEL = 'demo';
export const TASK = 'support-replies';
export const JOB_TASK = 'feelings';
export const SECRET_TASK = 'secret-plans';
/** Markup a page must show as text, never run or render. */
export const HOSTILE = `<script>alert("pwned")</script><img src=x onerror="alert(1)">`;

export interface Scenario {
  /** TASK's versions 1..3 (production → 2, staging → 3) */
  readonly versions: readonly PromptVersion[];
  /** the vocabulary tokens whose embedding rows are version 1's virtual tokens, in order (the nearest token of each, cosine 1) */
  readonly promptTokens: readonly string[];
  /** the local GGUF file of MODEL */
  readonly modelFile: string;
}

const VIRTUAL_TOKENS = 4;
const EXAMPLES = path.resolve(import.meta.dirname, '../../../examples');
let generated: Promise<string> | undefined;

/**
 * The demo preset's GGUF (seed 0: the quick start's model), generated once into the temporary
 * folder and reused by later processes; written beside and renamed, so concurrent test files never
 * read a half-written file.
 */
export function demoModelFile(): Promise<string> {
  generated ??= (async () => {
    const dir = path.join(os.tmpdir(), 'ptune-console-models');
    const file = path.join(dir, `${MODEL}-seed0.gguf`);
    if ((await stat(file).catch(() => undefined)) === undefined) {
      await mkdir(dir, { recursive: true });
      const part = `${file}.${process.pid}.part`;
      await writeGeneratedModel(MODEL, 0, part);
      await rename(part, file);
    }
    return file;
  })();
  return generated;
}

/** Registers MODEL, creates the tasks, pushes TASK's versions and moves its aliases. */
export async function seedScenario(console: ConsoleServer): Promise<Scenario> {
  const root = console.client('root');
  const admin = console.client('admin');
  const modelFile = await demoModelFile();
  await root.registry.registerBaseModel(weightsUpload(MODEL, modelFile, (await stat(modelFile)).size, 'console-test'));
  await admin.registry.createTask({ task: { namespace: NAMESPACE, name: TASK }, description: `support answers ${HOSTILE}` });
  await admin.registry.createTask({ task: { namespace: NAMESPACE, name: JOB_TASK }, description: 'examples/feelings' });
  await root.registry.createTask({ task: { namespace: OTHER_NAMESPACE, name: SECRET_TASK }, description: 'not for acme' });

  const { rows, tokens } = await vocabularyRows(modelFile, VIRTUAL_TOKENS);
  const versions: PromptVersion[] = [];
  const recorded = [
    { eval_loss: 2.5, eval_accuracy: 0.41, lr: '0.03', note: 'baseline' },
    { eval_loss: 1.8, eval_accuracy: 0.72, lr: '0.1', note: HOSTILE },
    { eval_loss: 2.1, eval_accuracy: 0.63, lr: '0.3', note: 'too hot' },
  ];
  for (const [i, r] of recorded.entries()) {
    // version 1 is the vocabulary rows themselves; later ones are shifted copies (still unit-norm-ish, finite)
    const data = i === 0 ? rows : rows.map((x, j) => x + Math.sin(j + i) * 0.05 * i);
    const file = writeSafetensors({ prompt_embeddings: { dtype: 'F32', shape: [VIRTUAL_TOKENS, rows.length / VIRTUAL_TOKENS], data } });
    const { version } = await admin.registry.createPromptVersion({
      spec: {
        task: { namespace: NAMESPACE, name: TASK },
        baseModel: MODEL,
        init: { method: InitMethod.SAMPLE_VOCAB },
        metrics: { eval_loss: r.eval_loss, eval_accuracy: r.eval_accuracy },
        hyperparameters: { learning_rate: r.lr, note: r.note },
      },
      payload: { case: 'safetensors', value: file },
    });
    versions.push(version!);
  }
  await moveAlias(admin, 'production', 2, 0);
  await moveAlias(admin, 'staging', 3, 0);

  const secret = writeSafetensors({
    prompt_embeddings: { dtype: 'F32', shape: [VIRTUAL_TOKENS, rows.length / VIRTUAL_TOKENS], data: rows },
  });
  await root.registry.createPromptVersion({
    spec: { task: { namespace: OTHER_NAMESPACE, name: SECRET_TASK }, baseModel: MODEL, alias: 'production' },
    payload: { case: 'safetensors', value: secret },
  });
  return { versions, promptTokens: tokens, modelFile };
}

/** Points TASK's alias at a version with the API's compare-and-swap (expected 0: the alias is new). */
export async function moveAlias(client: PtuneClient, alias: string, version: number, expectedVersion: number): Promise<void> {
  await client.registry.setAlias({ task: { namespace: NAMESPACE, name: TASK }, alias, version, expectedVersion });
}

/** Embedding rows of `count` word tokens of the model's vocabulary (spread over it), and their texts. */
async function vocabularyRows(modelFile: string, count: number): Promise<{ rows: Float32Array; tokens: string[] }> {
  const model = await loadModel(modelFile);
  const embedding = model.tensors.get('embed_tokens.weight');
  if (embedding === undefined) throw new Error(`${modelFile}: no embed_tokens.weight tensor`);
  const [vocab, width] = embedding.dims;
  const words = Array.from({ length: vocab }, (_, id) => id).filter((id) => /^▁?[A-Za-z]{4,}$/.test(model.tokenizer.tokenText(id)));
  if (words.length < count) throw new Error(`${modelFile}: fewer than ${count} word tokens in its vocabulary`);
  const ids = Array.from({ length: count }, (_, i) => words[Math.floor((i * words.length) / count)]);
  const rows = new Float32Array(count * width);
  ids.forEach((id, row) => rows.set(embedding.data.subarray(id * width, (id + 1) * width), row * width));
  return { rows, tokens: ids.map((id) => model.tokenizer.tokenText(id)) };
}

export interface TrainJobOptions {
  /** optimisation steps per trial */
  steps: number;
  /** one trial per learning rate */
  learningRates: readonly number[];
}

/** Submits a real prompt-tuning job on examples/feelings as the trainer. */
export async function submitJob(console: ConsoleServer, options: TrainJobOptions): Promise<Job> {
  const { training } = console.client('trainer');
  const train = await uploadDataset(training, path.join(EXAMPLES, 'feelings', 'train.jsonl'));
  const evalSet = await uploadDataset(training, path.join(EXAMPLES, 'feelings', 'eval.jsonl'));
  const { job } = await training.trainPrompt({
    baseModel: MODEL,
    tasks: [
      {
        task: { namespace: NAMESPACE, name: JOB_TASK },
        train: { source: { case: 'sha256', value: train } },
        eval: { source: { case: 'sha256', value: evalSet } },
      },
    ],
    method: { numVirtualTokens: VIRTUAL_TOKENS, init: { method: InitMethod.SAMPLE_VOCAB } },
    optimizer: {
      steps: options.steps,
      learningRate: options.learningRates[0],
      batchSize: 8,
      seed: 0n,
      checkpointEverySteps: options.steps,
    },
    sweep: { learningRates: [...options.learningRates] },
    selection: { name: 'eval_loss', higherIsBetter: false },
  });
  return job!;
}
