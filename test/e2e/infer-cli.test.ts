/**
 * `ptune infer` as users run it, against a `ptune serve`-like server (no workers): it fetches the registered base model
 * (GetBaseModel, then GetBlob into its cache) and serves it; `ptune generate --server` streams an
 * answer with a trained prompt, `ptune score` ranks candidates, and the OpenAI-compatible endpoint
 * answers the same as the gRPC one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, pushPrompt, weightsUpload } from '../../services/client/index.js';
import { encodePromptFile, generateText, loadModel, writeGeneratedModel, type LoadedModel } from '../../services/engine/index.js';
import { allInOneModules } from '../../services/cli/commands/all-in-one.js';
import { startServer, type RunningServer } from '../../services/server/index.js';
import { ptune, ptuneNodeArgs, repoRoot } from '../support/ptune-cli.js';

let dir: string;
let registry: RunningServer;
let infer: ChildProcess;
let model: LoadedModel;
let prompt: Float32Array;
const ports = { grpc: 0, http: 0 };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-infer-cli-'));
  const file = await writeGeneratedModel('tiny', 9, path.join(dir, 'tiny.gguf'));
  // served at q8 (--weights-dtype): the reference holds the same
  model = await loadModel(file.path, 'q8');
  registry = await startServer({
    modules: allInOneModules({ workers: { count: 0 }, sweeper: { intervalMs: 0 } }),
    dataDir: path.join(dir, 'data'),
    port: 0,
    logger: pino({ level: 'silent' }),
  });
  const client = connect(registry.address);
  try {
    await client.registry.registerBaseModel(weightsUpload('tiny', file.path, (await stat(file.path)).size, 'test'));
    const task = { namespace: 'default', name: 'feelings' };
    await client.registry.createTask({ task });
    prompt = new Float32Array(4 * model.spec.dim).map((_, i) => Math.sin(i) * 0.1);
    await pushPrompt(
      client.registry,
      { task, baseModel: 'tiny', alias: 'production' },
      { kind: 'safetensors', bytes: encodePromptFile(prompt, model.spec.dim, {}) },
    );
  } finally {
    client.close();
  }
  infer = spawn(
    process.execPath,
    [
      ...ptuneNodeArgs,
      'infer',
      '--model',
      'tiny',
      '--registry',
      registry.address,
      '--cache-dir',
      path.join(dir, 'cache'),
      '--port',
      '0',
      '--http-port',
      '0',
      '--slots',
      '2',
      '--weights-dtype',
      'q8',
    ],
    { cwd: repoRoot, env: { ...process.env, PTUNE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  infer.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    infer.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = /weights held q8, .* on [\d.]+:(\d+) \(gRPC\) and http:\/\/[\d.]+:(\d+)\/v1/.exec(out);
      if (ready) {
        [ports.grpc, ports.http] = [Number(ready[1]), Number(ready[2])];
        resolve();
      }
    });
    infer.on('exit', (code) => reject(new Error(`ptune infer exited with ${code}: ${stderr}`)));
  });
}, 120_000);

afterAll(async () => {
  if (infer && infer.exitCode === null) {
    const exited = new Promise((resolve) => infer.on('exit', resolve));
    infer.kill('SIGTERM');
    await exited;
  }
  await registry?.close(1000);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ptune infer', () => {
  it('ptune generate --server streams the answer of the aliased prompt, equal to local generation', async () => {
    const run = await ptune(
      'generate',
      '--server',
      `127.0.0.1:${ports.grpc}`,
      '--task',
      'feelings',
      '--alias',
      'production',
      '--text',
      'Once upon a time',
      '--max-tokens',
      '6',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { output_ids: number[]; completion: string; served_by: string };
    const reference = await generateText(model, { text: 'Once upon a time', prompt, maxTokens: 6 });
    expect(out.output_ids).toEqual(reference.outputIds);
    expect(out.served_by).toBe('default/feelings@v1');

    const text = await ptune('generate', '--server', `127.0.0.1:${ports.grpc}`, '--text', 'Once upon a time', '--max-tokens', '3');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain('[tiny: 3 tokens, finish length]');
  });

  it('ptune score prints each candidate log-probability and the best', async () => {
    const run = await ptune(
      'score',
      '--server',
      `127.0.0.1:${ports.grpc}`,
      '--task',
      'feelings',
      '--text',
      'I feel',
      '--candidate',
      ' a',
      '--candidate',
      ' b',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { results: { logProbabilities: number[]; best?: number }[]; servedBy: unknown };
    expect(out.results[0].logProbabilities).toHaveLength(2);
    const unknown = await ptune('score', '--server', `127.0.0.1:${ports.grpc}`, '--task', 'nothing', '--text', 'x', '--candidate', ' a');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('NOT_FOUND');
  });

  it('answers the OpenAI-compatible completions request as gRPC does', async () => {
    const response = await fetch(`http://127.0.0.1:${ports.http}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'default/feelings@production', prompt: 'Once upon a time', max_tokens: 6, temperature: 0 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: { text: string }[]; model: string };
    expect(body.choices[0].text).toBe((await generateText(model, { text: 'Once upon a time', prompt, maxTokens: 6 })).completion);
    expect(body.model).toBe('default/feelings@v1');
  });
});
