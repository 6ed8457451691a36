/** `ptune tokens` and bootstrap, as a user runs them: real CLI processes. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { invoke, startSecureServer, type SecureServer } from './support/secure-server.js';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');

async function ptune(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'services/cli/commands/engine/run-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, PTUNE_TOKEN: '', PTUNE_CONFIG: '', ...env } });
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
    const created = await ptune(['tokens', 'create', '--namespace', 'team-a', '--role', 'reader', '--description', 'dashboards', ...server], { PTUNE_TOKEN: admin });
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^ptk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown only once/);
    const listModels = PromptRegistryService.methods.find((m) => m.name === 'ListBaseModels')!;
    expect((await invoke(env.transport, PromptRegistryService, listModels, [{}], secret)).ok).toBe(true);

    const listed = await ptune(['tokens', 'list', '--namespace', 'team-a', '--json', ...server], { PTUNE_TOKEN: admin });
    const tokens = JSON.parse(listed.stdout) as { id: string; role: string; description: string }[];
    expect(tokens.find((t) => t.id === secret.slice(4, 16))).toMatchObject({ role: 'reader', description: 'dashboards' });
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
      expect(JSON.parse(audit.stdout)).toEqual([expect.objectContaining({ actor: 'local', action: 'token.create', target: created.stdout.trim().slice(4, 16) })]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
