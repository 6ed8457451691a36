/**
 * A table of distinct bad requests across every service, sent to a real server over loopback with
 * authentication on and tight limits. Each must fail with its status code and a message that says
 * what is wrong, and must leave the database and blob store exactly as they were.
 */
import type { DescMessage, DescService, MessageInitShape } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../services/engine/formats/safetensors.js';
import { AccessService, TokenRole } from '../../services/gen/ptune/v1/access_pb.js';
import { InitMethod, TuningMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { PayloadFormat, PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { DatasetFormat, TrainingService } from '../../services/gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { createClient, createGrpcTransport, type GrpcTransport } from '../../services/grpc/index.js';
import { datasetBytes, promptBytes, registerModelRequests, sha256, tinyModelBytes, uploadRequests } from './fixtures.js';
import { invoke, startSecureServer, type Outcome, type SecureServer } from './support/secure-server.js';

const LIMITS = {
  maxMessageBytes: 1024 * 1024,
  maxVirtualTokens: 64,
  maxTrialsPerJob: 8,
  maxDatasetBytes: 64 * 1024,
  maxActiveJobsPerNamespace: 2,
};

interface BadRequest {
  readonly name: string;
  readonly send: () => Promise<Outcome>;
  readonly code: string;
  /** a part of the message that says what is wrong */
  readonly says: RegExp;
}

describe('bad requests across all services (real server, auth on)', () => {
  let env: SecureServer;
  let big: GrpcTransport;
  const tokens = { root: '', alphaAdmin: '', alphaReader: '', revoked: '', worker: '' };
  const seeded = { dataset: '', jobId: '' };
  const task = { namespace: 'alpha', name: 'bad' };

  const call = (
    service: DescService,
    method: string,
    requests: MessageInitShape<DescMessage>[],
    token: string | null = tokens.root,
    transport?: GrpcTransport,
  ): Promise<Outcome> =>
    invoke(
      transport ?? env.transport,
      service,
      service.methods.find((m) => m.name === method)!,
      requests,
      token ?? undefined,
      1,
    );
  const registry = (method: string, request: MessageInitShape<DescMessage>, token?: string) =>
    call(PromptRegistryService, method, [request], token);
  const training = (method: string, request: MessageInitShape<DescMessage>, token?: string) =>
    call(TrainingService, method, [request], token);
  const worker = (method: string, request: MessageInitShape<DescMessage>) => call(WorkerProtocolService, method, [request], tokens.worker);
  const access = (method: string, request: MessageInitShape<DescMessage>, token?: string) => call(AccessService, method, [request], token);
  const push = (payload: Uint8Array, spec: Record<string, unknown> = {}, token?: string) =>
    registry(
      'CreatePromptVersion',
      { spec: { task, baseModel: 'tiny', ...spec }, payload: { case: 'safetensors', value: payload } },
      token,
    );
  const train = (overrides: Record<string, unknown> = {}, token?: string) =>
    training(
      'TrainPrompt',
      {
        baseModel: 'tiny',
        tasks: [
          {
            task,
            train: { source: { case: 'sha256', value: seeded.dataset } },
            eval: { source: { case: 'sha256', value: seeded.dataset } },
          },
        ],
        optimizer: { steps: 2, batchSize: 2 },
        ...overrides,
      },
      token,
    );
  const upload = (bytes: Uint8Array, header: Record<string, unknown> = {}) =>
    call(TrainingService, 'UploadDataset', [
      {
        part: {
          case: 'header',
          value: {
            name: 'd.jsonl',
            format: DatasetFormat.JSONL_INPUT_OUTPUT,
            sizeBytes: BigInt(bytes.length),
            expectedSha256: sha256(bytes),
            ...header,
          },
        },
      },
      { part: { case: 'chunk', value: bytes } },
    ]);
  const lease = { leaseId: '00000000-0000-0000-0000-000000000000', epoch: 1n };
  const nan = writeSafetensors({
    prompt_embeddings: { dtype: 'F32', shape: [2, 32], data: Float32Array.from({ length: 64 }, (_, i) => (i === 5 ? Number.NaN : 0.1)) },
  });
  const twoTensors = writeSafetensors({
    prompt_embeddings: { dtype: 'F32', shape: [2, 32], data: new Float32Array(64) },
    extra: { dtype: 'F32', shape: [1], data: new Float32Array(1) },
  });

  const table: BadRequest[] = [
    // authentication and authorization
    { name: 'no token', send: () => call(PromptRegistryService, 'ListBaseModels', [{}], null), code: 'UNAUTHENTICATED', says: /no token/ },
    {
      name: 'malformed token',
      send: () => registry('ListBaseModels', {}, 'ptk_not-a-token'),
      code: 'UNAUTHENTICATED',
      says: /malformed token/,
    },
    {
      name: 'unknown token',
      send: () => registry('ListBaseModels', {}, `ptk_${'z'.repeat(12)}_${'A'.repeat(43)}`),
      code: 'UNAUTHENTICATED',
      says: /unknown token/,
    },
    { name: 'revoked token', send: () => registry('ListBaseModels', {}, tokens.revoked), code: 'UNAUTHENTICATED', says: /revoked/ },
    {
      name: 'reader pushes a prompt',
      send: () => push(promptBytes(2, 32), {}, tokens.alphaReader),
      code: 'PERMISSION_DENIED',
      says: /needs role trainer/,
    },
    {
      name: 'admin of alpha reads beta',
      send: () => registry('GetTask', { task: { namespace: 'beta', name: 'bad' } }, tokens.alphaAdmin),
      code: 'PERMISSION_DENIED',
      says: /scoped to namespace alpha, not beta/,
    },
    {
      name: 'admin of alpha creates a token for every namespace',
      send: () => access('CreateToken', { namespace: '*', role: TokenRole.READER }, tokens.alphaAdmin),
      code: 'PERMISSION_DENIED',
      says: /not \*/,
    },
    {
      name: 'worker token calls the registry',
      send: () => registry('ListBaseModels', {}, tokens.worker),
      code: 'PERMISSION_DENIED',
      says: /role worker/,
    },
    {
      name: 'user token calls the worker protocol',
      send: () => call(WorkerProtocolService, 'RegisterWorker', [{ name: 'w' }], tokens.root),
      code: 'PERMISSION_DENIED',
      says: /needs role worker/,
    },
    // registry: names
    {
      name: 'task without namespace',
      send: () => registry('CreateTask', { task: { namespace: '', name: 'x' } }),
      code: 'INVALID_ARGUMENT',
      says: /names no namespace/,
    },
    {
      name: 'task name with a slash',
      send: () => registry('CreateTask', { task: { namespace: 'alpha', name: 'a/b' } }),
      code: 'INVALID_ARGUMENT',
      says: /task\.name/,
    },
    {
      name: 'task name of 64 characters',
      send: () => registry('CreateTask', { task: { namespace: 'alpha', name: 'x'.repeat(64) } }),
      code: 'INVALID_ARGUMENT',
      says: /1\.\.63/,
    },
    {
      name: 'upper-case namespace',
      send: () => registry('CreateTask', { task: { namespace: 'Alpha', name: 'x' } }),
      code: 'INVALID_ARGUMENT',
      says: /namespace/,
    },
    {
      name: 'unknown task',
      send: () => registry('GetTask', { task: { namespace: 'alpha', name: 'nope' } }),
      code: 'NOT_FOUND',
      says: /nope/,
    },
    { name: 'unknown base model', send: () => registry('GetBaseModel', { name: 'nope' }), code: 'NOT_FOUND', says: /nope/ },
    // registry: prompts
    { name: 'prompt holding NaN', send: () => push(nan), code: 'INVALID_ARGUMENT', says: /finite/ },
    { name: 'prompt of the wrong width', send: () => push(promptBytes(2, 31)), code: 'INVALID_ARGUMENT', says: /31/ },
    {
      name: 'prompt that is not safetensors',
      send: () => push(new TextEncoder().encode('hello, world')),
      code: 'INVALID_ARGUMENT',
      says: /safetensors/,
    },
    { name: 'empty prompt payload', send: () => push(new Uint8Array()), code: 'INVALID_ARGUMENT', says: /empty/ },
    { name: 'prompt file with two tensors', send: () => push(twoTensors), code: 'INVALID_ARGUMENT', says: /exactly one tensor/ },
    {
      name: 'prompt for an unknown base model',
      send: () => push(promptBytes(2, 32), { baseModel: 'nope' }),
      code: 'NOT_FOUND',
      says: /nope/,
    },
    {
      name: 'push with a malformed alias',
      send: () => push(promptBytes(2, 32), { alias: 'Prod!' }),
      code: 'INVALID_ARGUMENT',
      says: /alias/,
    },
    {
      name: 'streamed push whose size differs from its header',
      send: () =>
        call(PromptRegistryService, 'CreatePromptVersionStream', [
          {
            part: {
              case: 'header',
              value: {
                spec: { task, baseModel: 'tiny' },
                format: PayloadFormat.SAFETENSORS,
                sizeBytes: 10n,
                expectedSha256: sha256(promptBytes(2, 32)),
              },
            },
          },
          { part: { case: 'chunk', value: promptBytes(2, 32) } },
        ]),
      code: 'INVALID_ARGUMENT',
      says: /10/,
    },
    {
      name: 'streamed push without a header',
      send: () => call(PromptRegistryService, 'CreatePromptVersionStream', [{ part: { case: 'chunk', value: promptBytes(2, 32) } }]),
      code: 'INVALID_ARGUMENT',
      says: /names no namespace/,
    },
    {
      name: 'unary message above the size limit',
      send: () =>
        call(
          PromptRegistryService,
          'CreatePromptVersion',
          [{ spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: new Uint8Array(2 * 1024 * 1024) } }],
          tokens.root,
          big,
        ),
      code: 'RESOURCE_EXHAUSTED',
      says: /larger than max|message/i,
    },
    {
      name: 'unknown version',
      send: () => registry('GetPrompt', { prompt: { task, selector: { case: 'version', value: 99 } } }),
      code: 'NOT_FOUND',
      says: /99/,
    },
    {
      name: 'unknown alias',
      send: () => registry('GetPrompt', { prompt: { task, selector: { case: 'alias', value: 'nope' } } }),
      code: 'NOT_FOUND',
      says: /nope/,
    },
    {
      name: 'prompt selector missing',
      send: () => registry('GetPrompt', { prompt: { task } }),
      code: 'INVALID_ARGUMENT',
      says: /selector|version|alias/,
    },
    {
      name: 'forged page token',
      send: () => registry('ListPromptVersions', { task, pageToken: 'bm90LW91cnM' }),
      code: 'INVALID_ARGUMENT',
      says: /page_token/,
    },
    {
      name: 'export of an unknown version',
      send: () => registry('ExportPeft', { prompt: { task, selector: { case: 'version', value: 42 } } }),
      code: 'NOT_FOUND',
      says: /42/,
    },
    // registry: aliases and deletion
    {
      name: 'alias to an unknown version',
      send: () => registry('SetAlias', { task, alias: 'prod', version: 77 }),
      code: 'NOT_FOUND',
      says: /77/,
    },
    {
      name: 'alias compare-and-swap conflict',
      send: () => registry('SetAlias', { task, alias: 'prod', version: 2, expectedVersion: 2 }),
      code: 'ABORTED',
      says: /prod/,
    },
    { name: 'delete of an unknown alias', send: () => registry('DeleteAlias', { task, alias: 'nope' }), code: 'NOT_FOUND', says: /nope/ },
    {
      name: 'delete of a version an alias points to',
      send: () => registry('DeletePromptVersion', { version: { task, version: 1 } }),
      code: 'FAILED_PRECONDITION',
      says: /prod/,
    },
    // registry: base models
    {
      name: 'base model whose bytes do not match the declared sha256',
      send: () =>
        call(PromptRegistryService, 'RegisterBaseModel', [
          { part: { case: 'header', value: { name: 'liar', sizeBytes: 4n, expectedSha256: 'a'.repeat(64) } } },
          { part: { case: 'chunk', value: new Uint8Array([1, 2, 3, 4]) } },
        ]),
      code: 'INVALID_ARGUMENT',
      says: /sha256/,
    },
    {
      name: 'base model that is not a GGUF file',
      send: () =>
        call(
          PromptRegistryService,
          'RegisterBaseModel',
          registerModelRequests('garbage', new TextEncoder().encode('not a model at all, just text')),
        ),
      code: 'INVALID_ARGUMENT',
      says: /GGUF/,
    },
    {
      name: 'base model with a bad name',
      send: () =>
        call(PromptRegistryService, 'RegisterBaseModel', [
          { part: { case: 'header', value: { name: 'Bad Name', sizeBytes: 1n, expectedSha256: 'a'.repeat(64) } } },
          { part: { case: 'chunk', value: new Uint8Array([1]) } },
        ]),
      code: 'INVALID_ARGUMENT',
      says: /Bad Name/,
    },
    // training
    { name: 'TrainPrompt for an unknown base model', send: () => train({ baseModel: 'nope' }), code: 'NOT_FOUND', says: /nope/ },
    { name: 'TrainPrompt without tasks', send: () => train({ tasks: [] }), code: 'INVALID_ARGUMENT', says: /names no namespace/ },
    {
      name: 'TrainPrompt with an unknown dataset',
      send: () =>
        train({
          tasks: [
            {
              task,
              train: { source: { case: 'sha256', value: 'c'.repeat(64) } },
              eval: { source: { case: 'sha256', value: seeded.dataset } },
            },
          ],
        }),
      code: 'NOT_FOUND',
      says: /c{12}/,
    },
    {
      name: 'TrainPrompt with a dataset key that climbs out of the store',
      send: () =>
        train({
          tasks: [
            {
              task,
              train: { source: { case: 'blobKey', value: '../../etc/passwd' } },
              eval: { source: { case: 'sha256', value: seeded.dataset } },
            },
          ],
        }),
      code: 'NOT_FOUND',
      says: /tasks\[0\]\.train: blob \.\.\/\.\.\/etc\/passwd/,
    },
    {
      name: 'TrainPrompt with the same task twice',
      send: () =>
        train({
          tasks: [0, 1].map(() => ({
            task,
            train: { source: { case: 'sha256', value: seeded.dataset } },
            eval: { source: { case: 'sha256', value: seeded.dataset } },
          })),
        }),
      code: 'INVALID_ARGUMENT',
      says: /twice/,
    },
    {
      name: 'TrainPrompt above the virtual-token limit',
      send: () => train({ method: { numVirtualTokens: 65 } }),
      code: 'INVALID_ARGUMENT',
      says: /1\.\.64 \(this server's limit, PTUNE_MAX_VIRTUAL_TOKENS\)/,
    },
    {
      name: 'TrainPrompt sweep above the trial limit',
      send: () => train({ sweep: { learningRates: [0.01, 0.02, 0.03], numVirtualTokens: [4, 8, 16] } }),
      code: 'INVALID_ARGUMENT',
      says: /limit of 8 per job/,
    },
    {
      name: 'TrainPrompt with too many steps',
      send: () => train({ optimizer: { steps: 2_000_000, batchSize: 2 } }),
      code: 'INVALID_ARGUMENT',
      says: /steps/,
    },
    {
      name: 'TrainPrompt with a negative learning rate',
      send: () => train({ optimizer: { steps: 2, batchSize: 2, learningRate: -1 } }),
      code: 'INVALID_ARGUMENT',
      says: /learning_rate|lr/,
    },
    {
      name: 'TrainPrompt with an unknown selection metric',
      send: () => train({ selection: { name: 'vibes' } }),
      code: 'INVALID_ARGUMENT',
      says: /vibes/,
    },
    {
      name: 'TrainPrompt with a projected prefix and SAMPLE_VOCAB init',
      send: () =>
        train({
          method: {
            method: TuningMethod.PREFIX_TUNING,
            prefixProjection: true,
            numVirtualTokens: 4,
            init: { method: InitMethod.SAMPLE_VOCAB },
          },
        }),
      code: 'INVALID_ARGUMENT',
      says: /method\.init: SAMPLE_VOCAB init .*use RANDOM init/,
    },
    {
      name: 'TrainPrompt with TEXT init and no text',
      send: () => train({ method: { numVirtualTokens: 4, init: { method: InitMethod.TEXT } } }),
      code: 'INVALID_ARGUMENT',
      says: /text/,
    },
    {
      name: 'TrainPrompt in a namespace at its active-job limit',
      send: () =>
        train({
          tasks: [
            {
              task: { namespace: 'busy', name: 'bad' },
              train: { source: { case: 'sha256', value: seeded.dataset } },
              eval: { source: { case: 'sha256', value: seeded.dataset } },
            },
          ],
        }),
      code: 'RESOURCE_EXHAUSTED',
      says: /limit is 2/,
    },
    {
      name: 'dataset with a malformed line',
      send: () => upload(new TextEncoder().encode('{"input":"a","output":"b"}\n{"input": 3}\n')),
      code: 'INVALID_ARGUMENT',
      says: /:2:/,
    },
    { name: 'empty dataset', send: () => upload(new Uint8Array()), code: 'INVALID_ARGUMENT', says: /empty|no examples/ },
    {
      name: 'dataset above the size limit',
      send: () => upload(datasetBytes(4), { sizeBytes: 65n * 1024n }),
      code: 'RESOURCE_EXHAUSTED',
      says: /65536/,
    },
    {
      name: 'dataset that declares 100 bytes and streams past the size limit',
      send: () => upload(datasetBytes(3000), { sizeBytes: 100n }),
      code: 'RESOURCE_EXHAUSTED',
      says: /more than the limit of 65536 bytes/,
    },
    {
      name: 'dataset whose bytes do not match the declared sha256',
      send: () => upload(datasetBytes(4), { expectedSha256: 'd'.repeat(64) }),
      code: 'INVALID_ARGUMENT',
      says: /sha256/,
    },
    {
      name: 'GetJob with a malformed id',
      send: () => training('GetJob', { jobId: 'not-a-uuid' }),
      code: 'INVALID_ARGUMENT',
      says: /job_id: "not-a-uuid" is not a job id/,
    },
    {
      name: 'GetJob for an unknown job',
      send: () => training('GetJob', { jobId: '00000000-0000-4000-8000-000000000000' }),
      code: 'NOT_FOUND',
      says: /00000000-0000-4000-8000-000000000000/,
    },
    {
      name: 'CancelJob for an unknown job',
      send: () => training('CancelJob', { jobId: '00000000-0000-4000-8000-000000000001' }),
      code: 'NOT_FOUND',
      says: /00000000-0000-4000-8000-000000000001/,
    },
    // worker protocol (a key that cannot name a stored blob is NOT_FOUND, as the coordinator answers it)
    {
      name: 'GetBlob with ../ in the key',
      send: () => worker('GetBlob', { key: '../../etc/passwd' }),
      code: 'INVALID_ARGUMENT',
      says: /invalid blob key/,
    },
    {
      name: 'GetBlob with an absolute key',
      send: () => worker('GetBlob', { key: '/etc/passwd' }),
      code: 'INVALID_ARGUMENT',
      says: /invalid blob key/,
    },
    {
      name: 'GetBlob with a backslash key',
      send: () => worker('GetBlob', { key: 'dataset\\..\\..\\x' }),
      code: 'INVALID_ARGUMENT',
      says: /invalid blob key/,
    },
    {
      name: 'GetBlob of a missing blob',
      send: () => worker('GetBlob', { key: `dataset/${'e'.repeat(64)}` }),
      code: 'NOT_FOUND',
      says: /e{12}/,
    },
    {
      name: 'PutBlob without a header',
      send: () => call(WorkerProtocolService, 'PutBlob', [{ part: { case: 'chunk', value: new Uint8Array([1]) } }], tokens.worker),
      code: 'INVALID_ARGUMENT',
      says: /header/,
    },
    {
      name: 'Heartbeat for an unknown lease',
      send: () => worker('ReportProgress', { lease, steps: [{ step: 1, loss: 1 }] }),
      code: 'NOT_FOUND',
      says: /does not exist/,
    },
    {
      name: 'LeaseTrial for an unregistered worker',
      send: () => worker('LeaseTrial', { workerId: 'ghost', waitTimeout: { nanos: 1_000_000 } }),
      code: 'NOT_FOUND',
      says: /ghost/,
    },
    // checked before anything else runs, for every RPC (issue #13; services/grpc/request-check.ts)
    {
      name: 'GetPrompt of version 2^31 (above the version column)',
      send: () => registry('GetPrompt', { prompt: { task, selector: { case: 'version', value: 2 ** 31 } } }),
      code: 'INVALID_ARGUMENT',
      says: /prompt\.version: is 2147483648; it must be at most 2147483647/,
    },
    {
      name: 'ExportPeft of version 2^32-1 (the varint of -1)',
      send: () => registry('ExportPeft', { prompt: { task, selector: { case: 'version', value: 2 ** 32 - 1 } } }),
      code: 'INVALID_ARGUMENT',
      says: /4294967295/,
    },
    {
      name: 'SetAlias to version 2^31',
      send: () => registry('SetAlias', { task, alias: 'prod', version: 2 ** 31 }),
      code: 'INVALID_ARGUMENT',
      says: /^INVALID_ARGUMENT: version: is 2147483648/,
    },
    {
      name: 'DeletePromptVersion of version 2^31',
      send: () => registry('DeletePromptVersion', { version: { task, version: 2 ** 31 } }),
      code: 'INVALID_ARGUMENT',
      says: /version\.version/,
    },
    {
      name: 'CreateTask with a NUL in the name (audited write)',
      send: () => registry('CreateTask', { task: { namespace: 'alpha', name: 'fe\0el' } }),
      code: 'INVALID_ARGUMENT',
      says: /task\.name: contains a NUL character/,
    },
    {
      name: 'CreateToken with a NUL in the namespace',
      send: () => access('CreateToken', { namespace: 'team-a\0', role: TokenRole.READER }),
      code: 'INVALID_ARGUMENT',
      says: /namespace: contains a NUL/,
    },
    {
      name: 'TrainPrompt with a NaN learning rate',
      send: () => train({ optimizer: { steps: 2, batchSize: 2, learningRate: Number.NaN } }),
      code: 'INVALID_ARGUMENT',
      says: /optimizer\.learning_rate: is NaN; it must be a finite number/,
    },
    {
      name: 'TrainPrompt with an infinite weight decay',
      send: () => train({ optimizer: { steps: 2, batchSize: 2, weightDecay: Number.POSITIVE_INFINITY } }),
      code: 'INVALID_ARGUMENT',
      says: /optimizer\.weight_decay: is Infinity/,
    },
    {
      name: 'TrainPrompt with a NaN in the learning-rate sweep',
      send: () => train({ sweep: { learningRates: [0.01, Number.NaN] } }),
      code: 'INVALID_ARGUMENT',
      says: /sweep\.learning_rates\[1\]: is NaN/,
    },
    {
      name: 'TrainPrompt with an unknown tuning method number',
      send: () => train({ method: { method: 77 } }),
      code: 'INVALID_ARGUMENT',
      says: /method\.method: 77 is not a value of ptune\.v1\.TuningMethod/,
    },
    {
      name: 'ReportProgress with epoch 2^40 (above the epoch column)',
      send: () => worker('ReportProgress', { lease: { ...lease, epoch: 2n ** 40n }, steps: [{ step: 1, loss: 1 }] }),
      code: 'FAILED_PRECONDITION',
      says: /never granted/,
    },
    {
      name: 'Heartbeat with a lease id that is not a UUID',
      send: () => worker('Heartbeat', { lease: { leaseId: 'x'.repeat(40), epoch: 1n } }),
      code: 'INVALID_ARGUMENT',
      says: /lease\.lease_id: is not a lease id/,
    },
    // access
    {
      name: 'worker token bound to one namespace',
      send: () => access('CreateToken', { namespace: 'alpha', role: TokenRole.WORKER }),
      code: 'INVALID_ARGUMENT',
      says: /every namespace/,
    },
    {
      name: 'token for a malformed namespace',
      send: () => access('CreateToken', { namespace: 'Not OK', role: TokenRole.READER }),
      code: 'INVALID_ARGUMENT',
      says: /Not OK/,
    },
    {
      name: 'token without a role',
      send: () => access('CreateToken', { namespace: 'alpha', role: TokenRole.UNSPECIFIED }),
      code: 'INVALID_ARGUMENT',
      says: /role/,
    },
    {
      name: 'revoke of an unknown token',
      send: () => access('RevokeToken', { id: 'nosuchtoken0' }),
      code: 'NOT_FOUND',
      says: /nosuchtoken0/,
    },
    {
      name: 'audit page token forged',
      send: () => access('ListAuditEvents', { namespace: 'alpha', pageToken: '-1' }),
      code: 'INVALID_ARGUMENT',
      says: /page_token/,
    },
  ];

  beforeAll(async () => {
    env = await startSecureServer({ limits: LIMITS });
    big = createGrpcTransport(env.server.address, { maxSendMessageBytes: 16 * 1024 * 1024 });
    tokens.root = await env.token('*', 'admin');
    tokens.alphaAdmin = await env.token('alpha', 'admin');
    tokens.alphaReader = await env.token('alpha', 'reader');
    tokens.worker = await env.token('*', 'worker');
    tokens.revoked = await env.token('alpha', 'trainer');
    await env.prisma.apiToken.update({ where: { id: tokens.revoked.slice(4, 16) }, data: { revokedAt: new Date() } });
    const root = { metadata: { authorization: `Bearer ${tokens.root}` } };
    const reg = createClient(PromptRegistryService, env.transport);
    const trn = createClient(TrainingService, env.transport);
    await reg.registerBaseModel(registerModelRequests('tiny', await tinyModelBytes()), root);
    await reg.createTask({ task }, root);
    await reg.createTask({ task: { namespace: 'busy', name: 'bad' } }, root);
    for (const seed of [1, 2])
      await reg.createPromptVersion(
        { spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: promptBytes(2, 32, seed) } },
        root,
      );
    await reg.setAlias({ task, alias: 'prod', version: 1 }, root);
    seeded.dataset = (await trn.uploadDataset(uploadRequests(datasetBytes()), root)).dataset!.sha256;
    for (const key of ['a', 'b']) {
      await trn.trainPrompt(
        {
          baseModel: 'tiny',
          idempotencyKey: key,
          tasks: [
            {
              task: { namespace: 'busy', name: 'bad' },
              train: { source: { case: 'sha256', value: seeded.dataset } },
              eval: { source: { case: 'sha256', value: seeded.dataset } },
            },
          ],
          optimizer: { steps: 2, batchSize: 2 },
        },
        root,
      );
    }
  }, 120_000);
  afterAll(async () => {
    big?.close();
    await env?.close();
  });

  it('has at least 50 distinct cases', () => {
    expect(new Set(table.map((c) => c.name)).size).toBe(table.length);
    expect(table.length).toBeGreaterThanOrEqual(50);
  });

  it.each(table.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await env.snapshot();
    const outcome = await c.send();
    const got = outcome.ok ? 'OK' : `${outcome.error.codeName}: ${outcome.error.message}`;
    expect(got).toMatch(new RegExp(`^${c.code}: `));
    expect(got).toMatch(c.says);
    expect(await env.snapshot(), 'storage changed').toBe(before);
  });
});
