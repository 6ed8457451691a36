/** Option parsers and input checks shared by the engine commands; every message names the option. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { stat } from 'node:fs/promises';
import path from 'node:path';
// the flag vocabulary only: the engine's index would load onnxruntime into every command that parses options
import { encoderFlagNames, methodFlagNames, type MethodFlag } from '../../../engine/methods/method-flags.js';
import { parseByteSize } from '../../../engine/memory/limit.js';
import { weightsDtypes, type WeightsDtype } from '../../../engine/model/weights-dtype.js';

export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}"`);
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

/** The method flags shared by `ptune tune` (local) and `ptune train` (cluster). */
export interface MethodFlags {
  virtualTokens: number;
  method: MethodFlag;
  encoder?: 'mlp' | 'lstm';
  encoderHiddenSize?: number;
  prefixProjection?: boolean;
}

/** --virtual-tokens, --method, --encoder, --encoder-hidden-size, --prefix-projection */
export const methodOptions = (): Option[] => [
  new Option('--virtual-tokens <n>', 'number of virtual tokens P').argParser(integerAtLeast(1)).default(8),
  new Option('--method <method>', 'prompt tuning, P-tuning (encoder) or prefix tuning (per-layer keys/values)')
    .choices(methodFlagNames)
    .default('prompt'),
  new Option('--encoder <type>', 'P-tuning encoder (default mlp)').choices(encoderFlagNames),
  new Option('--encoder-hidden-size <n>', "P-tuning encoder / prefix projection width (default: PEFT's token_dim)").argParser(
    integerAtLeast(1),
  ),
  new Option('--prefix-projection', 'prefix tuning through an MLP (PEFT prefix_projection)'),
];

/** Adds options to a command in order, keeping the builder chain. */
export function withOptions(command: Command, options: Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}

/** The runtime flags of every command that runs the model. */
export interface RuntimeFlags {
  executionProvider: 'cpu' | 'cuda';
  threads?: number;
  spin?: boolean;
  weightsDtype: WeightsDtype;
  recompute?: boolean;
  /** bytes */
  maxMemory?: number;
}

/** a size in bytes or with a unit (12GiB), for commander */
export function byteSize(value: string): number {
  try {
    return parseByteSize(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** --weights-dtype, --recompute, --max-memory: how the model is held, on every command that runs it (and the worker) */
export const weightsDtypeOption = (): Option =>
  new Option('--weights-dtype <dtype>', "precision the frozen weights are held in (auto: the file's; q8/q4 quantize at load)")
    .choices(weightsDtypes)
    .default('auto');

export const executionProviderOption = (): Option =>
  new Option('--execution-provider <ep>', 'onnxruntime execution provider').choices(['cpu', 'cuda']).default('cpu');

export const memoryOptions = (): Option[] => [
  weightsDtypeOption(),
  new Option(
    '--recompute',
    "recompute each layer's forward in the backward pass instead of keeping its activations (training: long sequences)",
  ),
  new Option(
    '--max-memory <size>',
    "memory the run may use, e.g. 12GiB: a run estimated above it is refused before loading (default: the machine's, or the cgroup limit)",
  ).argParser(byteSize),
];

/** --execution-provider, --threads, --spin and the memory options, on every command that runs the model */
export const runtimeOptions = (): Option[] => [
  ...memoryOptions(),
  executionProviderOption(),
  new Option('--threads <n>', 'intra-op threads (default: onnxruntime decides)').argParser(integerAtLeast(1)),
  new Option(
    '--spin',
    "keep onnxruntime's idle threads spinning between kernels: faster on dedicated cores, much slower when cores are shared or CPU-limited (off by default)",
  ),
];

/** The engine's runtime settings from the runtime flags. */
export const runtimeSettings = (
  f: RuntimeFlags,
): { executionProvider: 'cpu' | 'cuda'; threads?: number; spinning: boolean; weightsDtype: WeightsDtype; recompute: boolean } => ({
  executionProvider: f.executionProvider,
  threads: f.threads,
  spinning: f.spin === true,
  weightsDtype: f.weightsDtype,
  recompute: f.recompute === true,
});

/** Throws unless `file` is an existing regular file; `what` says which option named it. */
export async function requireFile(file: string, what: string): Promise<void> {
  const s = await stat(file).catch(() => undefined);
  if (!s) throw new Error(`${what} ${file} does not exist`);
  if (!s.isFile()) throw new Error(`${what} ${file} is not a file`);
}

/** Throws unless `model` exists as a file (GGUF) or a folder (Hugging Face checkpoint); loadModel reads either. */
export async function requireModel(model: string): Promise<void> {
  if (!(await stat(model).catch(() => undefined))) throw new Error(`--model ${model} does not exist`);
}

/** Throws unless `file` can be created: its folder exists and it is not itself a folder. */
export async function requireWritableTarget(file: string, what: string): Promise<void> {
  const dir = await stat(path.dirname(path.resolve(file))).catch(() => undefined);
  if (!dir?.isDirectory()) throw new Error(`${what} ${file}: folder ${path.dirname(file)} does not exist`);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw new Error(`${what} ${file} is a folder`);
}
