/**
 * Bring your own model, end to end: a generated Hugging Face folder (Qwen3: byte-level BPE, f16
 * shards, head_dim 16 where hidden_size / heads is 8) and a generated Q8_0 GGUF are registered with the real `ptune models add --dir/--file`
 * against an all-in-one server (what `ptune serve` runs: registry, coordinator, one in-process
 * worker, PGlite), trained with TrainPrompt through the client SDK, and the registered versions are
 * read back with GetPrompt and ExportPeft. The folder carries Qwen2.5's real chat template as
 * chat_template.jinja (the generator writes none), so its job also trains a `messages` dataset.
 * Each input/output prompt must equal the engine's own run on the file the user has on disk: the
 * worker trained that very model (fetched, assembled, loaded, tokenized as the user's copy).
 * A prefix-tuning job on each then checks the key/value width (layers × 2 × kv heads × head_dim).
 * The folder also holds what a hub download leaves beside a model (.gitattributes, .cache/): not
 * part of the model, nor of its fingerprint, for the CLI, the registry and the engine alike.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allInOneModules } from '../../services/cli/commands/all-in-one.js';
import { connect, jobEvents, type PtuneClient } from '../../services/client/index.js';
import { loadExampleSet, loadModel, train } from '../../services/engine/index.js';
import { readSafetensors, tensorToFloat32 } from '../../services/engine/formats/safetensors.js';
import { writeGeneratedModel } from '../../services/engine/model/generate.js';
import { writeHfModel } from '../../services/engine/model/hf/generate-hf.js';
import { InitMethod, TuningMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { TokenizerKind, WeightsFormat } from '../../services/gen/ptune/v1/registry_pb.js';
import { JobState, type Job, type MethodSettingsSchema } from '../../services/gen/ptune/v1/training_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { startServer, type RunningServer } from '../../services/server/index.js';
import { ptune, repoRoot } from '../support/ptune-cli.js';
import { uploadDataset } from './support/protocol.js';
import { datasetText } from './support/seed.js';

interface Architecture {
  family: string;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
}

const CHAT_TEMPLATE = path.join(repoRoot, 'services/engine/chat/fixtures/Qwen-Qwen2.5-7B-Instruct.jinja');
const WORDS = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree'];

/** `count` conversations: a short system turn (so Qwen's long default is not used), a question, a one-word answer */
function chatText(count: number, offset = 0): string {
  return Array.from({ length: count }, (_, i) => {
    const [a, b] = [WORDS[(i + offset) % WORDS.length], WORDS[(i * 3 + offset + 1) % WORDS.length]];
    const messages = [
      { role: 'system', content: 'One word.' },
      { role: 'user', content: `the ${a} and the ${b}?` },
      { role: 'assistant', content: b },
    ];
    return JSON.stringify({ messages });
  }).join('\n');
}

interface ModelCase {
  name: string;
  /** also train a `messages` dataset (the model has a chat template) */
  chat: boolean;
  /** the prompt's init text (rows read through the model's own tokenizer); none: sampled vocabulary rows */
  initText?: string;
  /** the model file or folder on disk */
  local: () => string;
  /** `models add` arguments that point at the model on disk */
  source: () => string[];
  /** the fingerprint computed independently of ptune */
  fingerprint: () => string;
  format: WeightsFormat;
  tokenizer: TokenizerKind;
  architecture: Architecture;
}

describe('an HF folder and a quantized GGUF: models add → TrainPrompt → GetPrompt / ExportPeft (all-in-one server, PGlite)', () => {
  let dir: string;
  let server: RunningServer;
  let client: PtuneClient;
  const models = { hfDir: '', gguf: '', ggufSha256: '' };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-model-sources-'));
    models.hfDir = path.join(dir, 'qwen3-tiny');
    await writeHfModel(models.hfDir, { family: 'qwen3', preset: 'tiny', seed: 11, dtype: 'f16', shards: 2 });
    await copyFile(CHAT_TEMPLATE, path.join(models.hfDir, 'chat_template.jinja'));
    // what `huggingface-cli download --local-dir` leaves beside the model: hub bookkeeping, not the model
    await writeFile(path.join(models.hfDir, '.gitattributes'), '*.safetensors filter=lfs diff=lfs merge=lfs -text\n');
    await mkdir(path.join(models.hfDir, '.cache', 'huggingface'), { recursive: true });
    await writeFile(path.join(models.hfDir, '.cache', 'huggingface', '.gitignore'), '*\n');
    const gguf = await writeGeneratedModel('tiny', 7, path.join(dir, 'tiny-q8_0.gguf'), { dtype: 'q8_0' });
    [models.gguf, models.ggufSha256] = [gguf.path, gguf.fingerprint];
    server = await startServer({
      dataDir: path.join(dir, 'data'),
      port: 0,
      logger: pino({ level: 'warn' }),
      modules: allInOneModules({
        coordinator: { heartbeatIntervalMs: 300, maintenanceIntervalMs: 200, eventPollMs: 20 },
        sweeper: { intervalMs: 0 },
        workers: { count: 1, threads: 1, cacheDir: path.join(dir, 'worker-cache') },
      }),
    });
    client = connect(server.address);
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await server?.close(1000);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  type TaskData = { task: { namespace: string; name: string }; train: string; eval: string };

  /** TrainPrompt (3 steps, alias production) → its terminal state, which must be SUCCEEDED; the job's view. */
  async function trainToEnd(baseModel: string, tasks: TaskData[], method: MessageInitShape<typeof MethodSettingsSchema>): Promise<Job> {
    const { job } = await client.training.trainPrompt({
      baseModel,
      tasks: await Promise.all(
        tasks.map(async (t) => ({
          task: t.task,
          train: { source: { case: 'sha256' as const, value: await uploadDataset(client.training, t.train) } },
          eval: { source: { case: 'sha256' as const, value: await uploadDataset(client.training, t.eval) } },
        })),
      ),
      method,
      optimizer: { steps: 3, batchSize: 4, seed: 1n, learningRate: 0.01 },
      alias: 'production',
    });
    let finished: JobState | undefined;
    let why = '';
    for await (const event of jobEvents(client.training, job!.id)) {
      if (event.kind.case === 'jobState') [finished, why] = [event.kind.value.state, event.kind.value.reason];
    }
    const view = (await client.training.getJob({ jobId: job!.id })).job!;
    expect(finished, `${why} ${JSON.stringify(view.trials.map((t) => t.error))}`).toBe(JobState.SUCCEEDED);
    expect(view.results.map((r) => r.task?.name).sort()).toEqual(tasks.map((t) => t.task.name).sort());
    return view;
  }

  const cases: ModelCase[] = [
    {
      name: 'qwen3-tiny',
      chat: true,
      initText: 'the red cat',
      local: () => models.hfDir,
      source: () => ['--dir', models.hfDir],
      // the manifest fingerprint as the wire contract defines it, by coreutils
      fingerprint: () =>
        execFileSync('sh', ['-c', 'sha256sum * | LC_ALL=C sort -k2 | sha256sum'], { cwd: models.hfDir, encoding: 'utf8' }).split(' ')[0],
      format: WeightsFormat.HF_FOLDER,
      tokenizer: TokenizerKind.BYTE_LEVEL_BPE,
      architecture: { family: 'qwen3', hiddenSize: 32, numLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 16 },
    },
    {
      name: 'tiny-q8-0',
      chat: false,
      local: () => models.gguf,
      source: () => ['--file', models.gguf],
      fingerprint: () => models.ggufSha256,
      format: WeightsFormat.GGUF,
      tokenizer: TokenizerKind.SENTENCEPIECE,
      architecture: { family: 'llama', hiddenSize: 32, numLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 8 },
    },
  ];

  it.each(cases)(
    '$name: registered by the CLI, trained (chat data too: $chat), and served with its PEFT fields',
    async (c) => {
      const added = await ptune('models', 'add', '--name', c.name, ...c.source(), '--json', '--server', server.address);
      expect(added.code, added.stderr).toBe(0);
      const { baseModel } = await client.registry.getBaseModel({ name: c.name });
      expect(baseModel?.fingerprintSha256).toBe(c.fingerprint());
      expect([baseModel?.weightsFormat, baseModel?.tokenizerKind]).toEqual([c.format, c.tokenizer]);
      expect(baseModel?.architecture).toMatchObject(c.architecture);

      const text = { task: { namespace: 'byom', name: c.name }, train: datasetText(8), eval: datasetText(4, 5) };
      const chat = { task: { namespace: 'byom', name: `${c.name}-chat` }, train: chatText(8), eval: chatText(4, 5) };
      const tasks = [text, ...(c.chat ? [chat] : [])];
      for (const t of tasks) await client.registry.createTask({ task: t.task });
      const view = await trainToEnd(c.name, tasks, {
        numVirtualTokens: 4,
        init: c.initText === undefined ? { method: InitMethod.SAMPLE_VOCAB } : { method: InitMethod.TEXT, text: c.initText },
      });
      const hidden = c.architecture.hiddenSize;
      const served = [];
      for (const { task } of tasks) {
        const { version, safetensors } = await client.registry.getPrompt({
          prompt: { task, selector: { case: 'alias', value: 'production' } },
        });
        expect(version?.baseModel).toMatchObject({ name: c.name, fingerprintSha256: c.fingerprint() });
        expect(version?.lineage?.jobId).toBe(view.id);
        expect([version?.method, version?.shape]).toEqual([TuningMethod.PROMPT_TUNING, [4n, BigInt(hidden)]]);
        const embeddings = readSafetensors(safetensors).tensors.prompt_embeddings;
        expect(embeddings.shape).toEqual([4, hidden]);
        served.push(tensorToFloat32(embeddings));

        const exported = await client.registry.exportPeft({ prompt: { task, selector: { case: 'version', value: version!.version } } });
        const config = JSON.parse(Buffer.from(exported.adapterConfigJson).toString('utf8')) as Record<string, unknown>;
        expect(config).toMatchObject({
          peft_type: 'PROMPT_TUNING',
          task_type: 'CAUSAL_LM',
          num_virtual_tokens: 4,
          token_dim: hidden,
          num_layers: c.architecture.numLayers,
          num_attention_heads: c.architecture.numAttentionHeads,
          num_transformer_submodules: 1,
          base_model_name_or_path: c.name,
        });
        if (c.initText !== undefined) {
          expect(config).toMatchObject({ prompt_tuning_init: 'TEXT', prompt_tuning_init_text: c.initText, tokenizer_name_or_path: c.name });
        }
        expect(readSafetensors(exported.adapterModelSafetensors).tensors.prompt_embeddings.shape).toEqual([4, hidden]);
      }

      // the engine trains the user's own copy with the trial's settings: the same bytes
      const point = view.trials.find((t) => t.task?.name === text.task.name)!.point!.optimizer!;
      const model = await loadModel(c.local());
      expect(model.fingerprint).toBe(c.fingerprint());
      const file = async (name: string, content: string): Promise<string> => {
        await writeFile(path.join(dir, name), content);
        return path.join(dir, name);
      };
      const direct = await train({
        model,
        train: await loadExampleSet(await file(`${c.name}-train.jsonl`, text.train), model, 4),
        eval: await loadExampleSet(await file(`${c.name}-eval.jsonl`, text.eval), model, 4),
        virtualTokens: 4,
        init: c.initText === undefined ? { kind: 'sample-vocab' } : { kind: 'text', text: c.initText },
        steps: 3,
        lr: point.learningRate,
        batchSize: point.batchSize,
        seed: Number(point.seed),
        gradClip: point.maxGradNorm,
        weightDecay: point.weightDecay,
        warmupSteps: point.warmupSteps,
        schedule: 'constant',
        threads: 1,
      });
      expect(Array.from(served[0])).toEqual(Array.from(direct.promptEmbeddings));

      // prefix tuning: a key and a value row per layer and key/value head, each head_dim wide
      const kvWidth = c.architecture.numKeyValueHeads * c.architecture.headDim;
      const prefixJob = await trainToEnd(c.name, [text], { method: TuningMethod.PREFIX_TUNING, numVirtualTokens: 4 });
      const prefix = await client.registry.exportPeft({
        prompt: { task: text.task, selector: { case: 'version', value: prefixJob.results[0].version } },
      });
      expect([prefix.version?.method, prefix.version?.shape]).toEqual([
        TuningMethod.PREFIX_TUNING,
        [4n, BigInt(c.architecture.numLayers * 2 * kvWidth)],
      ]);
      expect(JSON.parse(Buffer.from(prefix.adapterConfigJson).toString('utf8'))).toMatchObject({
        peft_type: 'PREFIX_TUNING',
        num_virtual_tokens: 4,
        token_dim: kvWidth,
        num_layers: c.architecture.numLayers,
        num_attention_heads: c.architecture.numKeyValueHeads,
      });
    },
    60_000,
  );
});
