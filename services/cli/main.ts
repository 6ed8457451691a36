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

/**
 * The first `--flag` of a command line that its command does not define. Commander reports a
 * missing required option before an unknown one, so a mistyped `--taks` would read as "required
 * option --task not specified"; this names the mistyped flag instead.
 */
export function unknownLongOption(program: Command, argv: readonly string[]): { command: Command; flag: string } | undefined {
  let command = program;
  const args = argv.slice(2);
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  let at = 0;
  for (; at < end; at++) {
    const sub = command.commands.find((c) => c.name() === args[at] || c.aliases().includes(args[at]));
    if (sub !== undefined) command = sub;
    else if (!args[at].startsWith('-')) break;
  }
  const known = new Set([
    '--help',
    '--version',
    ...command.options.flatMap((option) => [option.long, option.negate ? option.long : undefined]),
  ]);
  const flag = args.slice(0, end).find((arg) => arg.startsWith('--') && !known.has(arg.split('=')[0]));
  return flag === undefined ? undefined : { command, flag: flag.split('=')[0] };
}

/** The command word of a command line: its first argument that is not an option. */
function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const command = commandOf(argv);
  const versionOnly = command === undefined && argv.slice(2).some((arg) => arg === '-V' || arg === '--version');
  const program = await buildProgram(versionOnly ? [] : modulesFor(command));
  const unknown = unknownLongOption(program, argv);
  if (unknown !== undefined) unknown.command.error(`error: unknown option '${unknown.flag}'`, { code: 'commander.unknownOption' });
  await program.parseAsync(argv);
}
