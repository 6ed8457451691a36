import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata', 'shutdown-fixture.ts');

interface Run {
  /** Resolves once stdout has printed `text`. */
  waitFor(text: string): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  exit: Promise<{ code: number | null; stdout: string; logs: Record<string, unknown>[] }>;
}

function runFixture(mode: 'ok' | 'fail' | 'hang', timeoutMs: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode, String(timeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const waiter of waiters.filter((w) => stdout.includes(w.text))) waiter.resolve();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return {
    waitFor: (text) => (stdout.includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve }))),
    kill: (signal) => child.kill(signal),
    exit: once(child, 'exit').then(([code]) => ({
      code: code as number | null,
      stdout,
      logs: stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    })),
  };
}

describe('onShutdownSignals (real child processes)', () => {
  it('SIGTERM runs the drain once and exits 0 when it finishes', async () => {
    const run = runFixture('ok', 30_000);
    await run.waitFor('ready');
    run.kill('SIGTERM');
    const { code, stdout, logs } = await run.exit;
    expect(code).toBe(0);
    expect(stdout).toBe('ready\ndraining 1\ndrained\n');
    expect(logs.map((line) => line.msg)).toEqual(['shutting down: draining', 'drained: exiting']);
    expect(logs[0]).toMatchObject({ component: 'fixture', signal: 'SIGTERM' });
  });

  it('SIGINT with a failing drain exits 1 and logs the cause', async () => {
    const run = runFixture('fail', 30_000);
    await run.waitFor('ready');
    run.kill('SIGINT');
    const { code, logs } = await run.exit;
    expect(code).toBe(1);
    expect(logs[1]).toMatchObject({ level: 'error', msg: 'drain failed: exiting', err: { message: 'checkpoint upload failed' } });
  });

  it('a drain that outlives the timeout is cut short with exit 1', async () => {
    const run = runFixture('hang', 300);
    await run.waitFor('ready');
    run.kill('SIGTERM');
    const { code, stdout, logs } = await run.exit;
    expect(code).toBe(1);
    expect(stdout).toBe('ready\ndraining 1\n');
    expect(logs.at(-1)).toMatchObject({ msg: 'drain did not finish in time: exiting', timeoutMs: 300 });
  });

  it('a second signal exits at once with 128 + signal number, without a second drain', async () => {
    const run = runFixture('hang', 600_000);
    await run.waitFor('ready');
    run.kill('SIGTERM');
    await run.waitFor('draining 1');
    run.kill('SIGINT');
    const { code, stdout, logs } = await run.exit;
    expect(code).toBe(130);
    expect(stdout).toBe('ready\ndraining 1\n');
    expect(logs.at(-1)).toMatchObject({ signal: 'SIGINT', msg: 'second shutdown signal: exiting without waiting for the drain' });
  });
});
