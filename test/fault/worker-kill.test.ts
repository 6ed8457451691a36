import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePromptFile, loadExampleSet, loadGguf, train } from '../../services/engine/index.js';
import { InitMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { JobState, TrialState, type JobEvent } from '../../services/gen/ptune/v1/training_pb.js';
import { uploadDataset } from '../orchestration/support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from '../orchestration/support/seed.js';
import { startFaultEnv, type FaultEnv } from './support/fault-env.js';
import { waitFor } from './support/processes.js';

const STEPS = 3000;

describe('kill -9 a worker mid-trial (real processes, real Postgres)', () => {
  let env: FaultEnv;
  beforeAll(async () => {
    env = await startFaultEnv();
  });
  afterAll(() => env?.close());

  it('resumes the trial on another worker from its last checkpoint, bit-identical to an uninterrupted run', async () => {
    const model = await seedTinyModel(env.db.prisma, env.blobs);
    const task = await seedTask(env.db.prisma);
    const trainText = datasetText(24);
    const evalText = datasetText(6, 2);
    const { job } = await env.training.trainPrompt({
      baseModel: model.name,
      tasks: [
        {
          task: { namespace: task.namespace, name: task.name },
          train: { source: { case: 'sha256', value: await uploadDataset(env.training, trainText) } },
          eval: { source: { case: 'sha256', value: await uploadDataset(env.training, evalText) } },
        },
      ],
      method: { numVirtualTokens: 4, init: { method: InitMethod.SAMPLE_VOCAB } },
      optimizer: { steps: STEPS, batchSize: 4, seed: 5n, learningRate: 0.03, maxGradNorm: 1, checkpointEverySteps: 100 },
    });
    const jobId = job!.id;
    const first = env.startWorker('first');

    const events: JobEvent[] = [];
    const watching = (async () => {
      for await (const { event } of env.training.watchJob({ jobId })) if (event) events.push(event);
    })().catch(() => undefined);
    const killedAfter = await waitFor(
      'a checkpoint at step >= 200',
      async () => events.find((e) => e.kind.case === 'checkpoint' && e.kind.value.step >= 200)?.kind.value as { step: number } | undefined,
      120_000,
      env.logs,
    );
    await first.kill9();
    const lastStepBeforeKill = Math.max(
      ...events.filter((e) => e.kind.case === 'step').map((e) => (e.kind.value as { step: number }).step),
    );
    expect(lastStepBeforeKill).toBeLessThan(STEPS);

    env.startWorker('second');
    const final = await waitFor(
      'the job to finish',
      async () => {
        const view = (await env.training.getJob({ jobId })).job!;
        return view.state === JobState.SUCCEEDED || view.state === JobState.FAILED ? view : undefined;
      },
      180_000,
      env.logs,
    );
    await watching;
    expect(final.state, env.logs()).toBe(JobState.SUCCEEDED);
    expect(final.trials[0]).toMatchObject({ state: TrialState.SUCCEEDED, attempt: 2, workerId: 'second' });

    // the second attempt started right after the newest checkpoint the first one reported
    const secondStart = events.findIndex(
      (e) => e.kind.case === 'trialState' && e.kind.value.state === TrialState.RUNNING && e.kind.value.workerId === 'second',
    );
    expect(secondStart).toBeGreaterThan(0);
    const lastCheckpoint = Math.max(
      ...events
        .slice(0, secondStart)
        .filter((e) => e.kind.case === 'checkpoint')
        .map((e) => (e.kind.value as { step: number }).step),
    );
    expect(lastCheckpoint).toBeGreaterThanOrEqual(killedAfter.step);
    const resumedAt = events.slice(secondStart).find((e) => e.kind.case === 'step')!.kind.value as { step: number };
    expect(resumedAt.step).toBe(lastCheckpoint + 1);
    expect(events.some((e) => e.kind.case === 'trialState' && e.kind.value.reason.includes('lease expired'))).toBe(true);

    // an uninterrupted run of the same trial in this process gives the same prompt, bit for bit
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-fault-ref-'));
    await writeFile(path.join(dir, 'train.jsonl'), trainText);
    await writeFile(path.join(dir, 'eval.jsonl'), evalText);
    const gguf = await loadGguf(path.join(env.dir, 'blobs', 'model', model.fingerprint));
    const reference = await train({
      model: gguf,
      train: await loadExampleSet(path.join(dir, 'train.jsonl'), gguf, 4),
      eval: await loadExampleSet(path.join(dir, 'eval.jsonl'), gguf, 4),
      virtualTokens: 4,
      init: { kind: 'sample-vocab' },
      steps: STEPS,
      lr: 0.03,
      batchSize: 4,
      seed: 5,
      gradClip: 1,
      weightDecay: 0,
      warmupSteps: 0,
      schedule: 'constant',
      threads: 1,
    });
    const version = await env.db.prisma.promptVersion.findFirstOrThrow({ where: { jobId } });
    const stored = decodePromptFile(await env.blobs.get(version.blobKey), version.blobKey);
    expect(Buffer.from(stored.embeddings.buffer)).toEqual(Buffer.from(reference.promptEmbeddings.buffer));
  });
});
