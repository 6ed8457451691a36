/**
 * The OpenAI `model` field, in the convention of multi-adapter servers: `namespace/task@alias`,
 * `namespace/task@v3` (or `@3`) for a fixed version, `namespace/task@latest`; a task without a
 * namespace is in `default`; the served base model's own name means no prompt. `@v<digits>` and
 * `@latest` always mean a version, even if an alias of that name exists.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { parseTaskName } from '../domain/index.js';
import type { PromptSelectorSchema } from '../gen/ptune/v1/registry_pb.js';

export type PromptChoice = MessageInitShape<typeof PromptSelectorSchema> | undefined;

/** The prompt `model` names (undefined: the bare model), or a message saying what is wrong with it. */
export function parseModelName(model: string, baseModel: string): { prompt: PromptChoice } | { error: string } {
  if (model === baseModel) return { prompt: undefined };
  const at = model.lastIndexOf('@');
  if (at < 0) {
    return {
      error: `model ${JSON.stringify(model)} is neither the served base model ${JSON.stringify(baseModel)} nor a prompt: name one as namespace/task@alias, @v3 or @latest`,
    };
  }
  let task;
  try {
    task = parseTaskName(model.slice(0, at));
  } catch (err) {
    return { error: `model: ${(err as Error).message}` };
  }
  const choice = model.slice(at + 1);
  const version = /^v?(\d{1,10})$/.exec(choice);
  if (version) return { prompt: { task, selector: { case: 'version', value: Number(version[1]) } } };
  if (choice === 'latest') return { prompt: { task, selector: { case: 'latest', value: true } } };
  return { prompt: { task, selector: { case: 'alias', value: choice } } };
}

/** The name a response gives the version that answered: "team-a/feelings@v3" (the base model's name without a prompt). */
export function answeredModelName(
  servedBy: { promptVersion?: { task?: { namespace: string; name: string }; version: number }; baseModel?: { name: string } } | undefined,
): string {
  const v = servedBy?.promptVersion;
  if (v?.task === undefined) return servedBy?.baseModel?.name ?? '';
  return `${v.task.namespace}/${v.task.name}@v${v.version}`;
}
