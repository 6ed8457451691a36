import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, unknownLongOption } from '../main.js';
import { commandModules, modulesFor } from './index.js';

/** Packages that cost most of a second to load and that only server, engine or storage commands use. */
const HEAVY = ['onnxruntime-node', '@prisma/client', '@aws-sdk/client-s3', '@electric-sql/pglite'];

describe('command modules', () => {
  it.each(commandModules.map((module, i) => [i, module] as const))(
    'module %i adds exactly the commands it declares',
    async (_i, module) => {
      const program = new Command('ptune');
      (await module.load())(program);
      expect(program.commands.map((c) => c.name()).sort()).toEqual([...module.commands].sort());
    },
  );

  it('a command line loads the modules of its command only; help and unknown commands load all', () => {
    expect(modulesFor('prompts').map((m) => m.commands)).toEqual([['models', 'prompts', 'alias']]);
    expect(modulesFor('models')).toHaveLength(2);
    expect(modulesFor(undefined)).toBe(commandModules);
    expect(modulesFor('taks')).toBe(commandModules);
  });

  it('names a mistyped long option (commander would first report the required one it misses)', async () => {
    const train = await buildProgram(modulesFor('train'));
    expect(unknownLongOption(train, ['node', 'ptune', 'train', '--taks', 'a/b'])).toMatchObject({ flag: '--taks' });
    expect(unknownLongOption(train, ['node', 'ptune', 'train', '--task', 'a/b', '--lr=0.1', '--wait'])).toBeUndefined();
    const prompts = await buildProgram(modulesFor('prompts'));
    expect(unknownLongOption(prompts, ['node', 'ptune', 'prompts', 'list', '--task', 'a/b', '--jsn'])).toMatchObject({ flag: '--jsn' });
    expect(unknownLongOption(prompts, ['node', 'ptune', 'prompts', 'list', '--task', 'a/b', '--json', '--', '--anything'])).toBeUndefined();
  });

  it.each(['prompts', 'alias', 'jobs', 'tokens', 'audit', 'train', 'score'])(
    'ptune %s loads none of onnxruntime, Prisma, the AWS SDK or PGlite',
    (command) => {
      // a fresh process records every module it resolves while building the program for this command
      const script = `
      import { registerHooks } from 'node:module';
      const seen = new Set();
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
      const { buildProgram } = await import('./services/cli/main.ts');
      const { modulesFor } = await import('./services/cli/commands/index.ts');
      await buildProgram(modulesFor(${JSON.stringify(command)}));
      process.stdout.write(JSON.stringify([...seen]));`;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        cwd: new URL('../../..', import.meta.url).pathname,
      });
      expect(run.status, run.stderr).toBe(0);
      const loaded = (JSON.parse(run.stdout) as string[]).filter((url) => HEAVY.some((name) => url.includes(`/node_modules/${name}/`)));
      expect(loaded).toEqual([]);
    },
    60_000,
  );
});
