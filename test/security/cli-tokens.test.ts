/** `ptune tokens` and bootstrap, as a user runs them: real CLI processes. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerToken } from '../../services/auth/index.js';
import { newToken } from '../../services/auth/token-secret.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { invoke, startSecureServer, type SecureServer } from './support/secure-server.js';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');

async function ptune(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'services/cli/commands/engine/run-cli.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, PTUNE_TOKEN: '', PTUNE_CONFIG: '', ...env },
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('ptune tokens', () => {
  let env: SecureServer;
  let admin: string;
  beforeAll(async () => {
    env = await startSecureServer();
    admin = await env.token('team-a', 'admin');
  }, 60_000);
  afterAll(() => env?.close());

  it('creates (secret shown once), lists and revokes through the server', async () => {
    const server = ['--server', env.server.address];
    const created = await ptune(
      ['tokens', 'create', '--namespace', 'team-a', '--role', 'reader', '--description', 'dashboards', ...server],
      { PTUNE_TOKEN: admin },
    );
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^ptk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown only once/);
    const listModels = PromptRegistryService.methods.find((m) => m.name === 'ListBaseModels')!;
    expect((await invoke(env.transport, PromptRegistryService, listModels, [{}], secret)).ok).toBe(true);

    const listed = await ptune(['tokens', 'list', '--namespace', 'team-a', '--json', ...server], { PTUNE_TOKEN: admin });
    // --json is protobuf's JSON mapping of the RPC's response (ListTokensResponse), as for every command
    const { tokens } = JSON.parse(listed.stdout) as { tokens: { id: string; role: string; description: string; createdBy: string }[] };
    expect(tokens.find((t) => t.id === secret.slice(4, 16))).toMatchObject({
      role: 'TOKEN_ROLE_READER',
      description: 'dashboards',
      createdBy: expect.any(String),
    });
    expect(listed.stdout).not.toContain(secret.slice(17));

    expect((await ptune(['tokens', 'revoke', secret.slice(4, 16), ...server], { PTUNE_TOKEN: admin })).stdout).toMatch(/^revoked /);
    const after = await invoke(env.transport, PromptRegistryService, listModels, [{}], secret);
    expect(after.ok ? 'OK' : after.error.codeName).toBe('UNAUTHENTICATED');
  }, 60_000);

  it('refuses without a token, and outside the admin token’s namespace', async () => {
    const server = ['--server', env.server.address];
    const none = await ptune(['tokens', 'list', '--namespace', 'team-a', ...server]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/UNAUTHENTICATED: no token.*PTUNE_TOKEN/);
    const foreign = await ptune(['tokens', 'create', '--namespace', 'team-b', '--role', 'admin', ...server], { PTUNE_TOKEN: admin });
    expect(foreign.stderr).toMatch(/PERMISSION_DENIED: .*scoped to namespace team-a, not team-b/);
  }, 60_000);

  it('bootstraps the first admin token directly on an embedded database', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-bootstrap-'));
    try {
      const created = await ptune(['tokens', 'create', '--namespace', '*', '--role', 'admin', '--data-dir', dir]);
      expect(created.code).toBe(0);
      expect(created.stdout.trim()).toMatch(/^ptk_/);
      const audit = await ptune(['audit', '--namespace', '*', '--data-dir', dir, '--json']);
      expect(JSON.parse(audit.stdout).events).toEqual([
        expect.objectContaining({ actor: 'local', action: 'token.create', target: created.stdout.trim().slice(4, 16) }),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('registers a pre-generated token (--from-env): refuses malformed text, is idempotent, refuses a conflicting secret', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-from-env-'));
    const worker = ['tokens', 'create', '--namespace', '*', '--role', 'worker', '--from-env', 'WORKER_TOKEN', '--data-dir', dir];
    const token = newToken().text;
    try {
      const unset = await ptune(worker);
      expect(unset.code).not.toBe(0);
      expect(unset.stderr).toMatch(/--from-env WORKER_TOKEN: the environment variable WORKER_TOKEN is not set/);
      for (const bad of ['dev-only-worker-token', `${token}x`, `ptk_ABCDEFGHIJKL_${token.slice(17)}`]) {
        const malformed = await ptune(worker, { WORKER_TOKEN: bad });
        expect(malformed.code, bad).not.toBe(0);
        expect(malformed.stderr, bad).toMatch(
          /INVALID_ARGUMENT: --from-env WORKER_TOKEN: not a well-formed token \(expected ptk_<12 characters a-z0-9>_<43 characters base64url>/,
        );
        expect(malformed.stderr, bad).not.toContain(bad);
      }
      const notWorkerNamespace = await ptune(
        ['tokens', 'create', '--namespace', 'team-a', '--role', 'worker', '--from-env', 'WORKER_TOKEN', '--data-dir', dir],
        { WORKER_TOKEN: token },
      );
      expect(notWorkerNamespace.stderr).toMatch(/INVALID_ARGUMENT: role: worker tokens .*namespace must be "\*"/);

      const first = await ptune([...worker, '--json'], { WORKER_TOKEN: `${token}\n` });
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({
        token: { id: token.slice(4, 16), role: 'TOKEN_ROLE_WORKER', namespace: '*', createdBy: 'local' },
        created: true,
      });
      expect(first.stdout).not.toMatch(/"[a-z]+_[a-z_]+":/); // lowerCamelCase keys only (was snake_case)
      expect(first.stdout).not.toContain(token.slice(17));
      const again = await ptune(worker, { WORKER_TOKEN: token });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe(`already registered, unchanged: token ${token.slice(4, 16)} (worker in *)\n`);

      const sameIdOtherSecret = `${token.slice(0, 17)}${newToken().secret}`;
      const conflict = await ptune(worker, { WORKER_TOKEN: sameIdOtherSecret });
      expect(conflict.code).not.toBe(0);
      expect(conflict.stderr).toMatch(
        new RegExp(`ALREADY_EXISTS: --from-env WORKER_TOKEN: token ${token.slice(4, 16)} already exists with a different secret`),
      );
      const otherRole = await ptune(
        ['tokens', 'create', '--namespace', '*', '--role', 'admin', '--from-env', 'WORKER_TOKEN', '--data-dir', dir],
        { WORKER_TOKEN: token },
      );
      expect(otherRole.stderr).toMatch(/ALREADY_EXISTS: .* already exists as role worker in namespace "\*"/);

      const listed = JSON.parse((await ptune(['tokens', 'list', '--data-dir', dir, '--json'])).stdout) as { tokens: { id: string }[] };
      expect(listed.tokens.map((t) => t.id)).toEqual([token.slice(4, 16)]);
      const audit = JSON.parse((await ptune(['audit', '--namespace', '*', '--data-dir', dir, '--json'])).stdout) as {
        events: { action: string }[];
      };
      expect(audit.events.map((e) => e.action)).toEqual(['token.create']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('refuses --from-env through a server (a server mints its own secrets)', async () => {
    const run = await ptune(
      ['tokens', 'create', '--namespace', '*', '--role', 'worker', '--from-env', 'WORKER_TOKEN', '--server', env.server.address],
      { PTUNE_TOKEN: admin, WORKER_TOKEN: newToken().text },
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--from-env works only directly on the database \(--database-url or --data-dir\)/);
  }, 60_000);

  it('a registered token authenticates with its role, like a minted one', async () => {
    const text = newToken().text;
    await registerToken(env.prisma, { text, source: 'test', namespace: 'team-a', role: 'reader', createdBy: 'test' });
    const listModels = PromptRegistryService.methods.find((m) => m.name === 'ListBaseModels')!;
    expect((await invoke(env.transport, PromptRegistryService, listModels, [{}], text)).ok).toBe(true);
    const register = PromptRegistryService.methods.find((m) => m.name === 'RegisterBaseModel')!;
    const refused = await invoke(env.transport, PromptRegistryService, register, [{}], text);
    expect(refused.ok ? 'OK' : refused.error.codeName).toBe('PERMISSION_DENIED');
  }, 60_000);
});
