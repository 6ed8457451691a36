/** In-process workers authenticate with a credential that exists only in the server process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintProcessWorkerToken, type ProcessToken } from '../../services/auth/index.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { invoke, startSecureServer, type SecureServer } from './support/secure-server.js';

describe('process-local worker token', () => {
  let env: SecureServer;
  let token: ProcessToken;
  beforeAll(async () => {
    token = mintProcessWorkerToken();
    env = await startSecureServer({ processTokens: [token] });
  }, 60_000);
  afterAll(() => env?.close());

  it('opens the worker protocol, nothing else, and is stored nowhere', async () => {
    const register = WorkerProtocolService.methods.find((m) => m.name === 'RegisterWorker')!;
    const list = PromptRegistryService.methods.find((m) => m.name === 'ListBaseModels')!;
    const registered = await invoke(env.transport, WorkerProtocolService, register, [{ name: 'inside' }], token.text);
    expect(registered.ok).toBe(true);
    const listed = await invoke(env.transport, PromptRegistryService, list, [{}], token.text);
    expect(listed.ok ? 'OK' : listed.error.codeName).toBe('PERMISSION_DENIED');
    expect(await env.prisma.apiToken.count()).toBe(0);
    const other = await invoke(env.transport, WorkerProtocolService, register, [{ name: 'outside' }], mintProcessWorkerToken().text);
    expect(other.ok ? 'OK' : other.error.codeName).toBe('UNAUTHENTICATED');
  });
});
