/**
 * Random requests against the real server: 2,000 generated messages (random protobuf bytes decoded
 * as each RPC's request type) and 2,000 byte-level mutations of valid requests (which reach the
 * deeper paths: uploads, pushes, training), sent over loopback with full rights.
 * No call may end in INTERNAL or UNKNOWN (an unhandled error inside a service), and the server must
 * still answer afterwards.
 */
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessService } from '../../services/gen/ptune/v1/access_pb.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { TrainingService } from '../../services/gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { createClient } from '../../services/grpc/index.js';
import { datasetBytes, promptBytes, pushStreamRequests, registerModelRequests, tinyModelBytes, uploadRequests } from './fixtures.js';
import { mutated } from './support/fuzz.js';
import { invoke, startSecureServer, type Outcome, type SecureServer } from './support/secure-server.js';

const RUNS = 2_000;
const SERVICES: DescService[] = [PromptRegistryService, TrainingService, WorkerProtocolService, AccessService];
const CALLS: { service: DescService; method: DescMethod }[] = SERVICES.flatMap((service) =>
  service.methods.map((method) => ({ service, method })),
);

describe('random requests against a real server', () => {
  let env: SecureServer;
  let admin: string;
  let worker: string;
  let dataset = '';
  const task = { namespace: 'fuzz', name: 'target' };
  const serverErrors: string[] = [];
  beforeAll(async () => {
    env = await startSecureServer({ logger: pino({ level: 'error' }, { write: (line: string) => void serverErrors.push(line) }) });
    admin = await env.token('*', 'admin');
    worker = await env.token('*', 'worker');
    const root = { metadata: { authorization: `Bearer ${admin}` } };
    const registry = createClient(PromptRegistryService, env.transport);
    await registry.registerBaseModel(registerModelRequests('tiny', await tinyModelBytes()), root);
    await registry.createTask({ task }, root);
    await registry.createPromptVersion(
      { spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: promptBytes(2, 32) } },
      root,
    );
    await registry.setAlias({ task, alias: 'prod', version: 1 }, root);
    dataset = (await createClient(TrainingService, env.transport).uploadDataset(uploadRequests(datasetBytes()), root)).dataset!.sha256;
  }, 120_000);
  afterAll(() => env?.close());

  it(`answers ${RUNS} random requests without an internal error`, async () => {
    const codes = new Map<string, number>();
    const failures: string[] = [];
    const message = (schema: DescMessage) =>
      fc.uint8Array({ maxLength: 96 }).map((bytes) => {
        try {
          return fromBinary(schema, bytes);
        } catch {
          return undefined;
        }
      });
    const sample = fc.sample(
      fc
        .nat(CALLS.length - 1)
        .chain((index) => fc.tuple(fc.constant(index), fc.array(message(CALLS[index].method.input), { minLength: 1, maxLength: 3 }))),
      { numRuns: RUNS, seed: 47 },
    );
    for (const [index, decoded] of sample) {
      const { service, method } = CALLS[index];
      const requests = decoded.filter((m) => m !== undefined);
      if (requests.length === 0) {
        codes.set('undecodable', (codes.get('undecodable') ?? 0) + 1);
        continue;
      }
      const outcome = await invoke(env.transport, service, method, requests, service === WorkerProtocolService ? worker : admin, 2);
      const code = outcome.ok ? 'OK' : outcome.error.codeName;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (code === 'INTERNAL' || code === 'UNKNOWN') failures.push(`${method.name}: ${outcome.ok ? '' : outcome.error.message}`);
    }
    expect({ failures, serverErrors: serverErrors.slice(0, 3) }).toEqual({ failures: [], serverErrors: [] });
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(RUNS);
    await expectHealthy();
  }, 300_000);

  it(`answers ${RUNS} mutations of valid requests without an internal error`, async () => {
    const ref = { source: { case: 'sha256' as const, value: dataset } };
    const templates: { service: DescService; method: string; requests: MessageInitShape<DescMessage>[] }[] = [
      {
        service: PromptRegistryService,
        method: 'CreatePromptVersion',
        requests: [{ spec: { task, baseModel: 'tiny', alias: 'prod' }, payload: { case: 'safetensors', value: promptBytes(2, 32, 5) } }],
      },
      {
        service: PromptRegistryService,
        method: 'CreatePromptVersionStream',
        requests: pushStreamRequests(task.namespace, task.name, promptBytes(2, 32, 6)),
      },
      {
        service: PromptRegistryService,
        method: 'GetPrompt',
        requests: [{ prompt: { task, selector: { case: 'alias', value: 'prod' } }, dtype: 2 }],
      },
      { service: PromptRegistryService, method: 'ExportPeft', requests: [{ prompt: { task, selector: { case: 'version', value: 1 } } }] },
      { service: PromptRegistryService, method: 'SetAlias', requests: [{ task, alias: 'prod', version: 1, expectedVersion: 1 }] },
      {
        service: PromptRegistryService,
        method: 'ListPromptVersions',
        requests: [{ task, orderBy: 3, orderMetric: 'eval_loss', pageSize: 2 }],
      },
      {
        service: PromptRegistryService,
        method: 'RegisterBaseModel',
        requests: registerModelRequests('tiny2', (await tinyModelBytes()).subarray(0, 4096)),
      },
      { service: TrainingService, method: 'UploadDataset', requests: uploadRequests(datasetBytes(5, 2)) },
      {
        service: TrainingService,
        method: 'TrainPrompt',
        requests: [
          {
            baseModel: 'tiny',
            tasks: [{ task, train: ref, eval: ref }],
            method: { numVirtualTokens: 4 },
            optimizer: { steps: 2, batchSize: 2, learningRate: 0.01 },
            sweep: { learningRates: [0.01, 0.02] },
          },
        ],
      },
      { service: AccessService, method: 'CreateToken', requests: [{ namespace: 'fuzz', role: 1, description: 'x' }] },
    ];
    const variants = templates.map((t) => {
      const method = t.service.methods.find((m) => m.name === t.method)!;
      const messages = t.requests.map((r) => toBinary(method.input, create(method.input, r)));
      return { ...t, method, messages };
    });
    const mutation = fc
      .nat(variants.length - 1)
      .chain((i) =>
        fc
          .nat(variants[i].messages.length - 1)
          .chain((which) => fc.tuple(fc.constant(i), fc.constant(which), mutated(variants[i].messages[which]))),
      );
    const failures: string[] = [];
    let sent = 0;
    // Mutations that no longer parse as protobuf are refused by grpc-js before any handler; keep
    // drawing until RUNS mutations that do parse have been sent.
    for (let batch = 0; sent < RUNS && batch < 50; batch++) {
      for (const [index, which, bytes] of fc.sample(mutation, { numRuns: 1000, seed: 53 + batch })) {
        if (sent >= RUNS) break;
        const v = variants[index];
        let decoded;
        try {
          decoded = fromBinary(v.method.input, bytes);
        } catch {
          continue;
        }
        const requests = v.messages.map((m, i) => (i === which ? decoded : fromBinary(v.method.input, m)));
        const outcome: Outcome = await invoke(env.transport, v.service, v.method, requests, admin, 2);
        sent++;
        if (!outcome.ok && (outcome.error.codeName === 'INTERNAL' || outcome.error.codeName === 'UNKNOWN'))
          failures.push(`${v.method.name}: ${outcome.error.message}`);
      }
    }
    expect({ failures, serverErrors: serverErrors.slice(0, 3) }).toEqual({ failures: [], serverErrors: [] });
    expect(sent).toBe(RUNS);
    await expectHealthy();
  }, 300_000);

  async function expectHealthy(): Promise<void> {
    const health = await invoke(
      env.transport,
      PromptRegistryService,
      PromptRegistryService.methods.find((m) => m.name === 'ListBaseModels')!,
      [{}],
      admin,
    );
    expect(health.ok).toBe(true);
  }
});
