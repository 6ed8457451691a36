/** --task with --alias / --version / --latest, as a PromptSelector; no --task: the bare model. */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import type { PromptSelectorSchema } from '../../gen/ptune/v1/registry_pb.js';
import { integerAtLeast } from './engine/options.js';
import { taskRef } from './registry/client.js';

/** commander's collector for an option that may be repeated */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export interface PromptChoiceFlags {
  task?: string;
  alias?: string;
  version?: number;
  latest?: boolean;
}

export function addPromptChoiceOptions(command: Command): Command {
  return command
    .option('--task <namespace/name>', 'apply a prompt of this task (default: the bare model)')
    .option('--alias <name>', "the task's version this alias points at (default: production)")
    .option('--version <n>', 'a fixed version number', integerAtLeast(1))
    .option('--latest', 'the highest version');
}

export function promptChoice(f: PromptChoiceFlags): MessageInitShape<typeof PromptSelectorSchema> | undefined {
  const chosen = [f.alias !== undefined, f.version !== undefined, f.latest === true].filter(Boolean).length;
  if (chosen > 1) throw new Error('name at most one of --alias, --version and --latest');
  if (f.task === undefined) {
    if (chosen > 0) throw new Error('--alias, --version and --latest choose a version of --task; name the task');
    return undefined;
  }
  const task = taskRef(f.task);
  if (f.version !== undefined) return { task, selector: { case: 'version', value: f.version } };
  if (f.latest === true) return { task, selector: { case: 'latest', value: true } };
  return { task, selector: { case: 'alias', value: f.alias ?? 'production' } };
}
