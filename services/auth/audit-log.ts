/**
 * The audit log: one row per write (who, what, when), listed per namespace. A write served by the
 * guard is recorded before it runs (`startAudit`, outcome "started") and completed after it
 * succeeded or discarded after it failed, so a crash in between leaves a "started" row instead of
 * no row.
 */
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

/** "started": the write was running (for good, if the server stopped during it); "ok": it succeeded. */
export type AuditOutcome = 'started' | 'ok';

export interface AuditRecord extends AuditEntry {
  readonly id: bigint;
  readonly at: Date;
  readonly outcome: AuditOutcome;
}

const rowData = (entry: AuditEntry) => ({
  actor: entry.actor,
  namespace: entry.namespace,
  action: entry.action,
  target: entry.target,
  details: (entry.details ?? {}) as Prisma.InputJsonObject,
});

/** Records a write that has already happened. */
export async function recordAudit(prisma: PrismaClient, entry: AuditEntry): Promise<void> {
  await prisma.auditEvent.create({ data: rowData(entry) });
}

/** Records a write about to run; complete or discard the returned id when it ends. */
export async function startAudit(prisma: PrismaClient, entry: AuditEntry): Promise<bigint> {
  const row = await prisma.auditEvent.create({ data: { ...rowData(entry), outcome: 'started' }, select: { id: true } });
  return row.id;
}

/** The write succeeded: what it wrote (target and details may come from its reply). */
export async function completeAudit(prisma: PrismaClient, id: bigint, entry: Pick<AuditEntry, 'target' | 'details'>): Promise<void> {
  await prisma.auditEvent.update({
    where: { id },
    data: { target: entry.target, details: (entry.details ?? {}) as Prisma.InputJsonObject, outcome: 'ok' },
  });
}

/** The write failed and changed nothing: its row goes too. */
export async function discardAudit(prisma: PrismaClient, id: bigint): Promise<void> {
  await prisma.auditEvent.delete({ where: { id } });
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
    outcome: row.outcome === 'started' ? ('started' as const) : ('ok' as const),
  }));
  return { events, nextBefore: rows.length > options.limit ? events[events.length - 1].id : undefined };
}
