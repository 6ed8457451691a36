/**
 * The authorization matrix: every RPC of every service × every role × own / foreign namespace ×
 * no token, against a real server over loopback. The expected outcome comes from the policy below
 * (written independently of services/auth/access-rules.ts); after every refusal the database and
 * blob store must be unchanged.
 */
import type { DescMessage, DescMethod, DescService, MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Role } from '../../services/auth/index.js';
import { AccessService, TokenRole } from '../../services/gen/ptune/v1/access_pb.js';
import { InferenceService } from '../../services/gen/ptune/v1/inference_pb.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { TrainingService, type ListJobsResponse } from '../../services/gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { createClient } from '../../services/grpc/index.js';
import {
  datasetBytes,
  promptBytes,
  pushStreamRequests,
  registerModelRequests,
  sha256,
  tinyModelBytes,
  uploadRequests,
} from './fixtures.js';
import { invoke, startSecureServer, type SecureServer } from './support/secure-server.js';
import { servedFromRegistry } from './support/served-model.js';

const SERVICES: DescService[] = [PromptRegistryService, TrainingService, WorkerProtocolService, AccessService, InferenceService];
const OWN = 'alpha';
const FOREIGN = 'beta';

/** How a call's namespace is decided, in the policy's words. */
type Reach = 'namespace' | 'global' | 'worker' | 'listing';

interface Case {
  readonly name: string;
  readonly service: DescService;
  readonly method: string;
  /** least role that may make this call (worker: the worker protocol) */
  readonly needs: Role;
  readonly reach: Reach;
  readonly requests: () => MessageInitShape<DescMessage>[];
}

interface Caller {
  readonly name: string;
  readonly namespace?: string;
  readonly role?: Role;
  token?: string;
}

const RANK: Record<Exclude<Role, 'worker'>, number> = { reader: 1, trainer: 2, admin: 3 };

function expected(caller: Caller, c: Case): 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'allowed' {
  if (caller.role === undefined) return 'UNAUTHENTICATED';
  if (c.reach === 'worker' || caller.role === 'worker')
    return c.reach === 'worker' && caller.role === 'worker' ? 'allowed' : 'PERMISSION_DENIED';
  if (RANK[caller.role] < RANK[c.needs as Exclude<Role, 'worker'>]) return 'PERMISSION_DENIED';
  if (c.reach === 'namespace' && caller.namespace !== OWN && caller.namespace !== '*') return 'PERMISSION_DENIED';
  return 'allowed';
}

describe('authorization matrix (real server, PGlite)', () => {
  let env: SecureServer;
  const seeded = { jobId: '', dataset: '', victimToken: '' };
  const callers: Caller[] = [
    { name: 'no token' },
    ...(['reader', 'trainer', 'admin'] as const).flatMap((role) => [
      { name: `${role}@${OWN}`, namespace: OWN, role },
      { name: `${role}@${FOREIGN}`, namespace: FOREIGN, role },
    ]),
    { name: 'admin@*', namespace: '*', role: 'admin' },
    { name: 'worker@*', namespace: '*', role: 'worker' },
  ];
  const task = { namespace: OWN, name: 'matrix' };
  const hi = { kind: { case: 'text' as const, value: 'hi' } };
  const lease = { leaseId: '00000000-0000-0000-0000-000000000000', epoch: 1n };

  const trainRequest = (alias = ''): MessageInitShape<DescMessage> => ({
    baseModel: 'tiny',
    tasks: [
      { task, train: { source: { case: 'sha256', value: seeded.dataset } }, eval: { source: { case: 'sha256', value: seeded.dataset } } },
    ],
    optimizer: { steps: 2, batchSize: 2 },
    alias,
  });

  const cases: Case[] = [
    {
      name: 'RegisterBaseModel',
      service: PromptRegistryService,
      method: 'RegisterBaseModel',
      needs: 'admin',
      reach: 'global',
      requests: () => registerModelRequests('tiny-again', TINY_BYTES),
    },
    {
      name: 'GetBaseModel',
      service: PromptRegistryService,
      method: 'GetBaseModel',
      needs: 'reader',
      reach: 'global',
      requests: () => [{ name: 'tiny' }],
    },
    {
      name: 'ListBaseModels',
      service: PromptRegistryService,
      method: 'ListBaseModels',
      needs: 'reader',
      reach: 'global',
      requests: () => [{}],
    },
    {
      name: 'CreateTask',
      service: PromptRegistryService,
      method: 'CreateTask',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => [{ task: { namespace: OWN, name: 'made-in-matrix' } }],
    },
    { name: 'GetTask', service: PromptRegistryService, method: 'GetTask', needs: 'reader', reach: 'namespace', requests: () => [{ task }] },
    {
      name: 'ListTasks',
      service: PromptRegistryService,
      method: 'ListTasks',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ namespace: OWN }],
    },
    {
      name: 'CreatePromptVersion',
      service: PromptRegistryService,
      method: 'CreatePromptVersion',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => [{ spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: promptBytes(4, 32, 11) } }],
    },
    {
      name: 'CreatePromptVersion with alias',
      service: PromptRegistryService,
      method: 'CreatePromptVersion',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => [
        { spec: { task, baseModel: 'tiny', alias: 'canary' }, payload: { case: 'safetensors', value: promptBytes(4, 32, 12) } },
      ],
    },
    {
      name: 'CreatePromptVersionStream',
      service: PromptRegistryService,
      method: 'CreatePromptVersionStream',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => pushStreamRequests(OWN, 'matrix', promptBytes(4, 32, 13)),
    },
    {
      name: 'CreatePromptVersionStream with alias',
      service: PromptRegistryService,
      method: 'CreatePromptVersionStream',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => pushStreamRequests(OWN, 'matrix', promptBytes(4, 32, 14), 'canary'),
    },
    {
      name: 'GetPrompt',
      service: PromptRegistryService,
      method: 'GetPrompt',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ prompt: { task, selector: { case: 'version', value: 1 } } }],
    },
    {
      name: 'GetPromptStream',
      service: PromptRegistryService,
      method: 'GetPromptStream',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ prompt: { task, selector: { case: 'alias', value: 'prod' } } }],
    },
    {
      name: 'ListPromptVersions',
      service: PromptRegistryService,
      method: 'ListPromptVersions',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ task }],
    },
    {
      name: 'DeletePromptVersion',
      service: PromptRegistryService,
      method: 'DeletePromptVersion',
      needs: 'admin',
      reach: 'namespace',
      requests: () => [{ version: { task, version: 3 } }],
    },
    {
      name: 'ExportPeft',
      service: PromptRegistryService,
      method: 'ExportPeft',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ prompt: { task, selector: { case: 'latest', value: true } } }],
    },
    {
      name: 'SetAlias',
      service: PromptRegistryService,
      method: 'SetAlias',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => [{ task, alias: 'prod', version: 2 }],
    },
    {
      name: 'DeleteAlias',
      service: PromptRegistryService,
      method: 'DeleteAlias',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => [{ task, alias: 'staging' }],
    },
    {
      name: 'GetAliasHistory',
      service: PromptRegistryService,
      method: 'GetAliasHistory',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ task, alias: 'prod' }],
    },
    {
      name: 'UploadDataset',
      service: TrainingService,
      method: 'UploadDataset',
      needs: 'trainer',
      reach: 'global',
      requests: () => uploadRequests(datasetBytes(6, 5)),
    },
    {
      name: 'TrainPrompt',
      service: TrainingService,
      method: 'TrainPrompt',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => [trainRequest()],
    },
    {
      name: 'TrainPrompt with alias',
      service: TrainingService,
      method: 'TrainPrompt',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => [trainRequest('prod')],
    },
    {
      name: 'GetJob',
      service: TrainingService,
      method: 'GetJob',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ jobId: seeded.jobId }],
    },
    { name: 'ListJobs', service: TrainingService, method: 'ListJobs', needs: 'reader', reach: 'listing', requests: () => [{}] },
    {
      name: 'WatchJob',
      service: TrainingService,
      method: 'WatchJob',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ jobId: seeded.jobId }],
    },
    {
      name: 'CancelJob',
      service: TrainingService,
      method: 'CancelJob',
      needs: 'trainer',
      reach: 'namespace',
      requests: () => [{ jobId: seeded.jobId, reason: 'matrix' }],
    },
    {
      name: 'RegisterWorker',
      service: WorkerProtocolService,
      method: 'RegisterWorker',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ name: 'matrix-worker' }],
    },
    {
      name: 'LeaseTrial',
      service: WorkerProtocolService,
      method: 'LeaseTrial',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ workerId: 'no-such-worker', waitTimeout: { nanos: 1_000_000 } }],
    },
    {
      name: 'Heartbeat',
      service: WorkerProtocolService,
      method: 'Heartbeat',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ workerId: 'no-such-worker', lease, step: 1 }],
    },
    {
      name: 'ReportProgress',
      service: WorkerProtocolService,
      method: 'ReportProgress',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ lease, steps: [{ step: 1, loss: 1 }] }],
    },
    {
      name: 'ReportCheckpoint',
      service: WorkerProtocolService,
      method: 'ReportCheckpoint',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ lease, blobKey: `checkpoint/${'0'.repeat(64)}`, step: 1 }],
    },
    {
      name: 'CompleteTrial',
      service: WorkerProtocolService,
      method: 'CompleteTrial',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ lease, resultBlobSha256: '0'.repeat(64) }],
    },
    {
      name: 'FailTrial',
      service: WorkerProtocolService,
      method: 'FailTrial',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ lease, error: 'matrix' }],
    },
    {
      name: 'ReleaseLease',
      service: WorkerProtocolService,
      method: 'ReleaseLease',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ lease, reason: 'matrix' }],
    },
    {
      name: 'GetBlob',
      service: WorkerProtocolService,
      method: 'GetBlob',
      needs: 'worker',
      reach: 'worker',
      requests: () => [{ key: `dataset/${seeded.dataset}` }],
    },
    {
      name: 'PutBlob',
      service: WorkerProtocolService,
      method: 'PutBlob',
      needs: 'worker',
      reach: 'worker',
      requests: () => [
        { part: { case: 'header', value: { sizeBytes: 3n, sha256: sha256(Buffer.from('abc')), lease, kind: 'checkpoint' } } },
        { part: { case: 'chunk', value: Buffer.from('abc') } },
      ],
    },
    {
      name: 'CreateToken',
      service: AccessService,
      method: 'CreateToken',
      needs: 'admin',
      reach: 'namespace',
      requests: () => [{ namespace: OWN, role: TokenRole.READER, description: 'matrix' }],
    },
    {
      name: 'ListTokens',
      service: AccessService,
      method: 'ListTokens',
      needs: 'admin',
      reach: 'namespace',
      requests: () => [{ namespace: OWN }],
    },
    {
      name: 'RevokeToken',
      service: AccessService,
      method: 'RevokeToken',
      needs: 'admin',
      reach: 'namespace',
      requests: () => [{ id: seeded.victimToken }],
    },
    {
      name: 'ListAuditEvents',
      service: AccessService,
      method: 'ListAuditEvents',
      needs: 'admin',
      reach: 'namespace',
      requests: () => [{ namespace: OWN }],
    },
    { name: 'WhoAmI', service: AccessService, method: 'WhoAmI', needs: 'reader', reach: 'global', requests: () => [{}] },
    {
      name: 'Generate with a prompt',
      service: InferenceService,
      method: 'Generate',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ prompt: { task, selector: { case: 'alias', value: 'prod' } }, input: hi, sampling: { maxTokens: 1 } }],
    },
    // the bare model belongs to no namespace: any reader
    {
      name: 'Generate, bare model',
      service: InferenceService,
      method: 'Generate',
      needs: 'reader',
      reach: 'global',
      requests: () => [{ input: hi, sampling: { maxTokens: 1 } }],
    },
    {
      name: 'Score',
      service: InferenceService,
      method: 'Score',
      needs: 'reader',
      reach: 'namespace',
      requests: () => [{ prompt: { task, selector: { case: 'version', value: 2 } }, inputs: [hi], candidates: [' a', ' b'] }],
    },
  ];
  let TINY_BYTES: Uint8Array;
  let cacheDir: string | undefined;

  beforeAll(async () => {
    // the inference module reads its model from the registry as `ptune serve` does
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'ptune-matrix-inference-'));
    env = await startSecureServer(servedFromRegistry('tiny', cacheDir));
    TINY_BYTES = await tinyModelBytes();
    for (const caller of callers) if (caller.role !== undefined) caller.token = await env.token(caller.namespace!, caller.role);
    // the victim is a separate token, so revoking it leaves the matrix's own reader intact
    const victim = await env.token(OWN, 'reader');
    seeded.victimToken = victim.slice(4, 16);
    const root = { metadata: { authorization: `Bearer ${callers.find((c) => c.name === 'admin@*')!.token}` } };
    const registry = createClient(PromptRegistryService, env.transport);
    const training = createClient(TrainingService, env.transport);
    await registry.registerBaseModel(registerModelRequests('tiny', TINY_BYTES), root);
    await registry.createTask({ task }, root);
    await registry.createTask({ task: { namespace: FOREIGN, name: 'matrix' } }, root);
    for (const seed of [1, 2, 3])
      await registry.createPromptVersion(
        { spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: promptBytes(4, 32, seed) } },
        root,
      );
    await registry.setAlias({ task, alias: 'prod', version: 1 }, root);
    const data = datasetBytes();
    seeded.dataset = (await training.uploadDataset(uploadRequests(data), root)).dataset!.sha256;
    seeded.jobId = (await training.trainPrompt(trainRequest(), root)).job!.id;
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('covers every method of every service', () => {
    const covered = new Set(cases.map((c) => `${c.service.typeName}/${c.method}`));
    const all = SERVICES.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`));
    expect(all.filter((m) => !covered.has(m))).toEqual([]);
  });

  it('answers every case × caller as the policy says, and a refusal stores nothing', async () => {
    const rows: string[] = [];
    let refusals = 0;
    for (const c of cases) {
      const method: DescMethod = c.service.methods.find((m) => m.name === c.method)!;
      for (const caller of callers) {
        const want = expected(caller, c);
        const before = await env.snapshot();
        const outcome = await invoke(env.transport, c.service, method, c.requests(), caller.token, 1);
        const got = outcome.ok ? 'OK' : outcome.error.codeName;
        rows.push(`${c.name} × ${caller.name}: want ${want}, got ${got}${outcome.ok ? '' : ` (${outcome.error.message})`}`);
        if (want === 'allowed') {
          expect(got, rows.at(-1)).not.toMatch(/^(UNAUTHENTICATED|PERMISSION_DENIED)$/);
          expect(got, rows.at(-1)).not.toBe('INTERNAL');
        } else {
          refusals++;
          expect(got, rows.at(-1)).toBe(want);
          expect(await env.snapshot(), `${rows.at(-1)}: storage changed after a refusal`).toBe(before);
        }
      }
    }
    if (process.env.PTUNE_MATRIX_REPORT) (await import('node:fs')).writeFileSync(process.env.PTUNE_MATRIX_REPORT, rows.join('\n'));
    expect(rows.length).toBe(cases.length * callers.length);
    expect(refusals).toBeGreaterThan(cases.length);
  }, 300_000);

  it('ListJobs shows a caller only the jobs of its own namespace', async () => {
    const method = TrainingService.methods.find((m) => m.name === 'ListJobs')!;
    const list = async (name: string): Promise<string[]> => {
      const outcome = await invoke(env.transport, TrainingService, method, [{}], callers.find((c) => c.name === name)!.token);
      if (!outcome.ok) throw outcome.error;
      return (outcome.replies[0] as ListJobsResponse).jobs.map((j) => j.id);
    };
    expect(await list(`reader@${OWN}`)).toContain(seeded.jobId);
    expect(await list(`reader@${FOREIGN}`)).not.toContain(seeded.jobId);
    expect(await list('admin@*')).toContain(seeded.jobId);
  });

  it('refuses malformed, unknown and revoked tokens with UNAUTHENTICATED', async () => {
    const method = PromptRegistryService.methods.find((m) => m.name === 'ListBaseModels')!;
    const reader = callers.find((c) => c.name === `reader@${OWN}`)!.token!;
    const revoked = await env.token(OWN, 'admin');
    await createClient(AccessService, env.transport).revokeToken(
      { id: revoked.slice(4, 16) },
      { metadata: { authorization: `Bearer ${callers.find((c) => c.name === 'admin@*')!.token}` } },
    );
    const bad = ['ptk_short', reader.slice(0, -1) + (reader.endsWith('A') ? 'B' : 'A'), `ptk_zzzzzzzzzzzz_${reader.slice(17)}`, revoked];
    for (const token of bad) {
      const outcome = await invoke(env.transport, PromptRegistryService, method, [{}], token);
      expect(outcome.ok ? 'OK' : outcome.error.code, token).toBe(status.UNAUTHENTICATED);
    }
    const notBearer = await createClient(PromptRegistryService, env.transport)
      .listBaseModels({}, { metadata: { authorization: `Basic ${reader}` } })
      .catch((e: Error) => e);
    expect(String(notBearer)).toMatch(/Bearer/);
  });
});
