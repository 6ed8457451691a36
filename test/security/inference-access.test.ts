/**
 * Inference inside `ptune serve` with authentication on: the module loads its base model from the
 * server itself on the first request (metadata with its in-process reader token, files with the
 * in-process worker token), and every call is held to the registry's rules with the caller's own
 * token: a reader of the task's namespace may use its prompts, a reader of another namespace may
 * not (403 over HTTP), no token is UNAUTHENTICATED (401), and any reader may use the bare model.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, withAccessControl } from '../../services/auth/index.js';
import { allInOneModules } from '../../services/cli/commands/all-in-one.js';
import { connect, pushPrompt, weightsUpload, type PtuneClient } from '../../services/client/index.js';
import { encodePromptFile, writeGeneratedModel } from '../../services/engine/index.js';
import { RpcError } from '../../services/grpc/index.js';
import { servedFromRegistry } from './support/served-model.js';
import { startServer, type RunningServer } from '../../services/server/index.js';

let dir: string;
let server: RunningServer;
const tokens = { admin: '', reader: '', foreign: '' };
const clients: PtuneClient[] = [];
const as = (token: string): PtuneClient => {
  const client = connect(server.address, { token });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-inference-access-'));
  const model = await writeGeneratedModel('tiny', 3, path.join(dir, 'tiny.gguf'));
  const served = servedFromRegistry('tiny', path.join(dir, 'cache'));
  const modules = allInOneModules({ workers: { count: 0 }, sweeper: { intervalMs: 0 }, inference: served.inference });
  server = await startServer({
    modules: withAccessControl(modules, { authenticate: true, host: '127.0.0.1', tokenCacheMs: 0, processTokens: served.processTokens }),
    dataDir: path.join(dir, 'data'),
    port: 0,
    httpPort: 0,
    logger: pino({ level: 'silent' }),
  });
  const prisma = server.context.prisma;
  tokens.admin = (await createToken(prisma, { namespace: 'team-a', role: 'admin', createdBy: 'test' })).text;
  tokens.reader = (await createToken(prisma, { namespace: 'team-a', role: 'reader', createdBy: 'test' })).text;
  tokens.foreign = (await createToken(prisma, { namespace: 'team-b', role: 'reader', createdBy: 'test' })).text;
  const admin = as(tokens.admin);
  await admin.registry.registerBaseModel(weightsUpload('tiny', model.path, (await stat(model.path)).size, 'test'));
  const task = { namespace: 'team-a', name: 'feelings' };
  await admin.registry.createTask({ task });
  await pushPrompt(
    admin.registry,
    { task, baseModel: 'tiny', alias: 'production' },
    { kind: 'safetensors', bytes: encodePromptFile(new Float32Array(4 * 32).fill(0.01), 32, {}) },
  );
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close(1000);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const request = (prompt: boolean) => ({
  ...(prompt
    ? { prompt: { task: { namespace: 'team-a', name: 'feelings' }, selector: { case: 'alias' as const, value: 'production' } } }
    : {}),
  input: { kind: { case: 'text' as const, value: 'hello' } },
  sampling: { maxTokens: 3 },
});

async function code(client: PtuneClient, prompt: boolean): Promise<status> {
  try {
    for await (const message of client.inference.generate(request(prompt))) void message;
    return status.OK;
  } catch (err) {
    if (err instanceof RpcError) return err.code;
    throw err;
  }
}

describe('inference behind the access guard', () => {
  it("a reader of the task's namespace may use its prompt; another namespace's reader may use only the bare model", async () => {
    expect(await code(as(tokens.reader), true)).toBe(status.OK);
    expect(await code(as(tokens.foreign), true)).toBe(status.PERMISSION_DENIED);
    expect(await code(as(tokens.foreign), false)).toBe(status.OK);
    expect(await code(as('ptk_nope_nope'), false)).toBe(status.UNAUTHENTICATED);
    const reply = await as(tokens.reader).inference.score({ ...request(true), inputs: [request(true).input], candidates: [' a', ' b'] });
    expect(reply.results[0].logProbabilities).toHaveLength(2);
  });

  it('over HTTP: 401 without a token, 403 for another namespace, 200 for its reader', async () => {
    const post = (token: string | undefined) =>
      fetch(`http://127.0.0.1:${server.httpPort}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ model: 'team-a/feelings@production', prompt: 'hello', max_tokens: 2, temperature: 0 }),
      });
    const none = await post(undefined);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { type: 'authentication_error' } });
    expect((await post(tokens.foreign)).status).toBe(403);
    const ok = await post(tokens.reader);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ model: 'team-a/feelings@v1', usage: { completion_tokens: 2 } });
  });
});
