/** What the quick-start prints at the end: the production prompts and the commands to try next. */
import path from 'node:path';
import Table from 'cli-table3';
import type { PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import { DEFAULT_SERVER } from '../client/index.js';
import type { QuickstartPlan } from './plan.js';

const metric = (v: PromptVersion, name: string, digits: number): string =>
  v.metrics[name] === undefined ? '' : v.metrics[name].toFixed(digits);

export function formatVersions(versions: readonly PromptVersion[], alias: string): string {
  const table = new Table({
    head: ['task', 'version', 'alias', 'base model', 'lr', 'virtual tokens', 'eval_loss', 'accuracy', 'exact match'],
    style: { head: [], border: [] },
  });
  for (const v of versions) {
    table.push([
      `${v.task?.namespace}/${v.task?.name}`,
      String(v.version),
      alias,
      v.baseModel?.name ?? '',
      v.hyperparameters.learning_rate ?? '',
      String(v.numVirtualTokens),
      metric(v, 'eval_loss', 4),
      metric(v, 'eval_accuracy', 3),
      metric(v, 'eval_exact_match', 3),
    ]);
  }
  return `${table.toString()}\n`;
}

export interface NextStepsContext {
  readonly plan: QuickstartPlan;
  readonly versions: readonly PromptVersion[];
  /** the server the commands talk to ("host:port") */
  readonly server: string;
  /** GGUF file of each registered model name the quick-start knows */
  readonly modelFiles: ReadonlyMap<string, string>;
  /** a generated model's random weights learned only the answer: generating more than it prints noise */
  readonly generated: boolean;
}

/** The CLI commands to try next, with `--server` only when it is not the default. */
export function formatNextSteps({ plan, versions, server, modelFiles, generated }: NextStepsContext): string {
  const maxTokens = generated ? 2 : 8;
  const at = server === DEFAULT_SERVER ? '' : ` --server ${server}`;
  const first = versions[0];
  const task = `${first?.task?.namespace}/${first?.task?.name}`;
  const name = first?.task?.name ?? 'task';
  const file = `${name}.safetensors`;
  const jobId = first?.lineage?.jobId;
  const model = first?.baseModel ? modelFiles.get(first.baseModel.name) : undefined;
  const sample = plan.tasks.find((t) => t.name === name)?.sample;
  const lines = [
    `npx ptune prompts list --task ${task}${at}`,
    `npx ptune prompts get --task ${task} --alias ${plan.alias} --out ${file}${at}`,
    `npx ptune jobs list${at}`,
    ...(jobId ? [`npx ptune jobs plot ${jobId} --out loss.png${at}`] : []),
    ...(model && sample
      ? [`npx ptune generate --model ${relative(model)} --prompt ${file} --text ${JSON.stringify(sample)} --max-tokens ${maxTokens}`]
      : []),
  ];
  return `try next, in another terminal (this one keeps serving; Ctrl-C stops it):\n${lines.map((l) => `  ${l}\n`).join('')}`;
}

const relative = (file: string): string => {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
};
