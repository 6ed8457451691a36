import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  AliasChangeSchema,
  DeleteAliasRequest,
  GetAliasHistoryRequest,
  SetAliasRequest,
  SetAliasResponseSchema,
} from '../gen/ptune/v1/registry_pb.js';
import type { Prisma, PrismaClient } from '../storage/index.js';
import {
  aborted,
  checkAliasName,
  checkTaskRef,
  decodePageToken,
  formatTaskName,
  invalidArgument,
  notFound,
  pageSize,
  paginate,
  type TaskName,
} from '../domain/index.js';

/**
 * Alias rules. Every change to a task's aliases runs in a transaction that first locks the task row
 * (the same lock version allocation takes), so alias moves, version deletes and version creates of
 * one task are serialized: an alias can never end up pointing at a deleted version, and a
 * compare-and-swap sees the state it compares against. A lost compare-and-swap is ABORTED (see
 * status.ts) and carries the alias's current version in the error details ("current_version").
 * Every change appends an alias_event row (who, when, from, to); a no-op (same version) appends none.
 */
type Tx = Prisma.TransactionClient;

export interface AliasMove {
  alias: string;
  /** Version to point at; 0 deletes the alias. */
  to: { id: string; version: number } | null;
  /** Compare-and-swap: the version the alias must point at now (0 = must not exist). */
  expected?: number;
  actor: string;
}

/** Locks a task row for the rest of the transaction; NOT_FOUND when it does not exist. */
export async function lockTask(tx: Tx, task: TaskName): Promise<string> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM task WHERE namespace = ${task.namespace} AND name = ${task.name} FOR UPDATE`;
  if (rows.length === 0) throw notFound(`task ${formatTaskName(task)} does not exist`);
  return rows[0].id;
}

/** Applies one alias change inside a transaction holding the task lock; returns the previous version (0 if none). */
export async function moveAlias(tx: Tx, taskId: string, task: TaskName, move: AliasMove): Promise<number> {
  const current = await tx.alias.findUnique({
    where: { taskId_name: { taskId, name: move.alias } },
    include: { version: { select: { version: true } } },
  });
  const from = current?.version.version ?? 0;
  if (move.expected !== undefined && move.expected !== from) {
    const now = from === 0 ? 'does not exist' : `points at version ${from}`;
    throw aborted(
      `alias "${move.alias}" of task ${formatTaskName(task)} ${now}, not ${move.expected === 0 ? '"absent"' : `version ${move.expected}`} as expected; re-read it and retry`,
      {
        current_version: String(from),
      },
    );
  }
  const to = move.to?.version ?? 0;
  if (move.to === null) {
    if (current === null) throw notFound(`task ${formatTaskName(task)} has no alias "${move.alias}"`);
    await tx.alias.delete({ where: { id: current.id } });
  } else if (from === to) {
    return from;
  } else if (current === null) {
    await tx.alias.create({ data: { taskId, name: move.alias, versionId: move.to.id, updatedBy: move.actor } });
  } else {
    await tx.alias.update({ where: { id: current.id }, data: { versionId: move.to.id, updatedBy: move.actor } });
  }
  await tx.aliasEvent.create({
    data: { taskId, aliasName: move.alias, fromVersion: from === 0 ? null : from, toVersion: to === 0 ? null : to, actor: move.actor },
  });
  return from;
}

/** A live (not deleted) version of a locked task, by number. */
async function liveVersion(tx: Tx, taskId: string, task: TaskName, version: number): Promise<{ id: string; version: number }> {
  const row = await tx.promptVersion.findUnique({
    where: { taskId_version: { taskId, version } },
    select: { id: true, version: true, deletedAt: true },
  });
  if (row === null) throw notFound(`task ${formatTaskName(task)} has no version ${version}`);
  if (row.deletedAt !== null)
    throw notFound(`version ${version} of task ${formatTaskName(task)} was deleted; aliases can only point at live versions`);
  return row;
}

export async function setAlias(prisma: PrismaClient, request: SetAliasRequest): Promise<MessageInitShape<typeof SetAliasResponseSchema>> {
  const task = checkTaskRef(request.task, 'task');
  const alias = checkAliasName(request.alias, 'alias');
  if (request.version === 0) throw invalidArgument('version', 'versions start at 1; to remove an alias use DeleteAlias');
  const actor = request.updatedBy || 'anonymous';
  return prisma.$transaction(async (tx) => {
    const taskId = await lockTask(tx, task);
    const target = await liveVersion(tx, taskId, task, request.version);
    const previous = await moveAlias(tx, taskId, task, { alias, to: target, expected: request.expectedVersion, actor });
    const row = await tx.alias.findUniqueOrThrow({ where: { taskId_name: { taskId, name: alias } } });
    return {
      alias: {
        task: { ...task },
        name: alias,
        version: target.version,
        updatedBy: row.updatedBy,
        updatedAt: timestampFromDate(row.updatedAt),
      },
      previousVersion: previous,
    };
  });
}

export async function deleteAlias(prisma: PrismaClient, request: DeleteAliasRequest): Promise<{ previousVersion: number }> {
  const task = checkTaskRef(request.task, 'task');
  const alias = checkAliasName(request.alias, 'alias');
  const actor = request.updatedBy || 'anonymous';
  return prisma.$transaction(async (tx) => {
    const taskId = await lockTask(tx, task);
    return { previousVersion: await moveAlias(tx, taskId, task, { alias, to: null, expected: request.expectedVersion, actor }) };
  });
}

export async function aliasHistory(
  prisma: PrismaClient,
  request: GetAliasHistoryRequest,
): Promise<{ changes: MessageInitShape<typeof AliasChangeSchema>[]; nextPageToken: string }> {
  const task = checkTaskRef(request.task, 'task');
  const alias = checkAliasName(request.alias, 'alias');
  const scope = `alias-history:${task.namespace}/${task.name}:${alias}`;
  const size = pageSize(request.pageSize);
  const before = decodePageToken(
    request.pageToken,
    scope,
    (key) => key.length === 1 && typeof key[0] === 'string' && /^\d{1,19}$/.test(key[0]),
  ) as [string] | undefined;
  const taskRow = await prisma.task.findUnique({ where: { namespace_name: task }, select: { id: true } });
  if (taskRow === null) throw notFound(`task ${formatTaskName(task)} does not exist`);
  const rows = await prisma.aliasEvent.findMany({
    where: { taskId: taskRow.id, aliasName: alias, ...(before === undefined ? {} : { id: { lt: BigInt(before[0]) } }) },
    orderBy: { id: 'desc' },
    take: size + 1,
  });
  if (rows.length === 0 && before === undefined) throw notFound(`task ${formatTaskName(task)} has no alias "${alias}" and never had one`);
  const { page, nextPageToken } = paginate(rows, size, scope, (r) => [r.id.toString()]);
  return {
    changes: page.map((r) => ({
      fromVersion: r.fromVersion ?? 0,
      toVersion: r.toVersion ?? 0,
      changedBy: r.actor,
      changedAt: timestampFromDate(r.at),
      // alias_event has no reason column yet (schema follow-up); reasons are not kept.
      reason: '',
    })),
    nextPageToken,
  };
}
