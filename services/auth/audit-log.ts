/** The audit log: one row per successful write (who, what, when), listed per namespace. */
import type { Prisma, PrismaClient } from '../storage/index.js';

export interface AuditEntry {
  readonly actor: string;
  readonly namespace: string;
  /** e.g. "alias.set" */
  readonly action: string;
  /** e.g. "ns/task:production" */
  readonly target: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditEntry {
  readonly id: bigint;
  readonly at: Date;
}

export async function recordAudit(prisma: PrismaClient, entry: AuditEntry): Promise<void> {
  await prisma.auditEvent.create({
    data: { actor: entry.actor, namespace: entry.namespace, action: entry.action, target: entry.target, details: (entry.details ?? {}) as Prisma.InputJsonObject },
  });
}

export interface AuditPage {
  readonly events: AuditRecord[];
  /** id to pass as `before` for the next (older) page; undefined on the last page */
  readonly nextBefore?: bigint;
}

/** Events of a namespace, newest first, `limit` at a time, older than `before` when given. */
export async function listAudit(prisma: PrismaClient, options: { namespace: string; limit: number; before?: bigint }): Promise<AuditPage> {
  const rows = await prisma.auditEvent.findMany({
    where: { namespace: options.namespace, ...(options.before === undefined ? {} : { id: { lt: options.before } }) },
    orderBy: { id: 'desc' },
    take: options.limit + 1,
  });
  const events = rows.slice(0, options.limit).map((row) => ({
    id: row.id,
    at: row.at,
    actor: row.actor,
    namespace: row.namespace,
    action: row.action,
    target: row.target,
    details: row.details as Record<string, unknown>,
  }));
  return { events, nextBefore: rows.length > options.limit ? events[events.length - 1].id : undefined };
}
