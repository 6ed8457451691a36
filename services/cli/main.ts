/**
 * The `ptune` command line: one commander program; every command group lives in
 * its own module under ./commands and registers itself here.
 */
import { Command } from 'commander';
import { commandModules } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('ptune')
    .description('Soft-prompt training, registry and serving for frozen language models')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  for (const register of commandModules) register(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
