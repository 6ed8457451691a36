/** `ptune alias set | delete | history`. */
import type { Command } from 'commander';
import { DeleteAliasResponseSchema, GetAliasHistoryResponseSchema, SetAliasResponseSchema } from '../../../gen/ptune/v1/registry_pb.js';
import { integerAtLeast } from '../engine/options.js';
import { clientCommand, printJson, printTable, taskRef, withRegistry, type ClientFlags } from './client.js';

export function registerAliasCommands(program: Command): void {
  const alias = program.command('alias').description("move a task's aliases (e.g. production) between versions");

  clientCommand(alias, 'set', 'point an alias at a version (compare-and-swap with --expect)')
    .requiredOption('--task <task>', 'namespace/name, or name')
    .requiredOption('--alias <alias>', 'alias name, e.g. production')
    .requiredOption('--version <v>', 'version to point at', integerAtLeast(1))
    .option('--expect <v0>', 'change only if the alias points at this version now (0: only if it does not exist)', integerAtLeast(0))
    .option('--by <who>', 'identity recorded in the history', process.env.USER ?? '')
    .action(async (flags: ClientFlags & { task: string; alias: string; version: number; expect?: number; by: string }) => {
      const response = await withRegistry(flags, (client) =>
        client.setAlias({
          task: taskRef(flags.task),
          alias: flags.alias,
          version: flags.version,
          expectedVersion: flags.expect,
          updatedBy: flags.by,
        }),
      );
      if (flags.json) return printJson(SetAliasResponseSchema, response);
      const from =
        response.previousVersion === 0
          ? 'created'
          : response.previousVersion === flags.version
            ? 'unchanged'
            : `was version ${response.previousVersion}`;
      process.stdout.write(`${flags.task} ${flags.alias} → version ${flags.version} (${from})\n`);
    });

  clientCommand(alias, 'delete', 'remove an alias')
    .requiredOption('--task <task>', 'namespace/name, or name')
    .requiredOption('--alias <alias>', 'alias name')
    .option('--expect <v0>', 'delete only if the alias points at this version now', integerAtLeast(1))
    .option('--by <who>', 'identity recorded in the history', process.env.USER ?? '')
    .action(async (flags: ClientFlags & { task: string; alias: string; expect?: number; by: string }) => {
      const response = await withRegistry(flags, (client) =>
        client.deleteAlias({ task: taskRef(flags.task), alias: flags.alias, expectedVersion: flags.expect, updatedBy: flags.by }),
      );
      if (flags.json) return printJson(DeleteAliasResponseSchema, response);
      process.stdout.write(`deleted ${flags.task} ${flags.alias} (was version ${response.previousVersion})\n`);
    });

  clientCommand(alias, 'history', "an alias's changes, newest first")
    .requiredOption('--task <task>', 'namespace/name, or name')
    .requiredOption('--alias <alias>', 'alias name')
    .action(async (flags: ClientFlags & { task: string; alias: string }) => {
      const response = await withRegistry(flags, async (client) => {
        const all = await client.getAliasHistory({ task: taskRef(flags.task), alias: flags.alias, pageSize: 1000 });
        for (let token = all.nextPageToken; token !== '';) {
          const page = await client.getAliasHistory({ task: taskRef(flags.task), alias: flags.alias, pageSize: 1000, pageToken: token });
          all.changes.push(...page.changes);
          token = page.nextPageToken;
        }
        all.nextPageToken = '';
        return all;
      });
      if (flags.json) return printJson(GetAliasHistoryResponseSchema, response);
      const version = (v: number): string => (v === 0 ? '—' : String(v));
      printTable(
        ['when', 'who', 'from', 'to'],
        response.changes.map((c) => [
          new Date(Number(c.changedAt?.seconds ?? 0n) * 1000 + Math.floor((c.changedAt?.nanos ?? 0) / 1e6)).toISOString(),
          c.changedBy,
          version(c.fromVersion),
          version(c.toVersion),
        ]),
      );
    });
}
