import type { PromptSelector } from '../gen/ptune/v1/registry_pb.js';
import { Prisma, type PrismaClient, type Task } from '../storage/index.js';
import { checkAliasName, checkTaskRef, formatTaskName, invalidArgument, notFound, type TaskName } from '../domain/index.js';
import type { RowReader } from './row-reader.js';
import { VERSION_SELECT, type VersionRow } from './version-rows.js';

type Db = PrismaClient | Prisma.TransactionClient;

export async function findTask(db: Db, task: TaskName): Promise<Task> {
  const row = await db.task.findUnique({ where: { namespace_name: task } });
  if (row === null) {
    throw notFound(
      `task ${formatTaskName(task)} does not exist; create it first (CreateTask, or \`ptune prompts push\`, which creates it)`,
      {
        task: formatTaskName(task),
      },
    );
  }
  return row;
}

/** A validated PromptSelector: the task and exactly one of version, alias or latest. */
export type Selection = { task: TaskName } & ({ kind: 'version'; version: number } | { kind: 'alias'; alias: string } | { kind: 'latest' });

export function checkSelector(selector: PromptSelector | undefined, field: string): Selection {
  if (selector === undefined) throw invalidArgument(field, 'is required: a task plus one of version, alias or latest');
  const task = checkTaskRef(selector.task, `${field}.task`);
  switch (selector.selector.case) {
    case 'version':
      if (selector.selector.value === 0) throw invalidArgument(`${field}.version`, 'versions start at 1');
      return { task, kind: 'version', version: selector.selector.value };
    case 'alias':
      return { task, kind: 'alias', alias: checkAliasName(selector.selector.value, `${field}.alias`) };
    case 'latest':
      if (!selector.selector.value) throw invalidArgument(`${field}.latest`, 'must be true when set; set version or alias instead');
      return { task, kind: 'latest' };
    default:
      throw invalidArgument(field, 'set exactly one of version, alias or latest');
  }
}

/** The version a selection names, in one query on the hot path; NOT_FOUND says which part is missing. */
export async function resolveSelection(db: Db, selection: Selection, reader?: RowReader): Promise<VersionRow> {
  const { namespace, name } = selection.task;
  const inTask = Prisma.sql`t.namespace = ${namespace} AND t.name = ${name}`;
  let query: Prisma.Sql;
  switch (selection.kind) {
    case 'version':
      query = Prisma.sql`${VERSION_SELECT} WHERE ${inTask} AND v.version = ${selection.version}`;
      break;
    case 'alias':
      query = Prisma.sql`${VERSION_SELECT}
        WHERE v.id = (SELECT a.version_id FROM alias a JOIN task ta ON ta.id = a.task_id
                       WHERE ta.namespace = ${namespace} AND ta.name = ${name} AND a.name = ${selection.alias})`;
      break;
    case 'latest':
      query = Prisma.sql`${VERSION_SELECT} WHERE ${inTask} AND v.deleted_at IS NULL ORDER BY v.version DESC LIMIT 1`;
      break;
  }
  const rows = reader === undefined ? await db.$queryRaw<VersionRow[]>(query) : await reader.query<VersionRow>(query);
  const row = rows[0];
  if (row !== undefined && row.deleted_at === null) return row;
  const task = formatTaskName(selection.task);
  await findTask(db, selection.task);
  if (row !== undefined) {
    throw notFound(`version ${row.version} of task ${task} was deleted at ${row.deleted_at?.toISOString()}; versions are never reused`);
  }
  switch (selection.kind) {
    case 'version':
      throw notFound(`task ${task} has no version ${selection.version}`);
    case 'alias':
      throw notFound(`task ${task} has no alias "${selection.alias}"`);
    case 'latest':
      throw notFound(`task ${task} has no versions yet`);
  }
}

/** One version by id, deleted or not (for internal use, e.g. after a create and for idempotent retries). */
export async function loadVersionById(db: Db, id: string): Promise<VersionRow> {
  const rows = await db.$queryRaw<VersionRow[]>`${VERSION_SELECT} WHERE v.id = ${id}::uuid`;
  if (rows.length !== 1) throw new Error(`prompt version ${id} vanished`);
  return rows[0];
}
