/**
 * TrainPrompt: validate everything (settings, base model, tasks, datasets, example lengths), then
 * write the job, all its trials and its first event in one transaction. A refused request writes
 * nothing. The same idempotency key returns the job created the first time.
 */
import { toJson } from '@bufbuild/protobuf';
import { JobState, TrainPromptRequestSchema, type DatasetRef, type TrainPromptRequest } from '../../gen/ptune/v1/training_pb.js';
import { expandSweep, invalidArgument, isUniqueViolation, notFoundAt } from '../../domain/index.js';
import type { Job as JobRow, Prisma } from '../../storage/index.js';
import type { CoordinatorContext } from '../context.js';
import { checkExampleLengths } from '../datasets/check-example-lengths.js';
import { modelText } from '../datasets/model-text.js';
import { storeDataset } from '../datasets/store-dataset.js';
import { appendJobEvents } from '../queue/job-events.js';
import { prismaRunner } from '../queue/query-runner.js';
import { normalizeRequest } from './normalize-request.js';
import { encodeTrialPlan } from './trial-plan.js';

export interface SubmittedJob {
  jobId: string;
  created: boolean;
}

export async function submitJob(ctx: CoordinatorContext, request: TrainPromptRequest): Promise<SubmittedJob> {
  const spec = normalizeRequest(request, ctx.config.limits);
  const namespace = spec.tasks[0].task!.namespace;
  if (spec.idempotencyKey !== '') {
    const existing = await findByKey(ctx, namespace, spec.idempotencyKey);
    if (existing) return { jobId: existing.id, created: false };
  }

  const model = await ctx.prisma.baseModel.findUnique({ where: { name: spec.baseModel }, include: { files: true } });
  if (!model) throw notFoundAt('base_model', `no base model named "${spec.baseModel}" is registered`);
  if (model.weightsFormat !== 'gguf' && model.weightsFormat !== 'hf_folder') {
    throw invalidArgument(
      'base_model',
      `"${spec.baseModel}" is ${model.weightsFormat}; the engine trains GGUF files and Hugging Face folders`,
    );
  }
  const tasks = await Promise.all(
    spec.tasks.map(async (t, i) => {
      const ref = t.task!;
      const task = await ctx.prisma.task.findUnique({ where: { namespace_name: { namespace: ref.namespace, name: ref.name } } });
      if (!task) throw notFoundAt(`tasks[${i}].task`, `task ${ref.namespace}/${ref.name} does not exist; create it first`);
      return task;
    }),
  );
  const points = expandSweep(spec.method!, spec.optimizer!, spec.sweep);
  const maxVirtualTokens = Math.max(...points.map((p) => p.method!.numVirtualTokens));
  const { tokenizer, chatTemplate } = await modelText(ctx.blobs, model);
  const dataKeys: { train: string; eval: string }[] = [];
  for (const [i, t] of spec.tasks.entries()) {
    const keys = { train: '', eval: '' };
    for (const part of ['train', 'eval'] as const) {
      const field = `tasks[${i}].${part}`;
      keys[part] = await resolveDataset(ctx, t[part]!, field, spec.createdBy);
      await checkExampleLengths(ctx.blobs, {
        field,
        blobKey: keys[part],
        tokenizer,
        chatTemplate,
        contextLength: model.contextLength,
        virtualTokens: maxVirtualTokens,
      });
    }
    dataKeys.push(keys);
  }

  const trials = tasks.flatMap((task, t) =>
    points.map((point) => ({ taskId: task.id, plan: encodeTrialPlan({ point, trainKey: dataKeys[t].train, evalKey: dataKeys[t].eval }) })),
  );
  try {
    const jobId = await ctx.prisma.$transaction(async (tx) => {
      const job = await tx.job.create({
        data: {
          namespace,
          idempotencyKey: spec.idempotencyKey === '' ? null : spec.idempotencyKey,
          baseModelId: model.id,
          spec: toJson(TrainPromptRequestSchema, spec) as Prisma.InputJsonValue,
          createdBy: spec.createdBy || 'anonymous',
        },
      });
      await tx.trial.createMany({
        data: trials.map((trial, ordinal) => ({
          jobId: job.id,
          taskId: trial.taskId,
          ordinal,
          sweepPoint: trial.plan as Prisma.InputJsonValue,
          maxAttempts: spec.maxAttempts,
        })),
      });
      await appendJobEvents(prismaRunner(tx), job.id, [{ trialId: null, kind: { case: 'jobState', value: { state: JobState.QUEUED } } }]);
      return job.id;
    });
    ctx.wakeup.wake(trials.length);
    // the QUEUED event has its sequence number before TrainPrompt answers
    await ctx.events.flush();
    return { jobId, created: true };
  } catch (err) {
    // a concurrent submit with the same key won the unique index
    const winner = isUniqueViolation(err) ? await findByKey(ctx, namespace, spec.idempotencyKey) : null;
    if (winner) return { jobId: winner.id, created: false };
    throw err;
  }
}

function findByKey(ctx: CoordinatorContext, namespace: string, key: string): Promise<JobRow | null> {
  return ctx.prisma.job.findUnique({ where: { namespace_idempotencyKey: { namespace, idempotencyKey: key } } });
}

/** The blob key of a dataset reference; a raw blob key is validated and stored as a dataset first. */
async function resolveDataset(ctx: CoordinatorContext, ref: DatasetRef, field: string, createdBy: string): Promise<string> {
  if (ref.source.case === 'sha256') {
    const row = await ctx.prisma.dataset.findUnique({ where: { sha256: ref.source.value } });
    if (!row) throw notFoundAt(field, `dataset ${ref.source.value} was not uploaded (use UploadDataset)`);
    return row.blobKey;
  }
  const key = ref.source.value ?? '';
  let bytes: Uint8Array;
  try {
    bytes = await ctx.blobs.get(key);
  } catch (err) {
    throw notFoundAt(field, `blob ${key} cannot be read: ${(err as Error).message}`);
  }
  try {
    return (await storeDataset(ctx, bytes, `${field} (${key})`, createdBy || 'anonymous')).blobKey;
  } catch (err) {
    throw invalidArgument(field, (err as Error).message);
  }
}
