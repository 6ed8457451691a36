/**
 * The `ptune` command line: one commander program; every command group lives in
 * its own module under ./commands and registers itself here.
 */
import { Command } from 'commander';
import { commandModules } from './commands/index.js';
import { addCommandExamples } from './command-examples.js';
import { packageVersion } from './package-version.js';

export function buildProgram(): Command {
  const program = new Command('ptune')
    .description('Soft-prompt training, registry and serving for frozen language models')
    .version(packageVersion(), '-V, --version', 'print the ptune version')
    // Program options only before the subcommand: subcommands have their own --version (prompt versions).
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  for (const register of commandModules) register(program);
  addCommandExamples(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
