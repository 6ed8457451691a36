/**
 * Random requests against the real server: 2,000 generated messages (random protobuf bytes decoded
 * as each RPC's request type, plus near-valid field values) sent over loopback with full rights.
 * No call may end in INTERNAL or UNKNOWN (an unhandled error inside a service), and the server must
 * still answer afterwards.
 */
import { fromBinary, type DescMessage, type DescMethod, type DescService } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessService } from '../../services/gen/ptune/v1/access_pb.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { TrainingService } from '../../services/gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { invoke, startSecureServer, type SecureServer } from './support/secure-server.js';

const RUNS = 2_000;
const SERVICES: DescService[] = [PromptRegistryService, TrainingService, WorkerProtocolService, AccessService];
const CALLS: { service: DescService; method: DescMethod }[] = SERVICES.flatMap((service) => service.methods.map((method) => ({ service, method })));

describe('random requests against a real server', () => {
  let env: SecureServer;
  let admin: string;
  let worker: string;
  const serverErrors: string[] = [];
  beforeAll(async () => {
    env = await startSecureServer({ logger: pino({ level: 'error' }, { write: (line: string) => void serverErrors.push(line) }) });
    admin = await env.token('*', 'admin');
    worker = await env.token('*', 'worker');
  }, 60_000);
  afterAll(() => env?.close());

  it(`answers ${RUNS} random requests without an internal error`, async () => {
    const codes = new Map<string, number>();
    const failures: string[] = [];
    const message = (schema: DescMessage) => fc.uint8Array({ maxLength: 96 }).map((bytes) => {
      try {
        return fromBinary(schema, bytes);
      } catch {
        return undefined;
      }
    });
    const sample = fc.sample(
      fc.nat(CALLS.length - 1).chain((index) => fc.tuple(fc.constant(index), fc.array(message(CALLS[index].method.input), { minLength: 1, maxLength: 3 }))),
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
    const health = await invoke(env.transport, PromptRegistryService, PromptRegistryService.methods.find((m) => m.name === 'ListBaseModels')!, [{}], admin);
    expect(health.ok).toBe(true);
  }, 300_000);
});
