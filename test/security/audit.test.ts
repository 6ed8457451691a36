/**
 * Every successful write is recorded with who, what and when, and can be listed per namespace —
 * over gRPC and with `ptune audit`. Refused writes record nothing.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessService, TokenRole } from '../../services/gen/ptune/v1/access_pb.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { TrainingService } from '../../services/gen/ptune/v1/training_pb.js';
import { createClient } from '../../services/grpc/index.js';
import { datasetBytes, promptBytes, registerModelRequests, tinyModelBytes, uploadRequests } from './fixtures.js';
import { startSecureServer, type SecureServer } from './support/secure-server.js';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');

describe('audit log', () => {
  let env: SecureServer;
  let admin: string;
  let trainer: string;
  const task = { namespace: 'alpha', name: 'audited' };
  const as = (token: string) => ({ metadata: { authorization: `Bearer ${token}` } });
  const id = (token: string): string => token.slice(4, 16);

  beforeAll(async () => {
    env = await startSecureServer({ tokenCacheMs: 60_000 }); // the production path: resolved tokens cached
    admin = await env.token('alpha', 'admin');
    trainer = await env.token('alpha', 'trainer');
    const registry = createClient(PromptRegistryService, env.transport);
    const training = createClient(TrainingService, env.transport);
    const access = createClient(AccessService, env.transport);
    await registry.registerBaseModel(registerModelRequests('tiny', await tinyModelBytes()), as(admin));
    await registry.createTask({ task }, as(trainer));
    await registry.createPromptVersion(
      { spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: promptBytes(2, 32, 1) } },
      as(trainer),
    );
    await registry.createPromptVersion(
      { spec: { task, baseModel: 'tiny' }, payload: { case: 'safetensors', value: promptBytes(2, 32, 2) } },
      as(trainer),
    );
    await registry.setAlias({ task, alias: 'prod', version: 1, reason: 'first', updatedBy: 'mallory' }, as(admin));
    await registry.setAlias({ task, alias: 'prod', version: 2, reason: 'better' }, as(admin));
    await registry.deleteAlias({ task, alias: 'prod' }, as(admin));
    await registry.deletePromptVersion({ version: { task, version: 1 } }, as(admin));
    const dataset = (await training.uploadDataset(uploadRequests(datasetBytes()), as(trainer))).dataset!.sha256;
    const ref = { source: { case: 'sha256' as const, value: dataset } };
    const job = (
      await training.trainPrompt(
        { baseModel: 'tiny', tasks: [{ task, train: ref, eval: ref }], optimizer: { steps: 2, batchSize: 2 } },
        as(trainer),
      )
    ).job!;
    await training.cancelJob({ jobId: job.id, reason: 'enough' }, as(trainer));
    const made = await access.createToken({ namespace: 'alpha', role: TokenRole.READER, description: 'ci' }, as(admin));
    await access.revokeToken({ id: made.token!.id }, as(admin));
    // refused: a reader cannot move an alias, and nothing is recorded for it
    await registry.setAlias({ task, alias: 'prod', version: 2 }, as(await env.token('alpha', 'reader'))).catch(() => undefined);
  }, 120_000);
  afterAll(() => env?.close());

  it('records every write with actor, action and target, newest first', async () => {
    const { events } = await createClient(AccessService, env.transport).listAuditEvents({ namespace: 'alpha' }, as(admin));
    const lines = events
      .map((e) => `${e.actor} ${e.action} ${e.target.replace(/^[0-9a-f-]{36}$|^[a-z0-9]{12}$|^[0-9a-f]{64}$/, '<id>')}`)
      .reverse();
    expect(lines).toEqual([
      `${id(admin)} base_model.register tiny`,
      `${id(trainer)} task.create alpha/audited`,
      `${id(trainer)} prompt_version.create alpha/audited@1`,
      `${id(trainer)} prompt_version.create alpha/audited@2`,
      `${id(admin)} alias.set alpha/audited:prod`,
      `${id(admin)} alias.set alpha/audited:prod`,
      `${id(admin)} alias.delete alpha/audited:prod`,
      `${id(admin)} prompt_version.delete alpha/audited@1`,
      `${id(trainer)} dataset.upload <id>`,
      `${id(trainer)} job.create <id>`,
      `${id(trainer)} job.cancel <id>`,
      `${id(admin)} token.create <id>`,
      `${id(admin)} token.revoke <id>`,
    ]);
    const moves = events
      .filter((e) => e.action === 'alias.set')
      .map((e) => JSON.parse(e.detailsJson) as Record<string, unknown>)
      .reverse();
    expect(moves).toEqual([
      { from: 0, to: 1, reason: 'first' },
      { from: 1, to: 2, reason: 'better' },
    ]);
    expect(events.every((e) => e.at !== undefined && e.namespace === 'alpha' && e.outcome === 'ok')).toBe(true);
  });

  it('stamps rows with the token, not with the name the client claims', async () => {
    const registry = createClient(PromptRegistryService, env.transport);
    const history = await registry.getAliasHistory({ task, alias: 'prod' }, as(admin));
    expect(new Set(history.changes.map((c) => c.changedBy))).toEqual(new Set([`token:${id(admin)}`]));
    const { versions } = await registry.listPromptVersions({ task }, as(admin));
    expect(versions.map((v) => v.createdBy)).toEqual(versions.map(() => `token:${id(trainer)}`));
  });

  it('pages back in time', async () => {
    const access = createClient(AccessService, env.transport);
    const first = await access.listAuditEvents({ namespace: 'alpha', pageSize: 5 }, as(admin));
    const second = await access.listAuditEvents({ namespace: 'alpha', pageSize: 5, pageToken: first.nextPageToken }, as(admin));
    expect(first.events).toHaveLength(5);
    expect(second.events[0].id).toBeLessThan(first.events[4].id);
  });

  it('is listed by `ptune audit --namespace`', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'services/cli/commands/engine/run-cli.ts',
        'audit',
        '--namespace',
        'alpha',
        '--server',
        env.server.address,
        '--json',
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, PTUNE_TOKEN: admin, PTUNE_CONFIG: '' },
      },
    );
    const { events } = JSON.parse(stdout) as { events: { action: string; actor: string }[] };
    expect(events).toHaveLength(13);
    expect(events[0]).toMatchObject({ action: 'token.revoke', actor: id(admin) });
  }, 60_000);
});
