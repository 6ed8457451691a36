/**
 * Registers a task's selected trial as a prompt version through the registry's own rules
 * (services/registry createPromptVersion: shape and NaN checks, blob verified by sha256 before one
 * transaction allocates the number, inserts the row with lineage and moves the alias under the task
 * lock). The request id `job:<jobId>:task:<taskId>` makes it happen exactly once: a second attempt —
 * another replica, a retry after a crash — gets the version the first one created.
 */
import { create } from '@bufbuild/protobuf';
import { PromptVersionSpecSchema, type PromptVersion } from '../../gen/ptune/v1/registry_pb.js';
import { TuningMethod } from '../../gen/ptune/v1/common_pb.js';
import type { MethodSettings, TrialPoint } from '../../gen/ptune/v1/training_pb.js';
import { encoderFromProto, formatTaskName } from '../../domain/index.js';
import { createPromptVersion } from '../../registry/index.js';
import type { CoordinatorContext } from '../context.js';
import { appendTrialEventOnce } from '../queue/job-events.js';

export interface SelectedTrial {
  jobId: string;
  taskId: string;
  taskRef: { namespace: string; name: string };
  trialId: string;
  baseModelName: string;
  resultBlobKey: string;
  metrics: Record<string, number>;
  point: TrialPoint;
  alias: string;
  createdBy: string;
}

export const registrationKey = (jobId: string, taskId: string): string => `job:${jobId}:task:${taskId}`;

/** The settings of the trial's own method (a sweep point also carries the other methods' fields). */
function methodHyperparameters(m: MethodSettings): Record<string, string> {
  switch (m.method) {
    case TuningMethod.P_TUNING:
      return { encoder_type: encoderFromProto(m.encoderType), encoder_hidden_size: String(m.encoderHiddenSize) };
    case TuningMethod.PREFIX_TUNING:
      return m.prefixProjection
        ? { prefix_projection: 'true', encoder_hidden_size: String(m.encoderHiddenSize) }
        : { prefix_projection: 'false' };
    default:
      return {};
  }
}

export async function registerBestTrial(ctx: CoordinatorContext, selected: SelectedTrial): Promise<PromptVersion> {
  const method = selected.point.method!;
  const optimizer = selected.point.optimizer!;
  const spec = create(PromptVersionSpecSchema, {
    task: selected.taskRef,
    baseModel: selected.baseModelName,
    method: method.method,
    init: method.init,
    metrics: Object.fromEntries(Object.entries(selected.metrics).filter(([, v]) => Number.isFinite(v))),
    hyperparameters: {
      num_virtual_tokens: String(method.numVirtualTokens),
      learning_rate: String(optimizer.learningRate),
      steps: String(optimizer.steps),
      batch_size: String(optimizer.batchSize),
      warmup_steps: String(optimizer.warmupSteps),
      weight_decay: String(optimizer.weightDecay),
      max_grad_norm: String(optimizer.maxGradNorm),
      seed: optimizer.seed.toString(),
      ...methodHyperparameters(method),
    },
    lineage: { jobId: selected.jobId, trialId: selected.trialId },
    createdBy: selected.createdBy,
    alias: selected.alias,
    requestId: registrationKey(selected.jobId, selected.taskId),
  });
  const bytes = await ctx.blobs.get(selected.resultBlobKey);
  const { version } = await createPromptVersion(ctx, spec, { kind: 'safetensors', bytes, field: `trial ${selected.trialId} result` });
  ctx.promptChanges?.taskChanged(formatTaskName(selected.taskRef));
  // Also when the version existed already: a crash may have come between its commit and this event.
  await appendTrialEventOnce(ctx.queue, selected.jobId, selected.trialId, {
    trialId: selected.trialId,
    kind: { case: 'registered', value: { version: { task: selected.taskRef, version: version.version }, alias: selected.alias } },
  });
  return version;
}
