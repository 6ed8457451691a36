/**
 * The README's quick start, end to end, on a clean copy of the repository:
 *
 *   git clone <this repository>    the committed HEAD (uncommitted changes are not part of the test)
 *   npm ci                         see NODE_MODULES below
 *   npm start                      with a temporary PTUNE_DATA_DIR and a free PTUNE_PORT / PTUNE_HTTP_PORT
 *
 * then the real `ptune` CLI against the running server (prompts list / get --alias production,
 * jobs list, jobs plot), Ctrl-C (SIGINT to the process group, as a terminal sends it), and a second
 * `npm start` on the same data, which must reuse it without training again.
 *
 * NODE_MODULES: by default the clone gets a symlink to this checkout's node_modules (installed by
 * `npm ci` from the same lockfile) and runs `npm run build`, which is what `npm ci` runs through
 * `prepare`; that saves ~1.5 minutes and the network. PTUNE_E2E_NPM_CI=1 runs a real `npm ci` instead.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const isCheckout = existsSync(path.join(repoRoot, '.git'));
const run = promisify(execFile);

const FIRST_START_MS = 8 * 60_000;
const READY = /^ptune is ready: serving on /m;
const FAILED = /quick start failed: .*|worker stopped with an error.*/;

/** `npm start` in its own process group, with its output collected. */
class NpmStart {
  readonly child: ChildProcess;
  output = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('npm', ['start'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves when the output matches; fails when the quick start fails, the process exits, or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (!pattern.test(this.output)) {
      const failure =
        FAILED.exec(this.output)?.[0] ??
        (exited ? 'npm start exited' : Date.now() > deadline ? `no ${pattern} within ${timeoutMs / 1000} s` : undefined);
      if (failure) throw new Error(`${failure}; output so far:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Ctrl-C: SIGINT to the whole process group (npm, the shell, node); resolves with how it ended. */
  async interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    process.kill(-this.child.pid!, 'SIGINT');
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`npm start did not exit within 60 s of SIGINT; output:\n${this.output}`)), 60_000),
    );
    return Promise.race([this.exited, timeout]);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(-this.child.pid!, 'SIGKILL');
  }
}

describe.skipIf(!isCheckout)('quick start from a clean clone (npm start)', () => {
  let work: string;
  let clone: string;
  let env: NodeJS.ProcessEnv;
  let server: string;
  const started: NpmStart[] = [];

  const ptune = async (...args: string[]): Promise<string> =>
    (await run(process.execPath, ['bin/ptune.js', ...args, '--server', server], { cwd: clone })).stdout;
  const ptuneJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await ptune(...args, '--json')) as T;
  const start = (): NpmStart => {
    const npm = new NpmStart(clone, env);
    started.push(npm);
    return npm;
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptune-e2e-'));
    clone = path.join(work, 'ptune');
    await run('git', ['clone', '--quiet', repoRoot, clone]);
    if (process.env.PTUNE_E2E_NPM_CI === '1') {
      await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: clone, maxBuffer: 64 << 20 });
    } else {
      await symlink(path.join(repoRoot, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
      await run('npm', ['run', 'build'], { cwd: clone, maxBuffer: 64 << 20 });
    }
    const port = await freePort();
    server = `127.0.0.1:${port}`;
    const { PTUNE_LOG_LEVEL: _level, PTUNE_MODEL: _model, PTUNE_AUTH: _auth, PTUNE_WORKERS: _workers, ...inherited } = process.env;
    // the HTTP port (inference endpoint) is free too: 8080 may be taken on a shared machine
    env = { ...inherited, PTUNE_DATA_DIR: path.join(work, 'data'), PTUNE_PORT: String(port), PTUNE_HTTP_PORT: String(await freePort()) };
  }, 10 * 60_000);

  afterAll(async () => {
    for (const npm of started) npm.kill();
    if (work) await rm(work, { recursive: true, force: true });
  });

  let jobId: string;

  it('trains the example prompts on an empty data directory, then keeps serving', async () => {
    const npm = start();
    await npm.waitFor(READY, FIRST_START_MS);
    const out = npm.output;
    expect(out).toContain('quick start: training "production" prompts for default/feelings and default/names');
    jobId = /job ([0-9a-f-]{36}): 4 trials/.exec(out)![1];
    for (const trial of ['feelings lr=0.03 vt=8', 'feelings lr=0.1 vt=8', 'names lr=0.03 vt=8', 'names lr=0.1 vt=8']) {
      expect(out).toMatch(new RegExp(`${trial.replace(/\./g, '\\.')}\\s+done: eval_loss \\d`));
    }
    expect(out).toMatch(/│ default\/feelings │ 1 +│ production │ demo/);
    expect(out).toMatch(/│ default\/names +│ 1 +│ production │ demo/);
    expect(out).toContain(`npx ptune jobs plot ${jobId} --out loss.png --server ${server}`);

    // the printed curl line answers with the trained prompt (the README's promise), here through fetch
    const web = `http://127.0.0.1:${env.PTUNE_HTTP_PORT}/`;
    expect(out).toContain(`ptune is ready: serving on 127.0.0.1:${server.split(':')[1]}, web console at ${web}`);
    const curl = /curl -s (\S+) -H 'content-type: application\/json' -d '(\{.*\})'/.exec(out);
    expect(curl?.[1]).toBe(`${web}v1/completions`);
    const answer = await fetch(curl![1], { method: 'POST', headers: { 'content-type': 'application/json' }, body: curl![2] });
    expect(answer.status).toBe(200);
    const completion = (await answer.json()) as { model: string; choices: { text: string }[] };
    expect(completion.model).toBe('default/feelings@v1');
    expect(completion.choices[0].text.length).toBeGreaterThan(0);

    // The CLI sees what the quick start printed: one version per task, aliased production, from that job.
    const firstLoss = Number(/feelings lr=0\.03 vt=8\s+step\s+1\/\d+\s+loss (\S+)/.exec(out)![1]);
    for (const task of ['default/feelings', 'default/names']) {
      const { versions } = await ptuneJson<{
        versions: { version: number; aliases: string[]; metrics: Record<string, number>; lineage: { jobId: string } }[];
      }>('prompts', 'list', '--task', task);
      expect(versions.map((v) => v.version)).toEqual([1]);
      expect(versions[0].aliases).toEqual(['production']);
      expect(versions[0].lineage.jobId).toBe(jobId);
      expect(Number.isFinite(versions[0].metrics.eval_loss)).toBe(true);
    }
    const feelings = await ptuneJson<{ versions: { metrics: Record<string, number> }[] }>('prompts', 'list', '--task', 'default/feelings');
    expect(feelings.versions[0].metrics.eval_loss).toBeLessThan(firstLoss / 2); // the prompt learned the task

    const file = path.join(work, 'feelings.safetensors');
    await ptune('prompts', 'get', '--task', 'default/feelings', '--alias', 'production', '--out', file);
    const bytes = await readFile(file);
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()) as Record<string, { shape: number[] }>;
    expect(header.prompt_embeddings.shape).toEqual([8, 128]);

    const { jobs } = await ptuneJson<{ jobs: { id: string; state: string; trials: unknown[] }[] }>('jobs', 'list');
    expect(jobs.map((j) => [j.id, j.state, j.trials.length])).toEqual([[jobId, 'JOB_STATE_SUCCEEDED', 4]]);

    const png = path.join(work, 'loss.png');
    expect(await ptune('jobs', 'plot', jobId, '--out', png)).toContain('4 trial(s), 600 step losses');
    const picture = await readFile(png);
    expect(picture.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(picture.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect([picture.readUInt32BE(16), picture.readUInt32BE(20)]).toEqual([800, 450]);

    const ended = await npm.interrupt();
    expect(ended.code === 0 || ended.code === 130 || ended.signal === 'SIGINT').toBe(true);
  });

  it('reuses the data on the next start: nothing is trained again', async () => {
    expect(jobId, 'the first start must have run').toBeDefined();
    const npm = start();
    await npm.waitFor(READY, 3 * 60_000);
    expect(npm.output).toContain('default/feelings and default/names already have "production" prompts');
    expect(npm.output).not.toMatch(/: 4 trials/);
    expect(npm.output).toMatch(/│ default\/feelings │ 1 +│ production │ demo/);
    const { jobs } = await ptuneJson<{ jobs: { id: string }[] }>('jobs', 'list');
    expect(jobs.map((j) => j.id)).toEqual([jobId]);
    const { versions } = await ptuneJson<{ versions: { version: number }[] }>('prompts', 'list', '--task', 'default/names');
    expect(versions.map((v) => v.version)).toEqual([1]);
    await npm.interrupt();
  });
});
