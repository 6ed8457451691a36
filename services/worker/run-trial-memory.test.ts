/**
 * A worker refuses a trial whose estimated memory is above its --max-memory before reading the
 * model: the trial fails (not retried: the same worker would fail the same way) with the
 * estimate's message, and the worker goes on leasing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InitMethod } from '../gen/ptune/v1/common_pb.js';
import { JobState, TrialState } from '../gen/ptune/v1/training_pb.js';
import type { BaseModel, Task } from '../storage/index.js';
import { startCoordinatorHarness, type CoordinatorHarness } from '../../test/orchestration/support/coordinator-harness.js';
import { uploadDataset } from '../../test/orchestration/support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from '../../test/orchestration/support/seed.js';
import { runWorker } from './run-worker.js';

describe('worker --max-memory', () => {
  let h: CoordinatorHarness;
  let model: BaseModel;
  let task: Task;
  let dir: string;

  beforeAll(async () => {
    h = await startCoordinatorHarness({ config: { heartbeatIntervalMs: 300, maintenanceIntervalMs: 200, eventPollMs: 20 } });
    model = await seedTinyModel(h.db.prisma, h.blobs);
    task = await seedTask(h.db.prisma);
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-worker-memory-'));
  });
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails a trial estimated above the limit with the estimate, without retrying it', async () => {
    const train1 = await uploadDataset(h.training, datasetText(6));
    const { job } = await h.training.trainPrompt({
      baseModel: model.name,
      tasks: [
        {
          task: { namespace: task.namespace, name: task.name },
          train: { source: { case: 'sha256', value: train1 } },
          eval: { source: { case: 'sha256', value: train1 } },
        },
      ],
      method: { numVirtualTokens: 4, init: { method: InitMethod.SAMPLE_VOCAB } },
      optimizer: { steps: 2, batchSize: 4, seed: 1n, learningRate: 0.01 },
    });
    const stop = new AbortController();
    const logs: string[] = [];
    const worker = runWorker({
      coordinator: h.address,
      name: 'small',
      cacheDir: path.join(dir, 'cache'),
      signal: stop.signal,
      threads: 1,
      maxMemory: 64 * 1024 ** 2,
      weightsDtype: 'q8',
      log: (m) => logs.push(m),
    });
    let finished;
    for await (const { event } of h.training.watchJob({ jobId: job!.id })) {
      if (event?.kind.case === 'jobState') finished = event.kind.value.state;
    }
    stop.abort();
    await worker;
    expect(finished).toBe(JobState.FAILED);
    const [trial] = (await h.training.getJob({ jobId: job!.id })).job!.trials;
    expect(trial.state).toBe(TrialState.FAILED);
    expect(trial.attempt).toBe(1);
    expect(trial.error).toMatch(
      new RegExp(
        `^base model ${model.name}: this run needs an estimated \\d+ MiB — weights \\d+ KiB held as q8 \\(\\+\\d+ KiB widened to float32 while in use\\).*for 4 × \\d+ tokens.*more than the 64 MiB allowed by --max-memory`,
      ),
    );
    expect(logs.some((l) => l.includes('failed: base model'))).toBe(true);
  }, 60_000);
});
