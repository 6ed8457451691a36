/** `ptune prompts push | list | get | export | delete`. */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { dtypeFlagNames, dtypeFromFlag, methodFlagNames, methodFromFlag } from '../../../domain/index.js';
import { Dtype, TuningMethod } from '../../../gen/ptune/v1/common_pb.js';
import {
  CreatePromptVersionResponseSchema,
  ExportPeftResponseSchema,
  GetPromptStreamHeaderSchema,
  ListPromptVersionsResponseSchema,
  PromptVersionOrderBy,
  type PromptSelectorSchema,
  type PromptVersion,
  type PromptVersionSpecSchema,
} from '../../../gen/ptune/v1/registry_pb.js';
import { RpcError } from '../../../grpc/index.js';
import { downloadPrompt, pushPrompt, sha256Hex, type PromptPayload, type RegistryClient } from '../../../client/index.js';
import { integerAtLeast } from '../engine/options.js';
import { clientCommand, printJson, printTable, shortSha, taskRef, withRegistry, type ClientFlags } from './client.js';

/** An optional `--method` / `--dtype` flag (commander has checked the choice) → the wire enum, UNSPECIFIED when absent. */
const methodOf = (flag: string | undefined): TuningMethod => (flag === undefined ? TuningMethod.UNSPECIFIED : methodFromFlag(flag)!);
const dtypeOf = (flag: string | undefined): Dtype => (flag === undefined ? Dtype.UNSPECIFIED : dtypeFromFlag(flag)!);

type Spec = MessageInitShape<typeof PromptVersionSpecSchema>;
type Selector = MessageInitShape<typeof PromptSelectorSchema>;

function metricOption(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const [name, raw] = value.split('=');
  const number = Number(raw);
  if (name === '' || raw === undefined || !Number.isFinite(number))
    throw new Error(`--metric ${value}: expected NAME=NUMBER, e.g. eval_loss=1.92`);
  return { ...previous, [name]: number };
}

export function registerPromptCommands(program: Command): void {
  const prompts = program.command('prompts').description('versioned soft prompts in the registry');

  clientCommand(prompts, 'push', 'upload a prompt as the next version of a task (creates the task on first use)')
    .requiredOption('--task <task>', 'namespace/name, or name in the "default" namespace')
    .requiredOption('--model <name>', 'registered base model the prompt was trained for')
    .requiredOption('--file <path>', 'a .safetensors file with "prompt_embeddings", or a PEFT adapter folder')
    .option('--alias <alias>', 'point this alias at the new version')
    .addOption(new Option('--method <method>', "tuning method (default: prompt, or the adapter's peft_type)").choices(methodFlagNames))
    .option('--metric <name=value>', 'evaluation metric to record (repeatable)', metricOption)
    .option('--request-id <id>', 'idempotency key: pushing again with it returns the same version', randomUUID())
    .option('--created-by <who>', 'identity recorded with the version', process.env.USER ?? '')
    .action(
      async (
        flags: ClientFlags & {
          task: string;
          model: string;
          file: string;
          alias?: string;
          method?: string;
          metric?: Record<string, number>;
          requestId: string;
          createdBy: string;
        },
      ) => {
        const task = taskRef(flags.task);
        const spec: Spec = {
          task,
          baseModel: flags.model,
          method: methodOf(flags.method),
          metrics: flags.metric ?? {},
          alias: flags.alias ?? '',
          requestId: flags.requestId,
          createdBy: flags.createdBy,
        };
        const payload = await readPayload(flags.file);
        const result = await withRegistry(flags, async (client) => {
          const createdTask = await ensureTask(client, task, flags.createdBy);
          const { version, created } = await pushPrompt(client, spec, payload);
          return { createdTask, response: create(CreatePromptVersionResponseSchema, { version, created }) };
        });
        if (flags.json) return printJson(CreatePromptVersionResponseSchema, result.response);
        const v = result.response.version as PromptVersion;
        if (result.createdTask) process.stdout.write(`created task ${task.namespace}/${task.name}\n`);
        const alias = v.aliases.length > 0 ? ` (aliases: ${v.aliases.join(', ')})` : '';
        process.stdout.write(
          `${result.response.created ? 'pushed' : 'already pushed:'} ${task.namespace}/${task.name} version ${v.version}${alias} sha256 ${v.blobSha256}\n`,
        );
      },
    );

  clientCommand(prompts, 'list', "list a task's versions")
    .requiredOption('--task <task>', 'namespace/name, or name')
    .option('--model <name>', 'only versions for this base model')
    .addOption(new Option('--method <method>', 'only this tuning method').choices(methodFlagNames))
    .option('--order-by <key>', 'version | created | metric:NAME (e.g. metric:eval_loss)', 'version')
    .option('--desc', 'descending order')
    .option('--limit <n>', 'at most this many rows', integerAtLeast(1), 1000)
    .action(
      async (flags: ClientFlags & { task: string; model?: string; method?: string; orderBy: string; desc?: boolean; limit: number }) => {
        const [orderKey, metric = ''] = flags.orderBy.split(':');
        const orderBy = {
          version: PromptVersionOrderBy.VERSION,
          created: PromptVersionOrderBy.CREATED_AT,
          metric: PromptVersionOrderBy.METRIC,
        }[orderKey];
        if (orderBy === undefined) throw new Error(`--order-by ${flags.orderBy}: expected version, created or metric:NAME`);
        const response = await withRegistry(flags, (client) =>
          client.listPromptVersions({
            task: taskRef(flags.task),
            baseModel: flags.model ?? '',
            method: methodOf(flags.method),
            orderBy,
            orderMetric: metric,
            descending: flags.desc === true,
            pageSize: Math.min(flags.limit, 1000),
          }),
        );
        if (flags.json) return printJson(ListPromptVersionsResponseSchema, response);
        printTable(
          ['version', 'model', 'method', 'shape', 'dtype', 'metrics', 'aliases', 'created', 'sha256'],
          response.versions.map((v) => [
            String(v.version),
            v.baseModel?.name ?? '',
            TuningMethod[v.method] ?? '',
            v.shape.join('×'),
            Dtype[v.dtype] ?? '',
            Object.entries(v.metrics)
              .map(([k, x]) => `${k}=${Number(x.toPrecision(4))}`)
              .join(' '),
            v.aliases.join(', '),
            new Date(Number(v.createdAt?.seconds ?? 0n) * 1000).toISOString().replace('.000Z', 'Z'),
            shortSha(v.blobSha256),
          ]),
        );
        if (response.nextPageToken !== '') process.stdout.write(`(more versions: raise --limit)\n`);
      },
    );

  clientCommand(prompts, 'get', 'download a version (default: the latest) as a safetensors file')
    .requiredOption('--task <task>', 'namespace/name, or name')
    .option('--version <v>', 'version number', integerAtLeast(1))
    .option('--alias <alias>', 'alias to resolve, e.g. production')
    .requiredOption('--out <file>', 'safetensors file to write')
    .addOption(new Option('--dtype <dtype>', 'element type of the file').choices(dtypeFlagNames))
    .action(async (flags: ClientFlags & { task: string; version?: number; alias?: string; out: string; dtype?: string }) => {
      const prompt = selector(flags);
      const existing = await readFile(flags.out).catch(() => undefined);
      const result = await withRegistry(flags, (client) =>
        downloadPrompt(client, { prompt, dtype: dtypeOf(flags.dtype), ifNoneMatch: existing === undefined ? '' : sha256Hex(existing) }),
      );
      if (!result.header.notModified) await writeAtomically(flags.out, result.bytes);
      if (flags.json) return printJson(GetPromptStreamHeaderSchema, result.header);
      const v = result.header.version as PromptVersion;
      const what = `${v.task?.namespace}/${v.task?.name} version ${v.version} (${Dtype[result.header.payloadDtype]} ${v.shape.join('×')}, sha256 ${result.header.payloadSha256})`;
      process.stdout.write(result.header.notModified ? `${flags.out} already holds ${what}\n` : `wrote ${flags.out}: ${what}\n`);
    });

  clientCommand(prompts, 'export', 'write a version as a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)')
    .requiredOption('--task <task>', 'namespace/name, or name')
    .requiredOption('--version <v>', 'version number', integerAtLeast(1))
    .requiredOption('--peft <dir>', 'folder to write (created if needed)')
    .addOption(new Option('--dtype <dtype>', 'element type of the weights').choices(dtypeFlagNames))
    .action(async (flags: ClientFlags & { task: string; version: number; peft: string; dtype?: string }) => {
      const response = await withRegistry(flags, (client) => client.exportPeft({ prompt: selector(flags), dtype: dtypeOf(flags.dtype) }));
      await mkdir(flags.peft, { recursive: true });
      await writeAtomically(path.join(flags.peft, 'adapter_model.safetensors'), response.adapterModelSafetensors);
      await writeAtomically(path.join(flags.peft, 'adapter_config.json'), response.adapterConfigJson);
      if (flags.json)
        return printJson(ExportPeftResponseSchema, {
          ...response,
          adapterConfigJson: new Uint8Array(),
          adapterModelSafetensors: new Uint8Array(),
        });
      process.stdout.write(`wrote PEFT adapter of ${flags.task} version ${flags.version} to ${flags.peft}\n`);
    });

  clientCommand(prompts, 'delete', 'delete a version (refused while an alias points at it)')
    .requiredOption('--task <task>', 'namespace/name, or name')
    .requiredOption('--version <v>', 'version number', integerAtLeast(1))
    .action(async (flags: ClientFlags & { task: string; version: number }) => {
      await withRegistry(flags, (client) => client.deletePromptVersion({ version: { task: taskRef(flags.task), version: flags.version } }));
      process.stdout.write(flags.json ? '{}\n' : `deleted ${flags.task} version ${flags.version}\n`);
    });
}

function selector(flags: { task: string; version?: number; alias?: string }): Selector {
  if (flags.version !== undefined && flags.alias !== undefined) throw new Error('pass --version or --alias, not both');
  const task = taskRef(flags.task);
  if (flags.version !== undefined) return { task, selector: { case: 'version', value: flags.version } };
  if (flags.alias !== undefined) return { task, selector: { case: 'alias', value: flags.alias } };
  return { task, selector: { case: 'latest', value: true } };
}

/** True when this call created the task. */
async function ensureTask(client: RegistryClient, task: ReturnType<typeof taskRef>, createdBy: string): Promise<boolean> {
  try {
    await client.getTask({ task });
    return false;
  } catch (err) {
    if (!(err instanceof RpcError) || err.codeName !== 'NOT_FOUND') throw err;
    return (await client.createTask({ task, createdBy })).created;
  }
}

async function readPayload(file: string): Promise<PromptPayload> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) throw new Error(`--file ${file} does not exist`);
  if (!info.isDirectory()) return { kind: 'safetensors', bytes: await readFile(file) };
  const read = (name: string): Promise<Buffer> =>
    readFile(path.join(file, name)).catch(() => {
      throw new Error(
        `--file ${file} is a folder but has no ${name}; a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors`,
      );
    });
  return { kind: 'peft', config: await read('adapter_config.json'), bytes: await read('adapter_model.safetensors') };
}

async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}
