import { Prisma, type PrismaClient } from '../storage/index.js';
import { resolveSelection, type Selection } from './resolve.js';
import type { RowReader } from './row-reader.js';
import { VERSION_SELECT, type VersionRow } from './version-rows.js';

/** The parts of a resolution that can change: which version a selector names, its tombstone, its aliases. */
interface VersionPointer {
  id: string;
  deleted_at: Date | null;
  aliases: string[];
}

const POINTER_SELECT = Prisma.sql`
  SELECT v.id, v.deleted_at,
         COALESCE((SELECT array_agg(a.name ORDER BY a.name) FROM alias a WHERE a.version_id = v.id), ARRAY[]::text[]) AS aliases
    FROM prompt_version v`;

function pointerQuery(selection: Selection): Prisma.Sql {
  const { namespace, name } = selection.task;
  const inTask = Prisma.sql`v.task_id = (SELECT t.id FROM task t WHERE t.namespace = ${namespace} AND t.name = ${name})`;
  switch (selection.kind) {
    case 'version':
      return Prisma.sql`${POINTER_SELECT} WHERE ${inTask} AND v.version = ${selection.version}`;
    case 'alias':
      return Prisma.sql`${POINTER_SELECT}
        WHERE v.id = (SELECT a.version_id FROM alias a JOIN task ta ON ta.id = a.task_id
                       WHERE ta.namespace = ${namespace} AND ta.name = ${name} AND a.name = ${selection.alias})`;
    case 'latest':
      return Prisma.sql`${POINTER_SELECT} WHERE ${inTask} AND v.deleted_at IS NULL ORDER BY v.version DESC LIMIT 1`;
  }
}

/**
 * GetPrompt's resolution: still one query per call (so as fresh as resolveSelection), but a light
 * one. A version row is immutable except for its tombstone (`deleted_at`) and the aliases pointing at
 * it, so the query reads only those plus the version id; the rest of the row (task, model, shape,
 * sha256, metrics, …) is read once per version id and kept (measured here: the full row costs ~2–4×
 * the pointer query, mostly parsing 29 columns). A missing or deleted version falls back to
 * resolveSelection, which says precisely what is missing.
 */
export class VersionResolver {
  private readonly rows = new Map<string, Promise<VersionRow>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly reader: RowReader,
    private readonly maxRows = 10_000,
  ) {}

  async resolve(selection: Selection): Promise<VersionRow> {
    const [pointer] = await this.reader.query<VersionPointer>(pointerQuery(selection));
    if (pointer === undefined || pointer.deleted_at !== null) return resolveSelection(this.prisma, selection, this.reader);
    const row = await this.immutableRow(pointer.id);
    return { ...row, deleted_at: pointer.deleted_at, aliases: pointer.aliases };
  }

  private immutableRow(id: string): Promise<VersionRow> {
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.reader.query<VersionRow>(Prisma.sql`${VERSION_SELECT} WHERE v.id = ${id}::uuid`).then((rows) => {
        if (rows[0] === undefined)
          throw new Error(`prompt version ${id} vanished between two reads (versions are never removed, only tombstoned)`);
        return rows[0];
      });
      row.catch(() => this.rows.delete(id));
      if (this.rows.size >= this.maxRows) this.rows.delete(this.rows.keys().next().value as string);
      this.rows.set(id, row);
    }
    return row;
  }
}
