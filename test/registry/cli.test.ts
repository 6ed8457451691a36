import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, tensorToFloat32 } from '../../services/engine/formats/safetensors.js';
import { f32FromF16Bytes, f32ToF16Bytes } from '../../services/engine/formats/half.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { TrainingService } from '../../services/gen/ptune/v1/training_pb.js';
import { createClient, createGrpcTransport } from '../../services/grpc/index.js';
import { ptune, ptuneNodeArgs, repoRoot } from '../support/ptune-cli.js';
import { promptFile, promptValues, TINY, tinyModelBytes } from './fixtures.js';

/** `ptune serve --port 0` on a data directory; resolves with the address it prints. */
async function serve(dataDir: string, ...extra: string[]): Promise<{ process: ChildProcess; server: string; stderr: string[] }> {
  const child = spawn(process.execPath, [...ptuneNodeArgs, 'serve', '--data-dir', dataDir, '--port', '0', '--http-port', '0', ...extra], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, 'exit').then(() => {
    throw new Error(`ptune serve exited early:\n${stderr.join('')}`);
  });
  const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
  const match = /serving on (\S+:\d+)/.exec(line);
  if (match === null) throw new Error(`unexpected first line from ptune serve: ${line}`);
  return { process: child, server: match[1], stderr };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('ptune serve --quickstart (what npm start runs)', () => {
  it('says it is stopping on Ctrl-C (its logs show warnings only)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-cli-quickstart-'));
    try {
      const served = await serve(path.join(dir, 'data'), '--quickstart');
      served.process.kill('SIGINT');
      await once(served.process, 'exit');
      expect(served.stderr.join('')).toContain('ptune: stopping: the quick start is interrupted');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('ptune CLI against `ptune serve`', () => {
  let dir: string;
  let served: { process: ChildProcess; server: string };
  let s: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-cli-test-'));
    await writeFile(path.join(dir, 'tiny.gguf'), await tinyModelBytes());
    await writeFile(path.join(dir, 'p.safetensors'), promptFile(4, TINY.hidden, { seed: 1 }));
    await writeFile(path.join(dir, 'wrong-width.safetensors'), promptFile(4, TINY.hidden + 1));
    served = await serve(path.join(dir, 'data'));
    s = ['--server', served.server];
  });
  afterAll(async () => {
    if (served !== undefined && served.process.exitCode === null) await stop(served.process);
    await rm(dir, { recursive: true, force: true });
  });

  it('adds and lists models', async () => {
    const add = await ptune('models', 'add', '--name', 'tiny', '--file', path.join(dir, 'tiny.gguf'), ...s);
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/^registered tiny — llama, hidden 32, 2 layers, 4\/2 heads/);
    const list = await ptune('models', 'list', '--json', ...s);
    const models = (JSON.parse(list.stdout) as { baseModels: { name: string; architecture: { hiddenSize: number } }[] }).baseModels;
    expect(models.map((m) => [m.name, m.architecture.hiddenSize])).toEqual([['tiny', 32]]);
  });

  it('pushes (creating the task), lists, and refuses a bad prompt with the status name', async () => {
    const push = await ptune(
      'prompts',
      'push',
      '--task',
      'demo/sentiment',
      '--model',
      'tiny',
      '--file',
      path.join(dir, 'p.safetensors'),
      '--alias',
      'production',
      '--metric',
      'eval_loss=1.25',
      ...s,
    );
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('created task demo/sentiment');
    expect(push.stdout).toMatch(/pushed demo\/sentiment version 1 \(aliases: production\)/);
    const bad = await ptune(
      'prompts',
      'push',
      '--task',
      'demo/sentiment',
      '--model',
      'tiny',
      '--file',
      path.join(dir, 'wrong-width.safetensors'),
      ...s,
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^ptune: INVALID_ARGUMENT: .*is \[4, 33\] but PROMPT_TUNING on "tiny" needs width 32/);
    const list = await ptune('prompts', 'list', '--task', 'demo/sentiment', ...s);
    expect(list.stdout).toMatch(/│ 1\s+│ tiny\s+│ PROMPT_TUNING │ 4×32\s+│ F32\s+│ eval_loss=1.25 │ production │/);
  });

  it('gets a prompt converted to f16, and skips the download when the file is current', async () => {
    const out = path.join(dir, 'got.safetensors');
    const first = await ptune('prompts', 'get', '--task', 'demo/sentiment', '--alias', 'production', '--out', out, '--dtype', 'f16', ...s);
    expect(first.stdout).toMatch(/^wrote .*got\.safetensors: demo\/sentiment version 1 \(F16 4×32/);
    const tensor = readSafetensors(await readFile(out)).tensors.prompt_embeddings;
    expect(tensor.dtype).toBe('F16');
    expect(Array.from(tensorToFloat32(tensor))).toEqual(Array.from(f32FromF16Bytes(f32ToF16Bytes(promptValues(4, TINY.hidden, 1)))));
    const second = await ptune('prompts', 'get', '--task', 'demo/sentiment', '--out', out, '--dtype', 'f16', ...s);
    expect(second.stdout).toContain('already holds demo/sentiment version 1');
  });

  it('exports PEFT, pushes the adapter folder back, and moves the alias with compare-and-swap', async () => {
    const peft = path.join(dir, 'peft');
    const exported = await ptune('prompts', 'export', '--task', 'demo/sentiment', '--version', '1', '--peft', peft, ...s);
    expect(exported.code, exported.stderr).toBe(0);
    const config = JSON.parse(await readFile(path.join(peft, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ peft_type: 'PROMPT_TUNING', num_virtual_tokens: 4, token_dim: 32 });
    const pushed = await ptune('prompts', 'push', '--task', 'demo/sentiment', '--model', 'tiny', '--file', peft, ...s);
    expect(pushed.stdout).toMatch(/^pushed demo\/sentiment version 2 /);
    const conflict = await ptune(
      'alias',
      'set',
      '--task',
      'demo/sentiment',
      '--alias',
      'production',
      '--version',
      '2',
      '--expect',
      '2',
      ...s,
    );
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toMatch(/^ptune: ABORTED: alias "production" of task demo\/sentiment points at version 1, not version 2/);
    const moved = await ptune(
      'alias',
      'set',
      '--task',
      'demo/sentiment',
      '--alias',
      'production',
      '--version',
      '2',
      '--expect',
      '1',
      '--by',
      'carol',
      ...s,
    );
    expect(moved.stdout).toContain('production → version 2 (was version 1)');
    const history = await ptune('alias', 'history', '--task', 'demo/sentiment', '--alias', 'production', '--json', ...s);
    const changes = (JSON.parse(history.stdout) as { changes: { fromVersion?: number; toVersion?: number; changedBy: string }[] }).changes;
    expect(changes.map((c) => [c.fromVersion ?? 0, c.toVersion ?? 0, c.changedBy])).toEqual([
      [1, 2, 'carol'],
      [0, 1, expect.any(String)],
    ]);
  });

  it('train: refuses an unreadable file or an unknown model before creating anything, trains an existing task as it is, exits 1 when the job does not succeed', async () => {
    const words = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree'];
    const data = path.join(dir, 'data.jsonl');
    await writeFile(data, words.map((w, i) => JSON.stringify({ input: `the ${w} and`, output: ` ${words[(i * 3 + 1) % 8]}` })).join('\n'));
    const transport = createGrpcTransport(served.server);
    try {
      const registry = createClient(PromptRegistryService, transport);
      const training = createClient(TrainingService, transport);
      const fresh = { namespace: 'demo', name: 'fresh' };
      const missing = await ptune(
        'train',
        '--task',
        'demo/fresh',
        '--model',
        'tiny',
        '--train',
        path.join(dir, 'nope.jsonl'),
        '--eval',
        data,
        ...s,
      );
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/--train \S*nope\.jsonl cannot be read \(ENOENT\)/);
      const unknownModel = await ptune('train', '--task', 'demo/fresh', '--model', 'nope', '--train', data, '--eval', data, ...s);
      expect(unknownModel.stderr).toMatch(/NOT_FOUND: .*nope/);
      await expect(registry.getTask({ task: fresh })).rejects.toMatchObject({ codeName: 'NOT_FOUND' });

      // a task created elsewhere with a description (as the quick start does) trains as it is
      await registry.createTask({ task: { namespace: 'demo', name: 'feelings' }, description: 'how a story character feels' });
      const small = ['--model', 'tiny', '--train', data, '--eval', data, '--virtual-tokens', '2', '--batch-size', '2', ...s];
      const trained = await ptune('train', '--task', 'demo/feelings', ...small, '--steps', '2', '--wait', '--json');
      expect(trained.code, trained.stderr).toBe(0);
      expect(trained.stdout).toMatch(/SUCCEEDED/);

      // a job cancelled while `train --wait --json` follows it: the JSON says so and the exit status is 1
      const running = ptune(
        'train',
        '--task',
        'demo/feelings',
        ...small,
        '--steps',
        '500000',
        '--idempotency-key',
        'to-cancel',
        '--wait',
        '--json',
      );
      let jobId: string | undefined;
      for (let tries = 0; jobId === undefined && tries < 200; tries++) {
        jobId = (await training.listJobs({})).jobs.find((job) => job.spec?.idempotencyKey === 'to-cancel')?.id;
        if (jobId === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(jobId).toBeDefined();
      await training.cancelJob({ jobId: jobId! });
      const cancelled = await running;
      expect(cancelled.code).toBe(1);
      expect(cancelled.stdout).toMatch(/CANCELLED/);
    } finally {
      transport.close();
    }
  }, 120_000);

  it('keeps everything across a restart of `ptune serve`, and says when no server answers', async () => {
    expect(await stop(served.process)).toBe(0);
    const down = await ptune('prompts', 'list', '--task', 'demo/sentiment', ...s);
    expect(down.code).not.toBe(0);
    expect(down.stderr).toMatch(/^ptune: UNAVAILABLE: .*is `ptune serve` running at/);
    served = await serve(path.join(dir, 'data'));
    s = ['--server', served.server];
    const list = await ptune('prompts', 'list', '--task', 'demo/sentiment', '--json', ...s);
    const versions = (JSON.parse(list.stdout) as { versions: { version: number; aliases?: string[] }[] }).versions;
    expect(versions.map((v) => [v.version, v.aliases ?? []])).toEqual([
      [1, []],
      [2, ['production']],
    ]);
  });
});
