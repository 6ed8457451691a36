/**
 * THE access table: for every RPC of every ptune service, the role it needs, where its namespace
 * comes from, the limits it must respect and what a successful call writes to the audit log.
 * Roles: reader (get/list) < trainer (+ push prompts, create tasks, upload data, train, cancel,
 * move aliases: every move is a compare-and-swap recorded in the alias history and the audit log)
 * < admin (+ delete versions, register base models, manage tokens, read the audit log); worker:
 * the worker protocol only. Base models are global: an admin of any namespace may register one,
 * every reader may read them.
 */
import type { DescService } from '@bufbuild/protobuf';
import type { Limits } from '../config/index.js';
import { AccessService } from '../gen/ptune/v1/access_pb.js';
import { InferenceService } from '../gen/ptune/v1/inference_pb.js';
import { PromptRegistryService } from '../gen/ptune/v1/registry_pb.js';
import { TrainingService, type TrainPromptRequest } from '../gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import type { TaskRef } from '../gen/ptune/v1/common_pb.js';
import { resourceExhausted } from '../domain/index.js';
import { methodPath } from '../grpc/index.js';
import { ALL_NAMESPACES } from './roles.js';
import type { AnyRule, ServiceRules } from './rule.js';

const ns = (task: TaskRef | undefined): string => task?.namespace ?? '';
const taskName = (task: TaskRef | undefined): string => `${task?.namespace ?? ''}/${task?.name ?? ''}`;
const worker = { role: 'worker', scope: { kind: 'worker' } } as const;

const registry: ServiceRules<typeof PromptRegistryService> = {
  registerBaseModel: {
    role: 'admin',
    scope: { kind: 'global' },
    stampActor: (r, actor) => {
      if (r.part.case === 'header') r.part.value.createdBy = actor;
    },
    audit: {
      action: 'base_model.register',
      target: (_, reply) => reply.baseModel?.name ?? '',
      details: (_, reply) => ({ fingerprint: reply.baseModel?.fingerprintSha256, created: reply.created }),
    },
  },
  getBaseModel: { role: 'reader', scope: { kind: 'global' } },
  listBaseModels: { role: 'reader', scope: { kind: 'global' } },
  createTask: {
    role: 'trainer',
    scope: { kind: 'namespaces', of: (r) => [ns(r.task)] },
    stampActor: (r, actor) => {
      r.createdBy = actor;
    },
    audit: { action: 'task.create', target: (r) => taskName(r.task), details: (_, reply) => ({ created: reply.created }) },
  },
  getTask: { role: 'reader', scope: { kind: 'namespaces', of: (r) => [ns(r.task)] } },
  // an empty namespace lists every namespace (registry.proto), which only a "*" token covers
  listTasks: { role: 'reader', scope: { kind: 'namespaces', of: (r) => [r.namespace === '' ? ALL_NAMESPACES : r.namespace] } },
  createPromptVersion: {
    role: 'trainer',
    scope: { kind: 'namespaces', of: (r) => [ns(r.spec?.task)] },
    stampActor: (r, actor) => {
      if (r.spec) r.spec.createdBy = actor;
    },
    audit: {
      action: 'prompt_version.create',
      target: (r, reply) => `${taskName(r.spec?.task)}@${reply.version?.version ?? '?'}`,
      details: (r, reply) => ({ sha256: reply.version?.blobSha256, created: reply.created, alias: r.spec?.alias || undefined }),
    },
  },
  createPromptVersionStream: {
    role: 'trainer',
    scope: { kind: 'namespaces', of: (r) => [r.part.case === 'header' ? ns(r.part.value.spec?.task) : ''] },
    stampActor: (r, actor) => {
      if (r.part.case === 'header' && r.part.value.spec) r.part.value.spec.createdBy = actor;
    },
    audit: {
      action: 'prompt_version.create',
      target: (r, reply) =>
        `${taskName(reply.version?.task ?? (r.part.case === 'header' ? r.part.value.spec?.task : undefined))}@${reply.version?.version ?? '?'}`,
      details: (r, reply) => ({
        sha256: reply.version?.blobSha256,
        created: reply.created,
        alias: (r.part.case === 'header' && r.part.value.spec?.alias) || undefined,
      }),
    },
  },
  getPrompt: { role: 'reader', scope: { kind: 'namespaces', of: (r) => [ns(r.prompt?.task)] } },
  getPromptStream: { role: 'reader', scope: { kind: 'namespaces', of: (r) => [ns(r.prompt?.task)] } },
  listPromptVersions: { role: 'reader', scope: { kind: 'namespaces', of: (r) => [ns(r.task)] } },
  deletePromptVersion: {
    role: 'admin',
    scope: { kind: 'namespaces', of: (r) => [ns(r.version?.task)] },
    audit: { action: 'prompt_version.delete', target: (r) => `${taskName(r.version?.task)}@${r.version?.version ?? '?'}` },
  },
  exportPeft: { role: 'reader', scope: { kind: 'namespaces', of: (r) => [ns(r.prompt?.task)] } },
  setAlias: {
    role: 'trainer',
    scope: { kind: 'namespaces', of: (r) => [ns(r.task)] },
    stampActor: (r, actor) => {
      r.updatedBy = actor;
    },
    audit: {
      action: 'alias.set',
      target: (r) => `${taskName(r.task)}:${r.alias}`,
      details: (r, reply) => ({ from: reply.previousVersion, to: r.version, reason: r.reason || undefined }),
    },
  },
  deleteAlias: {
    role: 'trainer',
    scope: { kind: 'namespaces', of: (r) => [ns(r.task)] },
    stampActor: (r, actor) => {
      r.updatedBy = actor;
    },
    audit: {
      action: 'alias.delete',
      target: (r) => `${taskName(r.task)}:${r.alias}`,
      details: (r, reply) => ({ from: reply.previousVersion, reason: r.reason || undefined }),
    },
  },
  getAliasHistory: { role: 'reader', scope: { kind: 'namespaces', of: (r) => [ns(r.task)] } },
};

const training: ServiceRules<typeof TrainingService> = {
  uploadDataset: {
    role: 'trainer',
    scope: { kind: 'global' },
    limits: (r, { limits }) => {
      const size = r.part.case === 'header' ? r.part.value.sizeBytes : 0n;
      if (size > BigInt(limits.maxDatasetBytes))
        exhausted(`dataset of ${size} bytes exceeds the limit of ${limits.maxDatasetBytes} bytes (PTUNE_MAX_DATASET_BYTES)`);
    },
    streamCap: {
      bytes: (r) => (r.part.case === 'chunk' ? r.part.value.length : 0),
      max: (limits) => limits.maxDatasetBytes,
      what: 'dataset (PTUNE_MAX_DATASET_BYTES)',
    },
    audit: {
      action: 'dataset.upload',
      target: (_, reply) => reply.dataset?.sha256 ?? '',
      details: (_, reply) => ({ name: reply.dataset?.name, bytes: String(reply.dataset?.sizeBytes ?? ''), created: reply.created }),
    },
  },
  trainPrompt: {
    role: 'trainer',
    scope: { kind: 'namespaces', of: (r) => r.tasks.map((t) => ns(t.task)) },
    limits: trainPromptLimits,
    stampActor: (r, actor) => {
      r.createdBy = actor;
    },
    audit: {
      action: 'job.create',
      target: (_, reply) => reply.job?.id ?? '',
      details: (r, reply) => ({
        created: reply.created,
        base_model: r.baseModel,
        tasks: r.tasks.map((t) => taskName(t.task)),
        trials: reply.job?.trials.length,
        alias: r.alias || undefined,
      }),
    },
  },
  getJob: { role: 'reader', scope: { kind: 'lookup', of: (r, lookup) => lookup.jobNamespace(r.jobId) } },
  listJobs: {
    role: 'reader',
    scope: {
      kind: 'caller',
      filterReply: (reply, visible) => {
        reply.jobs = reply.jobs.filter((job) => (job.spec?.tasks ?? []).every((t) => visible(ns(t.task))));
        return reply;
      },
    },
  },
  watchJob: { role: 'reader', scope: { kind: 'lookup', of: (r, lookup) => lookup.jobNamespace(r.jobId) } },
  cancelJob: {
    role: 'trainer',
    scope: { kind: 'lookup', of: (r, lookup) => lookup.jobNamespace(r.jobId) },
    audit: { action: 'job.cancel', target: (r) => r.jobId, details: (r) => ({ reason: r.reason || undefined }) },
  },
};

const workerProtocol: ServiceRules<typeof WorkerProtocolService> = {
  registerWorker: worker,
  leaseTrial: worker,
  heartbeat: worker,
  reportProgress: worker,
  reportCheckpoint: worker,
  completeTrial: worker,
  failTrial: worker,
  releaseLease: worker,
  getBlob: worker,
  putBlob: worker,
};

const access: ServiceRules<typeof AccessService> = {
  createToken: {
    role: 'admin',
    scope: { kind: 'namespaces', of: (r) => [r.namespace] },
    audit: {
      action: 'token.create',
      target: (_, reply) => reply.token?.id ?? '',
      details: (_, reply) => ({ role: reply.token?.role, namespace: reply.token?.namespace }),
    },
  },
  listTokens: { role: 'admin', scope: { kind: 'namespaces', of: (r) => [r.namespace] } },
  revokeToken: {
    role: 'admin',
    scope: { kind: 'lookup', of: (r, lookup) => lookup.tokenNamespace(r.id) },
    audit: { action: 'token.revoke', target: (r) => r.id },
  },
  listAuditEvents: { role: 'admin', scope: { kind: 'namespaces', of: (r) => [r.namespace] } },
  // any reader, trainer or admin may ask who it is (the console's sign-in); the answer is its own token
  whoAmI: { role: 'reader', scope: { kind: 'global' } },
};

/**
 * Inference: a reader of the prompt's task namespace; the bare model (no prompt) belongs to no
 * namespace, so any reader may use it. The service also forwards the caller's token to the
 * registry's GetPrompt, which checks the same rule where no guard runs (`ptune infer`).
 */
const promptNamespace = (r: { prompt?: { task?: TaskRef } }): Promise<string | undefined> =>
  Promise.resolve(r.prompt === undefined ? undefined : ns(r.prompt.task));
const inference: ServiceRules<typeof InferenceService> = {
  generate: { role: 'reader', scope: { kind: 'lookup', of: promptNamespace } },
  score: { role: 'reader', scope: { kind: 'lookup', of: promptNamespace } },
};

/**
 * The namespace quota on queued + running jobs, which needs a database count. Per-request ranges
 * (virtual tokens, trials per job) are TrainPrompt's own validation (INVALID_ARGUMENT, as
 * training.proto says), checked once in services/coordinator/jobs/normalize-request.ts.
 */
async function trainPromptLimits(
  _r: TrainPromptRequest,
  context: { limits: Limits; lookup: { activeJobs(namespace: string): Promise<number> }; namespaces: readonly string[] },
): Promise<void> {
  const { limits } = context;
  for (const namespace of new Set(context.namespaces)) {
    const active = await context.lookup.activeJobs(namespace);
    if (active >= limits.maxActiveJobsPerNamespace) {
      exhausted(
        `namespace ${namespace} already has ${active} queued or running jobs; the limit is ${limits.maxActiveJobsPerNamespace} (PTUNE_MAX_ACTIVE_JOBS_PER_NAMESPACE)`,
      );
    }
  }
}

function exhausted(message: string): never {
  throw resourceExhausted(message);
}

/** Every service the table covers, with its rules keyed by local method name. */
const TABLE: ReadonlyArray<readonly [DescService, Readonly<Record<string, unknown>>]> = [
  [PromptRegistryService, registry],
  [TrainingService, training],
  [WorkerProtocolService, workerProtocol],
  [AccessService, access],
  [InferenceService, inference],
];

/** Rules keyed by gRPC method path ("/ptune.v1.PromptRegistryService/GetPrompt"). */
export const ACCESS_RULES: ReadonlyMap<string, AnyRule> = new Map(
  TABLE.flatMap(([service, rules]) => service.methods.map((method) => [methodPath(method), rules[method.localName] as AnyRule] as const)),
);
