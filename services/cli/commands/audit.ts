/** `ptune audit --namespace N`: the audit log (who wrote what, when), newest first. */
import { create } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { auditEventToWire } from '../../auth/index.js';
import { ListAuditEventsResponseSchema } from '../../gen/ptune/v1/access_pb.js';
import { integerAtLeast } from './engine/options.js';
import { withAccessBackend, type AccessTarget } from './access-backend.js';
import { clientCommand, printJson, printTable } from './registry/client.js';

export function registerAuditCommands(program: Command): void {
  clientCommand(program, 'audit', 'list the audit log of a namespace, newest first (needs an admin token)')
    .requiredOption('--namespace <ns>', 'namespace whose writes to list')
    .option('--limit <n>', 'most events to show', integerAtLeast(1), 100)
    .option('--data-dir <dir>', 'read this embedded database directly instead of a server (the server must be stopped)')
    .option('--database-url <url>', 'read this Postgres database directly instead of a server')
    .action(async (flags: AccessTarget & { namespace: string; limit: number; json?: boolean }) => {
      const events = await withAccessBackend(flags, (backend) => backend.listAudit(flags.namespace, flags.limit));
      if (flags.json)
        return printJson(ListAuditEventsResponseSchema, create(ListAuditEventsResponseSchema, { events: events.map(auditEventToWire) }));
      // "started" that stays so: the server stopped during the write, which may or may not have happened
      printTable(
        ['at', 'actor', 'action', 'target', 'outcome', 'details'],
        events.map((e) => [e.at.toISOString(), e.actor, e.action, e.target, e.outcome, JSON.stringify(e.details)]),
      );
    });
}
