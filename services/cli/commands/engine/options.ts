/** Option parsers and input checks shared by the engine commands; every message names the option. */
import { InvalidArgumentError, Option } from 'commander';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got "${value}"`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return n;
}

/** --execution-provider and --threads, on every command that runs the model */
export const runtimeOptions = (): Option[] => [
  new Option('--execution-provider <ep>', 'onnxruntime execution provider').choices(['cpu', 'cuda']).default('cpu'),
  new Option('--threads <n>', 'intra-op threads (default: onnxruntime decides)').argParser(integerAtLeast(1)),
];

/** Throws unless `file` is an existing regular file; `what` says which option named it. */
export async function requireFile(file: string, what: string): Promise<void> {
  const s = await stat(file).catch(() => undefined);
  if (!s) throw new Error(`${what} ${file} does not exist`);
  if (!s.isFile()) throw new Error(`${what} ${file} is not a file`);
}

/** Throws unless `file` can be created: its folder exists and it is not itself a folder. */
export async function requireWritableTarget(file: string, what: string): Promise<void> {
  const dir = await stat(path.dirname(path.resolve(file))).catch(() => undefined);
  if (!dir?.isDirectory()) throw new Error(`${what} ${file}: folder ${path.dirname(file)} does not exist`);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw new Error(`${what} ${file} is a folder`);
}
