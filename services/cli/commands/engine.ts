/** Local engine commands: tune, eval, generate, models generate. */
import type { Command } from 'commander';
import { registerEval } from './engine/eval.js';
import { registerGenerate } from './engine/generate.js';
import { registerModels } from './engine/models.js';
import { registerTune } from './engine/tune.js';

export function registerEngineCommands(program: Command): void {
  registerTune(program);
  registerEval(program);
  registerGenerate(program);
  registerModels(program);
}
