/** `ptune audit --namespace N`: the audit log (who wrote what, when), newest first. */
import type { Command } from 'commander';
import { integerAtLeast } from './engine/options.js';
import { withAccessBackend, type AccessTarget } from './access-backend.js';
import { clientCommand, printTable } from './registry/client.js';

export function registerAuditCommands(program: Command): void {
  clientCommand(program, 'audit', 'list the audit log of a namespace, newest first (needs an admin token)')
    .requiredOption('--namespace <ns>', 'namespace whose writes to list')
    .option('--limit <n>', 'most events to show', integerAtLeast(1), 100)
    .option('--data-dir <dir>', 'read this embedded database directly instead of a server (the server must be stopped)')
    .option('--database-url <url>', 'read this Postgres database directly instead of a server')
    .action(async (flags: AccessTarget & { namespace: string; limit: number; json?: boolean }) => {
      const events = await withAccessBackend(flags, (backend) => backend.listAudit(flags.namespace, flags.limit));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(events.map((e) => ({ ...e, id: String(e.id), at: e.at.toISOString() })), null, 2)}\n`);
        return;
      }
      // "started" that stays so: the server stopped during the write, which may or may not have happened
      printTable(['at', 'actor', 'action', 'target', 'outcome', 'details'], events.map((e) => [e.at.toISOString(), e.actor, e.action, e.target, e.outcome, JSON.stringify(e.details)]));
    });
}
