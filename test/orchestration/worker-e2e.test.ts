import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePromptFile, loadExampleSet, loadGguf, train } from '../../services/engine/index.js';
import { InitMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { JobState } from '../../services/gen/ptune/v1/training_pb.js';
import type { BaseModel, Task } from '../../services/storage/index.js';
import { runWorker } from '../../services/worker/index.js';
import { startCoordinatorHarness, type CoordinatorHarness } from './support/coordinator-harness.js';
import { uploadDataset } from './support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from './support/seed.js';

describe('worker trains leased trials with the engine (PGlite, in-process)', () => {
  let h: CoordinatorHarness;
  let model: BaseModel;
  let task: Task;
  let dir: string;

  beforeAll(async () => {
    h = await startCoordinatorHarness({ config: { heartbeatIntervalMs: 300, maintenanceIntervalMs: 200, eventPollMs: 20 } });
    model = await seedTinyModel(h.db.prisma, h.blobs);
    task = await seedTask(h.db.prisma);
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-worker-e2e-'));
  });
  afterAll(() => h?.close());

  it('runs a two-point sweep, registers the better trial, and its prompt equals a direct engine run', async () => {
    const trainText = datasetText(10);
    const evalText = datasetText(4, 5);
    const train1 = await uploadDataset(h.training, trainText);
    const eval1 = await uploadDataset(h.training, evalText);
    const { job } = await h.training.trainPrompt({
      baseModel: model.name,
      tasks: [
        {
          task: { namespace: task.namespace, name: task.name },
          train: { source: { case: 'sha256', value: train1 } },
          eval: { source: { case: 'sha256', value: eval1 } },
        },
      ],
      method: { numVirtualTokens: 4, init: { method: InitMethod.SAMPLE_VOCAB } },
      optimizer: { steps: 6, batchSize: 4, seed: 3n, checkpointEverySteps: 2, maxGradNorm: 1 },
      sweep: { learningRates: [0.01, 0.05] },
      alias: 'production',
    });
    const stop = new AbortController();
    const worker = runWorker({
      coordinator: h.address,
      name: 'e2e',
      cacheDir: path.join(dir, 'cache'),
      signal: stop.signal,
      threads: 1,
      log: () => undefined,
    });

    let finished;
    for await (const { event } of h.training.watchJob({ jobId: job!.id })) {
      if (event?.kind.case === 'jobState') finished = event.kind.value.state;
    }
    stop.abort();
    await worker;
    expect(finished).toBe(JobState.SUCCEEDED);

    const view = (await h.training.getJob({ jobId: job!.id })).job!;
    expect(view.trials.every((t) => t.step === 6 && t.metrics.eval_loss > 0)).toBe(true);
    const losses = view.trials.map((t) => t.metrics.eval_loss);
    const best = view.trials[losses[0] <= losses[1] ? 0 : 1];
    expect(view.results).toHaveLength(1);
    expect(view.results[0].trialId).toBe(best.id);
    const version = await h.db.prisma.promptVersion.findFirstOrThrow({ where: { jobId: job!.id } });
    const stored = decodePromptFile(await h.blobs.get(version.blobKey), version.blobKey);

    // the same trial trained directly by the engine gives the same bytes
    await writeFile(path.join(dir, 'train.jsonl'), trainText);
    await writeFile(path.join(dir, 'eval.jsonl'), evalText);
    const gguf = await loadGguf(path.join(dir, 'cache', 'sha256', model.fingerprint));
    const direct = await train({
      model: gguf,
      train: await loadExampleSet(path.join(dir, 'train.jsonl'), gguf, 4),
      eval: await loadExampleSet(path.join(dir, 'eval.jsonl'), gguf, 4),
      virtualTokens: 4,
      init: { kind: 'sample-vocab' },
      steps: 6,
      lr: best.point!.optimizer!.learningRate,
      batchSize: 4,
      seed: 3,
      gradClip: 1,
      weightDecay: 0,
      warmupSteps: 0,
      schedule: 'constant',
      threads: 1,
    });
    expect(Buffer.from(stored.embeddings.buffer)).toEqual(Buffer.from(direct.promptEmbeddings.buffer));
    const alias = await h.db.prisma.alias.findUniqueOrThrow({ where: { taskId_name: { taskId: task.id, name: 'production' } } });
    expect(alias.versionId).toBe(version.id);
  });
});
