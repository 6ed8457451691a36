/** Registry client commands: models add/list, prompts push/list/get/export/delete, alias set/delete/history. */
import type { Command } from 'commander';
import { registerAliasCommands } from './registry/alias.js';
import { registerModelCommands } from './registry/models.js';
import { registerPromptCommands } from './registry/prompts.js';

export function registerRegistryCommands(program: Command): void {
  registerModelCommands(program);
  registerPromptCommands(program);
  registerAliasCommands(program);
}
