import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintProcessWorkerToken, withAccessControl } from '../auth/index.js';
import { openClientTransport } from '../client/index.js';
import { JobState, TrainingService } from '../gen/ptune/v1/training_pb.js';
import { createClient } from '../grpc/index.js';
import { createLogger } from '../observability/index.js';
import { allInOneModules } from '../cli/commands/all-in-one.js';
import { startServer, type RunningServer } from '../server/index.js';
import { mintQuickstartToken, quickstartPlan, runQuickstart, type QuickstartOptions } from './index.js';

/**
 * A real all-in-one server (embedded database, one in-process worker) and the quick-start against it,
 * with few steps: without authentication (what `npm start` runs) and with tokens required.
 */
describe.each([{ authenticate: false }, { authenticate: true }])('runQuickstart (authentication $authenticate)', ({ authenticate }) => {
  const workerToken = mintProcessWorkerToken();
  const token = mintQuickstartToken();
  let dir: string;
  let server: RunningServer;
  let options: Omit<QuickstartOptions, 'out'>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-quickstart-'));
    const modules = allInOneModules({ workers: { count: 1, connection: { token: workerToken.text } } });
    server = await startServer({
      dataDir: dir,
      port: 0,
      logger: createLogger({ component: 'test', level: 'warn' }),
      modules: withAccessControl(modules, { authenticate, host: '127.0.0.1', processTokens: [workerToken, token] }),
    });
    options = {
      server: server.address,
      connection: { token: token.text },
      dataDir: dir,
      plan: (kind) => ({ ...quickstartPlan(kind), steps: 6, checkpointEverySteps: 3 }),
    };
  });

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async (): Promise<{ text: string; result: Awaited<ReturnType<typeof runQuickstart>> }> => {
    let text = '';
    const result = await runQuickstart({ ...options, out: { write: (chunk: string) => (text += chunk) } });
    return { text, result };
  };

  it('trains both example tasks with the sweep and points production at the best trial of each', async () => {
    const { text, result } = await run();
    expect(result?.job?.state).toBe(JobState.SUCCEEDED);
    expect(result!.job!.trials.map((t) => `${t.task?.name} ${t.point?.optimizer?.learningRate}`).sort()).toEqual([
      'feelings 0.03',
      'feelings 0.1',
      'names 0.03',
      'names 0.1',
    ]);
    expect(result!.versions.map((v) => [v.task?.name, v.version, v.aliases, v.lineage?.jobId])).toEqual([
      ['feelings', 1, ['production'], result!.job!.id],
      ['names', 1, ['production'], result!.job!.id],
    ]);
    for (const r of result!.job!.results) {
      const best = Math.min(...result!.job!.trials.filter((t) => t.task?.name === r.task?.name).map((t) => t.metrics.eval_loss));
      expect(r.selectionMetricValue).toBe(best);
    }
    expect(text.match(/done: eval_loss/g)).toHaveLength(4);
    expect(text).toContain(`job ${result!.job!.id}: 4 trials (submitted;`); // a new job, whatever state the workers put it in already
    expect(text).toContain(`npx ptune jobs plot ${result!.job!.id} --out loss.png --server ${server.address}`);
    expect(text).toContain(
      `npx ptune generate --model ${path.relative(process.cwd(), path.join(dir, 'models', 'demo.gguf')).startsWith('..') ? path.join(dir, 'models', 'demo.gguf') : path.relative(process.cwd(), path.join(dir, 'models', 'demo.gguf'))}`,
    );
  });

  it('a second run finds the production prompts and trains nothing', async () => {
    const { text, result } = await run();
    expect(result?.job).toBeUndefined();
    expect(result!.versions.map((v) => [v.task?.name, v.version])).toEqual([
      ['feelings', 1],
      ['names', 1],
    ]);
    expect(text).toContain('already have "production" prompts');
    const transport = openClientTransport(server.address, { token: token.text });
    try {
      expect((await createClient(TrainingService, transport).listJobs({})).jobs).toHaveLength(1);
    } finally {
      transport.close();
    }
  });
});
