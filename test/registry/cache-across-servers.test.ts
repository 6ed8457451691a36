/**
 * GetPrompt's resolution cache with several servers over one Postgres database: a change made
 * anywhere (another server, a coordinator, plain SQL) reaches every server's cache at its commit
 * through the database's NOTIFY, and a server whose LISTEN connection was lost drops what it cached.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { createClient, createGrpcTransport, type GrpcTransport } from '../../services/grpc/index.js';
import { PROMPT_CHANGES_CHANNEL } from '../../services/registry/index.js';
import { registryModule } from '../../services/registry/server-module.js';
import { startServer, type RunningServer } from '../../services/server/index.js';
import { startBackend, TEST_UNARY_LIMIT, type RegistryBackend, type RegistryClient } from './backends.js';
import { expectRpcError } from './expect-rpc.js';
import { createTask, promptFile, pushRequest, registerTiny, TINY } from './fixtures.js';

async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('GetPrompt resolution cache across servers over one Postgres', () => {
  let a: RegistryBackend;
  let b: RunningServer;
  let bClient: RegistryClient;
  let bTransport: GrpcTransport;
  let dir: string;

  beforeAll(async () => {
    a = await startBackend('postgres+s3');
    await registerTiny(a.client);
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-cache-b-'));
    b = await startServer({
      modules: [registryModule({ unaryLimitBytes: TEST_UNARY_LIMIT })],
      databaseUrl: a.server.context.database.url,
      blobs: a.blobs,
      dataDir: dir,
      port: 0,
      logger: pino({ level: 'silent' }),
    });
    bTransport = createGrpcTransport(b.address);
    bClient = createClient(PromptRegistryService, bTransport);
  }, 120_000);
  afterAll(async () => {
    bTransport?.close();
    await b?.close();
    await a?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const versionOn =
    (client: RegistryClient, task: string, selector: { case: 'alias'; value: string } | { case: 'latest'; value: true }) => async () =>
      (await client.getPrompt({ prompt: { task: { namespace: 'test', name: task }, selector } })).version?.version;
  const production = { case: 'alias', value: 'production' } as const;
  const latest = { case: 'latest', value: true } as const;

  it('sees alias moves, new versions and alias deletes made through another server', async () => {
    await createTask(a.client, 'across');
    await a.client.createPromptVersion(pushRequest('across', promptFile(2, TINY.hidden, { seed: 1 }), { alias: 'production' }));
    const onB = versionOn(bClient, 'across', production);
    expect([await onB(), await onB()]).toEqual([1, 1]);
    await a.client.createPromptVersion(pushRequest('across', promptFile(2, TINY.hidden, { seed: 2 })));
    await a.client.setAlias({ task: { namespace: 'test', name: 'across' }, alias: 'production', version: 2 });
    await until('B to serve production = 2', onB, (v) => v === 2);
    await until('B to serve latest = 2', versionOn(bClient, 'across', latest), (v) => v === 2);
    await a.client.deleteAlias({ task: { namespace: 'test', name: 'across' }, alias: 'production' });
    await until(
      'B to refuse the deleted alias',
      () =>
        onB().then(
          () => 'served',
          () => 'refused',
        ),
      (v) => v === 'refused',
    );
    await expectRpcError(onB(), status.NOT_FOUND, 'has no alias "production"');
  });

  it('sees a change written straight to the database (another process), on every server', async () => {
    await createTask(a.client, 'sql');
    await a.client.createPromptVersion(pushRequest('sql', promptFile(2, TINY.hidden, { seed: 3 }), { alias: 'production' }));
    await a.client.createPromptVersion(pushRequest('sql', promptFile(2, TINY.hidden, { seed: 4 })));
    const onA = versionOn(a.client, 'sql', production);
    const onB = versionOn(bClient, 'sql', production);
    expect([await onA(), await onB()]).toEqual([1, 1]);
    await a.prisma.$executeRaw`
      UPDATE alias SET version_id = (SELECT v.id FROM prompt_version v JOIN task t ON t.id = v.task_id WHERE t.name = 'sql' AND v.version = 2)
       WHERE name = 'production' AND task_id = (SELECT id FROM task WHERE name = 'sql')`;
    await until('A to serve 2', onA, (v) => v === 2);
    await until('B to serve 2', onB, (v) => v === 2);
  });

  it('drops its cache when its LISTEN connection is lost, so a change it could not hear is still seen', async () => {
    await createTask(a.client, 'lost');
    await a.client.createPromptVersion(pushRequest('lost', promptFile(2, TINY.hidden, { seed: 5 }), { alias: 'production' }));
    await a.client.createPromptVersion(pushRequest('lost', promptFile(2, TINY.hidden, { seed: 6 })));
    const onB = versionOn(bClient, 'lost', production);
    expect(await onB()).toBe(1);
    // End every listener's session, then change the alias at once, while they are reconnecting.
    const ended = await a.prisma.$queryRawUnsafe<{ ended: boolean }[]>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1`,
      `ptune listen ${PROMPT_CHANGES_CHANNEL}`,
    );
    expect(ended.length).toBe(2);
    await a.prisma.$executeRaw`
      UPDATE alias SET version_id = (SELECT v.id FROM prompt_version v JOIN task t ON t.id = v.task_id WHERE t.name = 'lost' AND v.version = 2)
       WHERE name = 'production' AND task_id = (SELECT id FROM task WHERE name = 'lost')`;
    await until('B to serve 2', onB, (v) => v === 2);
  });
});
