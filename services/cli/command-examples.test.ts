import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_EXAMPLES } from './command-examples.js';
import { buildProgram } from './main.js';

function leaves(command: Command, prefix: string[] = []): { path: string; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return sub.commands.length === 0 ? [{ path: path.join(' '), command: sub }] : leaves(sub, path);
  });
}

function helpText(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

const program = await buildProgram();
const commands = leaves(program).filter((c) => c.path !== 'help');

describe('ptune --help and every command help', () => {
  it('the top-level help lists the commands and the quick start', () => {
    const text = helpText(program);
    for (const name of ['serve', 'train', 'jobs', 'prompts', 'models']) expect(text).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(text).toContain('$ npm ci && npm start');
    expect(text, 'no source file names in user-facing help').not.toMatch(/services\/|\.ts\b/);
  });

  it.each(commands)('ptune $path --help renders with examples that use only its own flags', ({ path, command }) => {
    const text = helpText(command);
    expect(text).toContain(`Usage: ptune ${path}`);
    expect(text).toContain('\nExamples:\n  $ ');
    const flags = new Set(
      command.options.flatMap((o) => [o.long, o.negate ? o.long : undefined]).filter((f): f is string => f !== undefined),
    );
    const own = (COMMAND_EXAMPLES[path] ?? []).filter((line) => line.includes(`ptune ${path}`));
    expect(own.length, `an example of "ptune ${path}" itself`).toBeGreaterThan(0);
    for (const line of own) {
      const used = line.replace(/#.*$/, '').match(/(?<=\s)--[a-z][a-z-]*/g) ?? [];
      for (const flag of used) expect(flags, `${flag} in "${line}"`).toContain(flag);
    }
  });

  it('has examples only for commands that exist', () => {
    const paths = new Set(commands.map((c) => c.path));
    expect(Object.keys(COMMAND_EXAMPLES).filter((p) => !paths.has(p))).toEqual([]);
  });
});
