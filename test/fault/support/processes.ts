/** Child processes for the fault tests: started with tsx, output kept for failure messages, killed by pid. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');

export interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGKILL and wait for the exit */
  kill9(): Promise<void>;
}

export function startChild(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  // node --import tsx (not the tsx CLI, which runs the script in a grandchild that SIGKILL would miss)
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, script), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    exited,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export function startCoordinator(port: number, dataDir: string, databaseUrl: string): Child {
  return startChild('coordinator-main.ts', [String(port), dataDir], { DATABASE_URL: databaseUrl });
}

export function startWorker(coordinator: string, name: string, cacheDir: string): Child {
  return startChild('ptune-cli.ts', [
    'worker',
    '--coordinator',
    coordinator,
    '--name',
    name,
    '--cache-dir',
    cacheDir,
    '--threads',
    '1',
    '--metrics-port',
    '0',
  ]);
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  diagnostics = (): string => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `work`, or an error naming `what` (with the diagnostics) once `timeoutMs` has passed. */
export async function withDeadline<T>(what: string, work: Promise<T>, timeoutMs: number, diagnostics = (): string => ''): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms\n${diagnostics()}`)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
