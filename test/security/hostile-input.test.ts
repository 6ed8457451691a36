/**
 * The contract holds under hostile input: every request message of every service, generated from
 * its descriptor (support/hostile-requests.ts: integer extremes, NaN/±Inf, empty, NUL and invalid
 * UTF-8 strings, oversized strings, bytes and repeated fields, unknown enum numbers, garbage and
 * truncated bytes), sent as raw wire bytes to a real server with authentication on and full rights.
 * No answer may be INTERNAL or UNKNOWN, nor UNAVAILABLE (which tells a client to retry a request
 * that can never succeed), nor carry server internals; a value no server may accept is
 * INVALID_ARGUMENT; and a refused call leaves every table's row count and the blob list as they
 * were. A new RPC is covered without new test code.
 */
import { create, fromBinary, toBinary, type DescMethod, type DescService } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessService } from '../../services/gen/ptune/v1/access_pb.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { TrainingService } from '../../services/gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { createClient, methodPath } from '../../services/grpc/index.js';
import { datasetBytes, promptBytes, registerModelRequests, tinyModelBytes, uploadRequests } from './fixtures.js';
import { hostileRequests } from './support/hostile-requests.js';
import { startSecureServer, type SecureServer } from './support/secure-server.js';

const SERVICES: DescService[] = [PromptRegistryService, TrainingService, WorkerProtocolService, AccessService];
/** Calls that wait for something (a lease, events) end at this deadline; DEADLINE_EXCEEDED is an answer. */
const CALL_DEADLINE_MS = 3_000;
/** What a client must never see: database, driver, runtime or grpc-js internals. */
const SERVER_DETAIL =
  /prisma|P\d{4}\b|postgres|pglite|invalid byte sequence|syntax error|\bsql\b|ECONN|node_modules|\/work\/|\.ts:\d|\bat \w+ \(|Error deserializing|TypeError|RangeError|undefined|\[object/i;

interface Answer {
  readonly code: grpc.status;
  readonly message: string;
}

/** Sends wire bytes as the request (each frame one message of a request stream) and reads at most one reply. */
function callRaw(channel: grpc.Client, method: DescMethod, frames: readonly Uint8Array[], token: string): Promise<Answer> {
  const path = methodPath(method);
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const options = { deadline: Date.now() + CALL_DEADLINE_MS };
  const identity = (bytes: Uint8Array): Buffer => Buffer.from(bytes);
  const decode = (bytes: Buffer) => fromBinary(method.output, bytes);
  const settle = (error: grpc.ServiceError | null): Answer =>
    error === null ? { code: grpc.status.OK, message: '' } : { code: error.code, message: error.details };
  return new Promise((resolve) => {
    switch (method.methodKind) {
      case 'unary':
        channel.makeUnaryRequest(path, identity, decode, frames[0], metadata, options, (error) => resolve(settle(error)));
        return;
      case 'client_streaming': {
        const call = channel.makeClientStreamRequest(path, identity, decode, metadata, options, (error) => resolve(settle(error)));
        for (const frame of frames) call.write(frame);
        call.end();
        return;
      }
      default: {
        const call =
          method.methodKind === 'server_streaming'
            ? channel.makeServerStreamRequest(path, identity, decode, frames[0], metadata, options)
            : channel.makeBidiStreamRequest(path, identity, decode, metadata, options);
        if (method.methodKind === 'bidi_streaming') {
          const duplex = call as grpc.ClientDuplexStream<Uint8Array, unknown>;
          for (const frame of frames) duplex.write(frame);
          duplex.end();
        }
        // one reply is enough to know the call was accepted (a watch never ends on its own)
        call.on('data', () => {
          resolve({ code: grpc.status.OK, message: '' });
          call.cancel();
        });
        call.on('error', (error: grpc.ServiceError) => resolve(settle(error)));
        call.on('end', () => resolve({ code: grpc.status.OK, message: '' }));
      }
    }
  });
}

describe('hostile input against every RPC (generated from the descriptors)', () => {
  let env: SecureServer;
  const tokens = { admin: '', worker: '' };

  beforeAll(async () => {
    env = await startSecureServer({ logger: pino({ level: 'error' }) });
    tokens.admin = await env.token('*', 'admin');
    tokens.worker = await env.token('*', 'worker');
    // some data for the requests to collide with: a model, a task with a version and an alias, a dataset
    const root = { metadata: { authorization: `Bearer ${tokens.admin}` } };
    const registry = createClient(PromptRegistryService, env.transport);
    const task = { namespace: 'hostile', name: 'target' };
    await registry.registerBaseModel(registerModelRequests('tiny', await tinyModelBytes()), root);
    await registry.createTask({ task }, root);
    await registry.createPromptVersion(
      { spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: promptBytes(2, 32) } },
      root,
    );
    await registry.setAlias({ task, alias: 'prod', version: 1 }, root);
    await createClient(TrainingService, env.transport).uploadDataset(uploadRequests(datasetBytes()), root);
  }, 120_000);
  afterAll(() => env?.close());

  for (const service of SERVICES) {
    for (const method of service.methods) {
      it(`${service.name}.${method.name}`, async () => {
        const token = service === WorkerProtocolService ? tokens.worker : tokens.admin;
        const failures: string[] = [];
        let before = await env.snapshot();
        for (const request of hostileRequests(method.input)) {
          const answer = await callRaw(env.transport.channel, method, [request.bytes], token);
          const code = grpc.status[answer.code];
          const what = `${request.label} → ${code} ${answer.message}`;
          if ([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.UNAVAILABLE].includes(answer.code)) failures.push(what);
          else if (request.invalid && answer.code !== grpc.status.INVALID_ARGUMENT) failures.push(`${what} (expected INVALID_ARGUMENT)`);
          else if (SERVER_DETAIL.test(answer.message)) failures.push(`${what} (server detail in the message)`);
          const after = await env.snapshot();
          // a request the server accepted may store something (an empty name list is a valid ListTasks); a refused one may not
          if (answer.code !== grpc.status.OK && after !== before) failures.push(`${what} (a refused call changed the database or blobs)`);
          before = after;
        }
        expect(failures).toEqual([]);
      }, 120_000);
    }
  }

  it('refuses a request stream whose later message is undecodable, and stores nothing', async () => {
    const method = TrainingService.method.uploadDataset;
    const before = await env.snapshot();
    const [header] = uploadRequests(datasetBytes());
    const headerBytes = toBinary(method.input, create(method.input, header));
    const answer = await callRaw(env.transport.channel, method, [headerBytes, Uint8Array.from([0x12, 0x05, 0x01])], tokens.admin);
    expect(grpc.status[answer.code]).toBe('INVALID_ARGUMENT');
    expect(answer.message).toMatch(/not a valid ptune\.v1\.UploadDatasetRequest/);
    expect(await env.snapshot()).toBe(before);
  });
});
