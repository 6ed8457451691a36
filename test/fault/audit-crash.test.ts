/**
 * kill -9 of the server while an audited write runs: the audit log keeps the write as "started"
 * (it may or may not have happened) instead of losing it, and the write itself left nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessService } from '../../services/gen/ptune/v1/access_pb.js';
import {
  PayloadFormat,
  PromptRegistryService,
  type CreatePromptVersionStreamRequestSchema,
} from '../../services/gen/ptune/v1/registry_pb.js';
import { createClient, createGrpcTransport, type GrpcTransport } from '../../services/grpc/index.js';
import { promptBytes, registerModelRequests, sha256, tinyModelBytes } from '../security/fixtures.js';
import { freePort } from '../support/free-port.js';
import { startChild, waitFor, type Child } from './support/processes.js';

type UploadMessage = MessageInitShape<typeof CreatePromptVersionStreamRequestSchema>;

describe('kill -9 during an audited write (real server process, embedded database)', () => {
  let dir: string;
  let port: number;
  let server: Child | undefined;
  let transport: GrpcTransport | undefined;

  const start = async (): Promise<{
    registry: ReturnType<typeof createClient<typeof PromptRegistryService>>;
    access: ReturnType<typeof createClient<typeof AccessService>>;
  }> => {
    const child = startChild('ptune-cli.ts', ['serve', '--data-dir', dir, '--port', String(port), '--http-port', '0', '--workers', '0']);
    server = child;
    await waitFor(
      'the server to listen',
      async () => (child.output().includes('ptune serving on') ? true : undefined),
      60_000,
      () => child.output(),
    );
    transport?.close();
    transport = createGrpcTransport(`127.0.0.1:${port}`);
    return { registry: createClient(PromptRegistryService, transport), access: createClient(AccessService, transport) };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-audit-crash-'));
    port = await freePort();
  });
  afterAll(async () => {
    transport?.close();
    await server?.kill9();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the interrupted write as "started" and stores no version', async () => {
    const task = { namespace: 'default', name: 'crash' };
    let { registry, access } = await start();
    await registry.registerBaseModel(registerModelRequests('tiny', await tinyModelBytes()));
    await registry.createTask({ task });

    // an upload that sends its header and half its bytes, then stalls
    const file = promptBytes(64, 32, 7);
    let stall: () => void = () => undefined;
    async function* upload(): AsyncGenerator<UploadMessage> {
      yield {
        part: {
          case: 'header',
          value: {
            spec: { task, baseModel: 'tiny' },
            format: PayloadFormat.SAFETENSORS,
            sizeBytes: BigInt(file.length),
            expectedSha256: sha256(file),
          },
        },
      };
      yield { part: { case: 'chunk', value: file.subarray(0, file.length / 2) } };
      await new Promise<void>((resolve) => (stall = resolve));
    }
    const pending = registry.createPromptVersionStream(upload()).catch((err: unknown) => err);
    const started = await waitFor('the write to be recorded as started', async () => {
      const { events } = await access.listAuditEvents({ namespace: 'default' });
      return events.find((e) => e.action === 'prompt_version.create' && e.outcome === 'started');
    });
    expect(started.target).toBe('default/crash@?');

    await server!.kill9();
    stall();
    expect(await pending).toBeInstanceOf(Error);

    ({ registry, access } = await start());
    const { events } = await access.listAuditEvents({ namespace: 'default' });
    expect(events.map((e) => `${e.action} ${e.outcome}`).reverse()).toEqual(['task.create ok', 'prompt_version.create started']);
    expect((await registry.listPromptVersions({ task })).versions).toEqual([]);

    // the next write is recorded whole
    await registry.createPromptVersion({ spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: file } });
    const after = await access.listAuditEvents({ namespace: 'default', pageSize: 1 });
    expect(after.events.map((e) => `${e.action} ${e.target} ${e.outcome}`)).toEqual(['prompt_version.create default/crash@1 ok']);
  }, 180_000);
});
