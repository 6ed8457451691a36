/**
 * The `ptune` command line: one commander program; every command group lives in
 * its own module under ./commands and registers itself here.
 */
import { Command } from 'commander';
import { modulesFor, type CommandModule } from './commands/index.js';
import { addCommandExamples } from './command-examples.js';
import { packageVersion } from './package-version.js';

/**
 * The program with the commands of `modules` (default: all). A command line builds it with only
 * its own command's modules, which keeps a client command from loading the server stack.
 */
export async function buildProgram(modules: readonly CommandModule[] = modulesFor(undefined)): Promise<Command> {
  const program = new Command('ptune')
    .description('Soft-prompt training, registry and serving for frozen language models')
    .version(packageVersion(), '-V, --version', 'print the ptune version')
    // Program options only before the subcommand: subcommands have their own --version (prompt versions).
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  for (const register of await Promise.all(modules.map((module) => module.load()))) register(program);
  addCommandExamples(program, modules.length < modulesFor(undefined).length);
  return program;
}

/** The command word of a command line: its first argument that is not an option. */
function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const command = commandOf(argv);
  const versionOnly = command === undefined && argv.slice(2).some((arg) => arg === '-V' || arg === '--version');
  await (await buildProgram(versionOnly ? [] : modulesFor(command))).parseAsync(argv);
}
