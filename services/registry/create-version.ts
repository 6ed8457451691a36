import { InitMethod, TuningMethod, type PromptInit } from '../gen/ptune/v1/common_pb.js';
import type { PromptVersion, PromptVersionSpec } from '../gen/ptune/v1/registry_pb.js';
import { allocateVersion, contentKey, type BaseModel, type BlobStore, type PrismaClient, type Task } from '../storage/index.js';
import { lockTask, moveAlias } from './aliases.js';
import {
  alreadyExists,
  checkAliasName,
  checkModelName,
  checkTaskRef,
  formatTaskName,
  invalidArgument,
  isUniqueViolation,
  methodName,
  methodToDb,
  notFound,
  type TaskName,
} from '../domain/index.js';
import { initToColumns } from './init-columns.js';
import { readPeftConfig } from './peft-config.js';
import { readPromptFile, type PromptFile } from './prompt-tensor.js';
import { findTask, resolveSelection, loadVersionById } from './resolve.js';
import { checkPromptShape } from './shape-rules.js';
import { toPromptVersion, type VersionRow } from './version-rows.js';

/** The tensor of a new version: a safetensors file, or a PEFT adapter's two files. */
export type PromptPayload =
  | { kind: 'safetensors'; bytes: Uint8Array; field: string }
  | { kind: 'peft'; configJson: Uint8Array; bytes: Uint8Array; configField: string; field: string };

export interface RegistryStores {
  prisma: PrismaClient;
  blobs: BlobStore;
}

const MAX_REQUEST_ID = 200;
const MAX_METRICS = 256;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Creates the next version of a task. Everything that can be refused is checked before any byte is
 * written, so a refused request changes nothing. Then the blob is written and verified (put checks its
 * sha256), and one transaction allocates the number, inserts the row and optionally moves an alias.
 * If that transaction fails, the blob stays: it is content addressed, so another version may already
 * share it, and deleting it here could race such a writer. An unreferenced blob is removed by the
 * orphan sweeper once it is older than the grace period (put refreshes its mtime, so the grace
 * period always covers the insert that follows it).
 */
export async function createPromptVersion(
  stores: RegistryStores,
  spec: PromptVersionSpec | undefined,
  payload: PromptPayload,
): Promise<{ version: PromptVersion; created: boolean }> {
  if (spec === undefined) throw invalidArgument('spec', 'is required (task, base_model, …)');
  const checked = checkSpec(spec);
  const file = readPromptFile(payload.bytes, payload.field);
  const method = methodOf(checked.method, payload, file);
  const init = initOf(spec.init, payload);

  const { prisma, blobs } = stores;
  const task = await findTask(prisma, checked.task);
  const model = await prisma.baseModel.findUnique({ where: { name: checked.baseModel } });
  if (model === null) throw notFound(`spec.base_model: no base model named "${checked.baseModel}"; register it first (ptune models add)`);
  checkPromptShape(file.shape, method, model, payload.field);
  const parentId = await parentOf(prisma, init);
  await checkLineage(prisma, spec);
  if (checked.requestId !== undefined) {
    const earlier = await prisma.promptVersion.findUnique({
      where: { taskId_requestId: { taskId: task.id, requestId: checked.requestId } },
      select: { id: true },
    });
    if (earlier !== null) return { version: await replayed(prisma, earlier.id, file, model, checked.requestId), created: false };
  }

  await blobs.put(contentKey('prompt', file.sha256), file.bytes, { sha256: file.sha256 });
  try {
    const id = await insertVersion(prisma, { task, model, file, method, spec, checked, init, parentId });
    return { version: toPromptVersion(await loadVersionById(prisma, id)), created: true };
  } catch (err) {
    if (checked.requestId === undefined || !isUniqueViolation(err)) throw err;
    // Two creates with one request_id raced; the loser returns the winner's version.
    const winner = await prisma.promptVersion.findUniqueOrThrow({
      where: { taskId_requestId: { taskId: task.id, requestId: checked.requestId } },
      select: { id: true },
    });
    return { version: await replayed(prisma, winner.id, file, model, checked.requestId), created: false };
  }
}

interface CheckedSpec {
  task: TaskName;
  baseModel: string;
  method: TuningMethod;
  alias?: string;
  requestId?: string;
}

function checkSpec(spec: PromptVersionSpec): CheckedSpec {
  const task = checkTaskRef(spec.task, 'spec.task');
  if (spec.baseModel === '') throw invalidArgument('spec.base_model', 'is required: the registered base model the prompt was trained for');
  const baseModel = checkModelName(spec.baseModel, 'spec.base_model');
  if (spec.method !== TuningMethod.UNSPECIFIED && methodToDb(spec.method) === undefined)
    throw invalidArgument('spec.method', `unknown tuning method ${spec.method}`);
  const entries = Object.entries(spec.metrics);
  if (entries.length > MAX_METRICS) throw invalidArgument('spec.metrics', `has ${entries.length} entries; the limit is ${MAX_METRICS}`);
  for (const [name, value] of entries) {
    if (!Number.isFinite(value)) throw invalidArgument(`spec.metrics["${name}"]`, `is ${value}; metrics must be finite numbers`);
  }
  if (spec.requestId.length > MAX_REQUEST_ID)
    throw invalidArgument('spec.request_id', `is ${spec.requestId.length} characters; the limit is ${MAX_REQUEST_ID}`);
  const checked: CheckedSpec = { task, baseModel, method: spec.method };
  if (spec.alias !== '') checked.alias = checkAliasName(spec.alias, 'spec.alias');
  if (spec.requestId !== '') checked.requestId = spec.requestId;
  return checked;
}

/** The method: the spec's, the PEFT config's, or prompt tuning; the two sources must agree. */
function methodOf(requested: TuningMethod, payload: PromptPayload, file: PromptFile): TuningMethod {
  if (payload.kind === 'safetensors') return requested === TuningMethod.UNSPECIFIED ? TuningMethod.PROMPT_TUNING : requested;
  const config = readPeftConfig(payload.configJson, payload.configField);
  if (requested !== TuningMethod.UNSPECIFIED && requested !== config.method) {
    throw invalidArgument('spec.method', `is ${methodName(requested)} but the adapter's peft_type is ${methodName(config.method)}`);
  }
  if (config.numVirtualTokens !== file.shape[0]) {
    throw invalidArgument(
      `${payload.configField}.num_virtual_tokens`,
      `is ${config.numVirtualTokens} but "prompt_embeddings" has ${file.shape[0]} rows`,
    );
  }
  return config.method;
}

function initOf(init: PromptInit | undefined, payload: PromptPayload): PromptInit | undefined {
  if (init !== undefined && init.method !== InitMethod.UNSPECIFIED) {
    if (init.method === InitMethod.TEXT && init.text === '')
      throw invalidArgument('spec.init.text', 'is required when init.method is TEXT');
    if (init.method !== InitMethod.TEXT && init.text !== '')
      throw invalidArgument('spec.init.text', 'is only allowed when init.method is TEXT');
    if (init.method === InitMethod.FROM_PROMPT && init.parent === undefined)
      throw invalidArgument('spec.init.parent', 'is required when init.method is FROM_PROMPT');
    if (init.method !== InitMethod.FROM_PROMPT && init.parent !== undefined)
      throw invalidArgument('spec.init.parent', 'is only allowed when init.method is FROM_PROMPT');
    return init;
  }
  if (payload.kind === 'peft') {
    const config = readPeftConfig(payload.configJson, payload.configField);
    if (config.init !== undefined && (config.init.method !== InitMethod.TEXT || config.init.text !== '')) {
      return { method: config.init.method, text: config.init.text } as PromptInit;
    }
  }
  return undefined;
}

async function parentOf(prisma: PrismaClient, init: PromptInit | undefined): Promise<string | null> {
  if (init?.method !== InitMethod.FROM_PROMPT || init.parent === undefined) return null;
  const task = checkTaskRef(init.parent.task, 'spec.init.parent.task');
  if (init.parent.version === 0) throw invalidArgument('spec.init.parent.version', 'versions start at 1');
  return (await resolveSelection(prisma, { task, kind: 'version', version: init.parent.version })).id;
}

async function checkLineage(prisma: PrismaClient, spec: PromptVersionSpec): Promise<void> {
  const lineage = spec.lineage;
  if (lineage === undefined) return;
  if (!UUID.test(lineage.jobId)) throw invalidArgument('spec.lineage.job_id', `${JSON.stringify(lineage.jobId)} is not a job id (UUID)`);
  if (lineage.trialId !== '' && !UUID.test(lineage.trialId))
    throw invalidArgument('spec.lineage.trial_id', `${JSON.stringify(lineage.trialId)} is not a trial id (UUID)`);
  if ((await prisma.job.count({ where: { id: lineage.jobId } })) === 0) throw notFound(`spec.lineage.job_id: no job ${lineage.jobId}`);
  if (lineage.trialId !== '' && (await prisma.trial.count({ where: { id: lineage.trialId, jobId: lineage.jobId } })) === 0) {
    throw notFound(`spec.lineage.trial_id: job ${lineage.jobId} has no trial ${lineage.trialId}`);
  }
}

/** An idempotent retry: the earlier version if the payload and model are the same, else ALREADY_EXISTS. */
async function replayed(prisma: PrismaClient, id: string, file: PromptFile, model: BaseModel, requestId: string): Promise<PromptVersion> {
  const row: VersionRow = await loadVersionById(prisma, id);
  const task = formatTaskName({ namespace: row.namespace, name: row.task_name });
  if (row.sha256.trim() !== file.sha256 || row.model_name !== model.name) {
    throw alreadyExists(
      `spec.request_id "${requestId}" already created version ${row.version} of ${task} with a different payload or base model; use a new request_id`,
    );
  }
  if (row.deleted_at !== null)
    throw alreadyExists(
      `spec.request_id "${requestId}" created version ${row.version} of ${task}, which has since been deleted; use a new request_id`,
    );
  return toPromptVersion(row);
}

interface NewVersion {
  task: Task;
  model: BaseModel;
  file: PromptFile;
  method: TuningMethod;
  spec: PromptVersionSpec;
  checked: CheckedSpec;
  init: PromptInit | undefined;
  parentId: string | null;
}

async function insertVersion(prisma: PrismaClient, v: NewVersion): Promise<string> {
  const actor = v.spec.createdBy || 'anonymous';
  return prisma.$transaction(async (tx) => {
    const number = await allocateVersion(tx, v.task.id);
    const row = await tx.promptVersion.create({
      data: {
        taskId: v.task.id,
        version: number,
        baseModelId: v.model.id,
        method: methodToDb(v.method) ?? 'PROMPT_TUNING',
        numVirtualTokens: v.file.shape[0],
        tokenDim: v.model.hiddenSize,
        ...initToColumns(v.init),
        parentVersionId: v.parentId,
        dtype: v.file.dtype,
        shape: v.file.shape,
        blobKey: contentKey('prompt', v.file.sha256),
        sha256: v.file.sha256,
        sizeBytes: v.file.bytes.byteLength,
        metrics: v.spec.metrics,
        hyperparameters: v.spec.hyperparameters,
        jobId: v.spec.lineage?.jobId ?? null,
        trialId: v.spec.lineage?.trialId || null,
        requestId: v.checked.requestId ?? null,
        createdBy: actor,
      },
      select: { id: true },
    });
    if (v.checked.alias !== undefined) {
      const taskId = await lockTask(tx, v.checked.task);
      await moveAlias(tx, taskId, v.checked.task, { alias: v.checked.alias, to: { id: row.id, version: number }, actor });
    }
    return row.id;
  });
}
