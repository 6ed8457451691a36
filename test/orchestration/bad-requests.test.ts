import * as grpc from '@grpc/grpc-js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../services/config/index.js';
import { InitMethod, TuningMethod } from '../../services/gen/ptune/v1/common_pb.js';
import type { TaskDataSchema, TrainPromptRequestSchema } from '../../services/gen/ptune/v1/training_pb.js';
import type { BaseModel, Task } from '../../services/storage/index.js';
import { startCoordinatorHarness, type CoordinatorHarness } from './support/coordinator-harness.js';
import { rpcError, sha256Hex, uploadDataset } from './support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from './support/seed.js';

type RequestInit = Exclude<MessageInitShape<typeof TrainPromptRequestSchema>, { $typeName: string }>;

const MAX_TRIALS = 16;
const MAX_DATASET_BYTES = 64 * 1024;
const MAX_VIRTUAL_TOKENS = 300;

describe('TrainPrompt refuses bad requests and creates nothing (PGlite)', () => {
  let h: CoordinatorHarness;
  let model: BaseModel;
  let task: Task;
  let train: string;
  let evalSet: string;
  let longExamples: string;
  let stagedMalformedKey: string;

  beforeAll(async () => {
    h = await startCoordinatorHarness({
      config: {
        limits: {
          ...DEFAULT_LIMITS,
          maxTrialsPerJob: MAX_TRIALS,
          maxDatasetBytes: MAX_DATASET_BYTES,
          maxVirtualTokens: MAX_VIRTUAL_TOKENS,
        },
      },
    });
    model = await seedTinyModel(h.db.prisma, h.blobs);
    task = await seedTask(h.db.prisma);
    train = await uploadDataset(h.training, datasetText(6));
    evalSet = await uploadDataset(h.training, datasetText(3));
    // line 2 is far longer than the tiny model's 256-token context
    longExamples = await uploadDataset(
      h.training,
      [datasetText(1), JSON.stringify({ input: 'red blue green '.repeat(200), output: ' cat' })].join('\n'),
      'long.jsonl',
    );
    const malformed = Buffer.from(`${datasetText(2)}\n{"input": "x"}\n`);
    stagedMalformedKey = `dataset/${sha256Hex(malformed)}`;
    await h.blobs.put(stagedMalformedKey, malformed, { sha256: sha256Hex(malformed) });
  });
  afterAll(() => h?.close());

  const valid = (): RequestInit => ({
    baseModel: model.name,
    tasks: [
      {
        task: { namespace: task.namespace, name: task.name },
        train: { source: { case: 'sha256', value: train } },
        eval: { source: { case: 'sha256', value: evalSet } },
      },
    ],
    method: { numVirtualTokens: 4 },
    optimizer: { steps: 5, batchSize: 2 },
  });
  type TaskInit = MessageInitShape<typeof TaskDataSchema>;
  const withTask = (change: Partial<Exclude<TaskInit, { $typeName: string }>>): RequestInit => ({
    ...valid(),
    tasks: [
      {
        task: { namespace: task.namespace, name: task.name },
        train: { source: { case: 'sha256', value: train } },
        eval: { source: { case: 'sha256', value: evalSet } },
        ...change,
      },
    ],
  });

  const cases: [string, () => RequestInit, grpc.status, RegExp][] = [
    [
      'unknown base model',
      () => ({ ...valid(), baseModel: 'no-such-model' }),
      grpc.status.NOT_FOUND,
      /base_model: no base model named "no-such-model"/,
    ],
    [
      'unknown task',
      () => withTask({ task: { namespace: 'test', name: 'missing-task' } }),
      grpc.status.NOT_FOUND,
      /task test\/missing-task does not exist/,
    ],
    [
      'dataset never uploaded',
      () => withTask({ train: { source: { case: 'sha256', value: 'a'.repeat(64) } } }),
      grpc.status.NOT_FOUND,
      /tasks\[0\]\.train: dataset a{64} was not uploaded/,
    ],
    [
      'blob key missing',
      () => withTask({ eval: { source: { case: 'blobKey', value: 'dataset/nothing-here' } } }),
      grpc.status.NOT_FOUND,
      /tasks\[0\]\.eval: blob dataset\/nothing-here/,
    ],
    [
      'staged dataset malformed (line number)',
      () => withTask({ train: { source: { case: 'blobKey', value: stagedMalformedKey } } }),
      grpc.status.INVALID_ARGUMENT,
      /:3: "output" must be a string/,
    ],
    [
      'example longer than the context',
      () => withTask({ train: { source: { case: 'sha256', value: longExamples } } }),
      grpc.status.INVALID_ARGUMENT,
      /tasks\[0\]\.train.*:2:.*(context|long)/,
    ],
    [
      'virtual tokens + examples exceed the context',
      () => ({ ...valid(), method: { numVirtualTokens: 252 } }),
      grpc.status.INVALID_ARGUMENT,
      /tasks\[0\]\.train/,
    ],
    [
      'sweep larger than the limit',
      () => ({ ...valid(), sweep: { learningRates: [0.01, 0.02, 0.03, 0.04, 0.05], numVirtualTokens: [2, 4, 6, 8] } }),
      grpc.status.INVALID_ARGUMENT,
      new RegExp(`20 trials is more than this server's limit of ${MAX_TRIALS}`),
    ],
    [
      'steps out of range',
      () => ({ ...valid(), optimizer: { steps: 2_000_000 } }),
      grpc.status.INVALID_ARGUMENT,
      /optimizer\.steps: 2000000 is out of range: use an integer in 1\.\.1000000/,
    ],
    [
      'learning rate too large',
      () => ({ ...valid(), optimizer: { learningRate: 11 } }),
      grpc.status.INVALID_ARGUMENT,
      /optimizer\.learning_rate: 11 is out of range: use 0 < lr <= 10/,
    ],
    [
      'negative learning rate',
      () => ({ ...valid(), optimizer: { learningRate: -0.1 } }),
      grpc.status.INVALID_ARGUMENT,
      /optimizer\.learning_rate/,
    ],
    [
      'sweep learning rate out of range',
      () => ({ ...valid(), sweep: { learningRates: [0.01, 20] } }),
      grpc.status.INVALID_ARGUMENT,
      /sweep\.learning_rates\[1\]: 20 is out of range/,
    ],
    [
      'virtual tokens above the server limit',
      () => ({ ...valid(), method: { numVirtualTokens: 301 } }),
      grpc.status.INVALID_ARGUMENT,
      /method\.num_virtual_tokens: 301 is out of range: use an integer in 1\.\.300 \(this server's limit, PTUNE_MAX_VIRTUAL_TOKENS\)/,
    ],
    [
      'batch size out of range',
      () => ({ ...valid(), optimizer: { batchSize: 5000 } }),
      grpc.status.INVALID_ARGUMENT,
      /optimizer\.batch_size: 5000 is out of range/,
    ],
    ['no tasks', () => ({ ...valid(), tasks: [] }), grpc.status.INVALID_ARGUMENT, /tasks: give at least one task/],
    [
      'task listed twice',
      () => ({ ...valid(), tasks: [...valid().tasks!, ...valid().tasks!] }),
      grpc.status.INVALID_ARGUMENT,
      /tasks\[1\]\.task: .* is listed twice/,
    ],
    [
      'unknown selection metric',
      () => ({ ...valid(), selection: { name: 'vibes' } }),
      grpc.status.INVALID_ARGUMENT,
      /selection\.name: unknown metric "vibes"/,
    ],
    [
      'projected prefix with SAMPLE_VOCAB init',
      () => ({
        ...valid(),
        method: { method: TuningMethod.PREFIX_TUNING, prefixProjection: true, init: { method: InitMethod.SAMPLE_VOCAB } },
      }),
      grpc.status.INVALID_ARGUMENT,
      /method\.init: SAMPLE_VOCAB init does not apply to PREFIX_TUNING with prefix_projection: use RANDOM init/,
    ],
    [
      'projected prefix swept over TEXT init',
      () => ({
        ...valid(),
        method: { method: TuningMethod.PREFIX_TUNING, prefixProjection: true },
        sweep: { inits: [{ method: InitMethod.RANDOM }, { method: InitMethod.TEXT, text: 'hi' }] },
      }),
      grpc.status.INVALID_ARGUMENT,
      /sweep\.inits\[1\]: TEXT init .*use RANDOM init/,
    ],
    [
      'max attempts out of range',
      () => ({ ...valid(), maxAttempts: 11 }),
      grpc.status.INVALID_ARGUMENT,
      /max_attempts: 11 is out of range/,
    ],
    ['bad alias', () => ({ ...valid(), alias: 'Not An Alias' }), grpc.status.INVALID_ARGUMENT, /alias: alias "Not An Alias" must be/],
    // the registry's alias rule, checked up front: a job with this alias would train and then fail to register (#13 item 7)
    ['alias the registry refuses', () => ({ ...valid(), alias: 'v1.2' }), grpc.status.INVALID_ARGUMENT, /alias: alias "v1\.2" must be/],
  ];

  it.each(cases)('%s', async (_name, request, code, message) => {
    const before = {
      jobs: await h.db.prisma.job.count(),
      trials: await h.db.prisma.trial.count(),
      events: await h.db.prisma.jobEvent.count(),
    };
    const error = await rpcError(h.training.trainPrompt(request()));
    expect({ code: grpc.status[error.code], message: error.message }).toMatchObject({
      code: grpc.status[code],
      message: expect.stringMatching(message),
    });
    expect({
      jobs: await h.db.prisma.job.count(),
      trials: await h.db.prisma.trial.count(),
      events: await h.db.prisma.jobEvent.count(),
    }).toEqual(before);
  });

  it('refuses a malformed upload with its line number and stores nothing', async () => {
    const datasets = await h.db.prisma.dataset.count();
    const error = await rpcError(uploadDataset(h.training, `${datasetText(3)}\nnot json\n`, 'bad.jsonl'));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.message).toMatch(/bad\.jsonl:4: not valid JSON/);
    expect(await h.db.prisma.dataset.count()).toBe(datasets);
  });

  it('refuses a dataset over the configured limit (limits.maxDatasetBytes) and stores nothing', async () => {
    const datasets = await h.db.prisma.dataset.count();
    const error = await rpcError(uploadDataset(h.training, 'x'.repeat(MAX_DATASET_BYTES + 1), 'huge.jsonl'));
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error.message).toMatch(new RegExp(`limit of ${MAX_DATASET_BYTES} bytes \\(PTUNE_MAX_DATASET_BYTES\\)`));
    expect(await h.db.prisma.dataset.count()).toBe(datasets);
  });

  it('accepts the valid request the cases were derived from (so each case fails for its own reason)', async () => {
    const { job } = await h.training.trainPrompt(valid());
    expect(job!.trials).toHaveLength(1);
    await h.training.cancelJob({ jobId: job!.id });
  });
});
