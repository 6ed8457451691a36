/**
 * Registers a task's selected trial as a prompt version, exactly once: the result blob was written
 * and verified by PutBlob; this reads it back (verified again), then one transaction allocates the
 * version number, inserts the version with lineage (job, trial), metrics and hyperparameters, moves
 * the alias with compare-and-swap when the job asks for one, and logs the event. The idempotency key
 * `job:<jobId>:task:<taskId>` (unique per task) makes a second attempt — another replica, a retry
 * after a crash — return the version the first one created.
 */
import { InitMethod } from '../../gen/ptune/v1/common_pb.js';
import type { TrialPoint } from '../../gen/ptune/v1/training_pb.js';
import { readSafetensors } from '../../engine/formats/safetensors.js';
import { allocateVersion, type Prisma, type PromptVersion } from '../../storage/index.js';
import type { CoordinatorContext } from '../context.js';
import { appendJobEvents } from '../queue/event-ctes.js';

export interface SelectedTrial {
  jobId: string;
  taskId: string;
  taskRef: { namespace: string; name: string };
  trialId: string;
  baseModelId: string;
  tokenDim: number;
  resultBlobKey: string;
  resultSha256: string;
  metrics: Record<string, number>;
  point: TrialPoint;
  alias: string;
  createdBy: string;
}

export const registrationKey = (jobId: string, taskId: string): string => `job:${jobId}:task:${taskId}`;

export async function registerBestTrial(ctx: CoordinatorContext, selected: SelectedTrial): Promise<PromptVersion> {
  const requestId = registrationKey(selected.jobId, selected.taskId);
  const existing = await findRegistered(ctx.prisma, selected.taskId, requestId);
  if (existing) return existing;

  const bytes = await ctx.blobs.get(selected.resultBlobKey);
  const file = readSafetensors(bytes, { source: selected.resultBlobKey, rejectNonFinite: true });
  const tensor = file.tensors.prompt_embeddings;
  if (!tensor || tensor.shape.length !== 2) throw new Error(`${selected.resultBlobKey}: no [P, dim] "prompt_embeddings" tensor`);
  if (tensor.shape[1] !== selected.tokenDim) {
    throw new Error(`${selected.resultBlobKey}: token dim ${tensor.shape[1]} does not match the base model's ${selected.tokenDim}`);
  }
  const method = selected.point.method!;
  const optimizer = selected.point.optimizer!;
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      const number = await allocateVersion(tx, selected.taskId);
      const version = await tx.promptVersion.create({
        data: {
          taskId: selected.taskId,
          version: number,
          baseModelId: selected.baseModelId,
          method: 'PROMPT_TUNING',
          numVirtualTokens: tensor.shape[0],
          tokenDim: tensor.shape[1],
          initMethod: method.init?.method === InitMethod.TEXT ? 'TEXT' : method.init?.method === InitMethod.RANDOM ? 'RANDOM' : 'SAMPLE_VOCAB',
          initText: method.init?.method === InitMethod.TEXT ? method.init.text : null,
          dtype: tensor.dtype,
          shape: tensor.shape,
          blobKey: selected.resultBlobKey,
          sha256: selected.resultSha256,
          sizeBytes: bytes.length,
          metrics: selected.metrics,
          hyperparameters: {
            num_virtual_tokens: method.numVirtualTokens,
            learning_rate: optimizer.learningRate,
            steps: optimizer.steps,
            batch_size: optimizer.batchSize,
            warmup_steps: optimizer.warmupSteps,
            weight_decay: optimizer.weightDecay,
            max_grad_norm: optimizer.maxGradNorm,
            seed: optimizer.seed.toString(),
          },
          jobId: selected.jobId,
          trialId: selected.trialId,
          requestId,
          createdBy: selected.createdBy,
        },
      });
      const moved = selected.alias !== '' && (await moveAlias(tx, selected.taskId, selected.alias, version, selected.createdBy));
      await appendJobEvents(tx, selected.jobId, [
        {
          trialId: selected.trialId,
          kind: { case: 'registered', value: { version: { task: selected.taskRef, version: number }, alias: moved ? selected.alias : '' } },
        },
      ]);
      return version;
    });
  } catch (err) {
    const winner = isUniqueViolation(err) ? await findRegistered(ctx.prisma, selected.taskId, requestId) : null;
    if (winner) return winner;
    throw err;
  }
}

function findRegistered(prisma: CoordinatorContext['prisma'], taskId: string, requestId: string): Promise<PromptVersion | null> {
  return prisma.promptVersion.findUnique({ where: { taskId_requestId: { taskId, requestId } } });
}

/**
 * Points `alias` at `version` if it still points where it did when read (compare-and-swap inside
 * this transaction); records the change in alias history. False when another writer moved it first.
 */
async function moveAlias(tx: Prisma.TransactionClient, taskId: string, alias: string, version: PromptVersion, actor: string): Promise<boolean> {
  const current = await tx.$queryRaw<{ versionId: string; number: number }[]>`
    SELECT a.version_id AS "versionId", v.version AS number FROM alias a JOIN prompt_version v ON v.id = a.version_id
    WHERE a.task_id = ${taskId}::uuid AND a.name = ${alias}`;
  const from = current[0];
  const changed = from
    ? await tx.$executeRaw`
        UPDATE alias SET version_id = ${version.id}::uuid, updated_by = ${actor}, updated_at = now()
        WHERE task_id = ${taskId}::uuid AND name = ${alias} AND version_id = ${from.versionId}::uuid`
    : await tx.$executeRaw`
        INSERT INTO alias (task_id, name, version_id, updated_by) VALUES (${taskId}::uuid, ${alias}, ${version.id}::uuid, ${actor})
        ON CONFLICT (task_id, name) DO NOTHING`;
  if (changed === 0) return false;
  await tx.aliasEvent.create({ data: { taskId, aliasName: alias, fromVersion: from?.number ?? null, toVersion: version.version, actor } });
  return true;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}
