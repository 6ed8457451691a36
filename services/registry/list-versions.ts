import { TuningMethod } from '../gen/ptune/v1/common_pb.js';
import { PromptVersionOrderBy, type ListPromptVersionsRequest, type PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import { Prisma, type PrismaClient } from '../storage/index.js';
import { checkModelName, checkTaskRef, decodePageToken, invalidArgument, methodToDb, pageSize, paginate } from '../domain/index.js';
import { findTask } from './resolve.js';
import { toPromptVersion, VERSION_SELECT, type VersionRow } from './version-rows.js';

const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;

/**
 * A task's live versions, filtered by base model and method, ordered by version, creation time or a
 * metric (versions without the metric last, in either direction), keyset-paginated: the cursor holds
 * the last row's sort key, so concurrent inserts never shift or repeat rows.
 */
export async function listPromptVersions(
  prisma: PrismaClient,
  request: ListPromptVersionsRequest,
): Promise<{ versions: PromptVersion[]; nextPageToken: string }> {
  const task = checkTaskRef(request.task, 'task');
  if (request.baseModel !== '') checkModelName(request.baseModel, 'base_model');
  const method = request.method === TuningMethod.UNSPECIFIED ? undefined : methodToDb(request.method);
  if (request.method !== TuningMethod.UNSPECIFIED && method === undefined)
    throw invalidArgument('method', `unknown tuning method ${request.method}`);
  const orderBy = request.orderBy === PromptVersionOrderBy.UNSPECIFIED ? PromptVersionOrderBy.VERSION : request.orderBy;
  if (PromptVersionOrderBy[orderBy] === undefined) throw invalidArgument('order_by', `unknown order ${request.orderBy}`);
  if (orderBy === PromptVersionOrderBy.METRIC && !METRIC_NAME.test(request.orderMetric)) {
    throw invalidArgument(
      'order_metric',
      `${JSON.stringify(request.orderMetric)} must name a metric (e.g. "eval_loss") when order_by is METRIC`,
    );
  }
  if (orderBy !== PromptVersionOrderBy.METRIC && request.orderMetric !== '')
    throw invalidArgument('order_metric', 'is only used with order_by METRIC');
  const taskRow = await findTask(prisma, task);

  const desc = request.descending;
  const scope = ['versions', taskRow.id, request.baseModel, method ?? '', orderBy, request.orderMetric, desc].join(':');
  const size = pageSize(request.pageSize);
  const after = decodePageToken(request.pageToken, scope, (key) => isCursorKey(key, orderBy));
  const metric = Prisma.sql`(CASE WHEN jsonb_typeof(v.metrics -> ${request.orderMetric}) = 'number' THEN (v.metrics ->> ${request.orderMetric})::float8 END)`;
  const cmp = Prisma.raw(desc ? '<' : '>');
  const dir = Prisma.raw(desc ? 'DESC' : 'ASC');

  const filters = [Prisma.sql`v.task_id = ${taskRow.id}::uuid`, Prisma.sql`v.deleted_at IS NULL`];
  if (request.baseModel !== '') filters.push(Prisma.sql`m.name = ${request.baseModel}`);
  if (method !== undefined) filters.push(Prisma.sql`v.method = ${method}::prompt_method`);
  let order: Prisma.Sql;
  switch (orderBy) {
    case PromptVersionOrderBy.CREATED_AT:
      if (after !== undefined)
        filters.push(Prisma.sql`(v.created_at, v.version) ${cmp} (${new Date(String(after[0]))}::timestamptz, ${Number(after[1])})`);
      order = Prisma.sql`v.created_at ${dir}, v.version ${dir}`;
      break;
    case PromptVersionOrderBy.METRIC:
      if (after !== undefined) filters.push(metricAfter(metric, cmp, after));
      order = Prisma.sql`${metric} ${dir} NULLS LAST, v.version ${dir}`;
      break;
    default:
      if (after !== undefined) filters.push(Prisma.sql`v.version ${cmp} ${Number(after[0])}`);
      order = Prisma.sql`v.version ${dir}`;
  }
  const rows = await prisma.$queryRaw<VersionRow[]>`
    ${VERSION_SELECT} WHERE ${Prisma.join(filters, ' AND ')} ORDER BY ${order} LIMIT ${size + 1}`;
  const keyOf = (r: VersionRow): unknown[] =>
    orderBy === PromptVersionOrderBy.CREATED_AT
      ? [r.created_at.toISOString(), r.version]
      : orderBy === PromptVersionOrderBy.METRIC
        ? [metricValue(r, request.orderMetric), r.version]
        : [r.version];
  const { page, nextPageToken } = paginate(rows, size, scope, keyOf);
  return { versions: page.map(toPromptVersion), nextPageToken };
}

/** The key types each order writes into its cursors. */
function isCursorKey(key: unknown[], orderBy: PromptVersionOrderBy): boolean {
  const isVersion = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) > 0;
  if (orderBy === PromptVersionOrderBy.CREATED_AT)
    return key.length === 2 && typeof key[0] === 'string' && !Number.isNaN(Date.parse(key[0])) && isVersion(key[1]);
  if (orderBy === PromptVersionOrderBy.METRIC) return key.length === 2 && (key[0] === null || Number.isFinite(key[0])) && isVersion(key[1]);
  return key.length === 1 && isVersion(key[0]);
}

function metricValue(row: VersionRow, name: string): number | null {
  const value = row.metrics[name];
  return typeof value === 'number' ? value : null;
}

/** Rows after (metric m, version v) in "metric (nulls last), version" order. */
function metricAfter(metric: Prisma.Sql, cmp: Prisma.Sql, after: unknown[]): Prisma.Sql {
  const version = Number(after[1]);
  if (after[0] === null) return Prisma.sql`(${metric} IS NULL AND v.version ${cmp} ${version})`;
  const value = Number(after[0]);
  return Prisma.sql`(${metric} IS NULL OR ${metric} ${cmp} ${value}::float8 OR (${metric} = ${value}::float8 AND v.version ${cmp} ${version}))`;
}
