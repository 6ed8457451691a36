/** The real `ptune` CLI, run from source in a child process (as bin/ptune.js runs it from dist). */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** node's arguments before the CLI's own: the tsx loader and the development runner */
export const ptuneNodeArgs = [
  '--import',
  pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href,
  path.join(repoRoot, 'services/cli/commands/engine/run-cli.ts'),
];

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ptune ...args` to its end; a failure is returned (exit code and output), not thrown. */
export async function ptune(...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...ptuneNodeArgs, ...args], { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
