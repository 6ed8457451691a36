import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { defaultMigrationsDir, readMigrations } from './read-migrations.js';

/** Same key as Prisma's schema engine, so this applier and `prisma migrate deploy` exclude each other. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Prisma's own bookkeeping table, byte for byte the DDL its schema engine uses on Postgres.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export interface ApplyMigrationsOptions {
  /** Defaults to the repository's `prisma/migrations`. */
  migrationsDir?: string;
}

export interface ApplyMigrationsResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Applied earlier, but the file's checksum has changed since (Prisma warns about these too). */
  edited: string[];
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending `prisma/migrations` without Prisma's native schema engine, and records them in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does, so either tool can take over later.
 * Each migration runs in its own transaction: a failing script leaves no trace and no row.
 */
export async function applyMigrations(target: string | pg.Client, options: ApplyMigrationsOptions = {}): Promise<ApplyMigrationsResult> {
  const client = typeof target === 'string' ? new pg.Client({ connectionString: target }) : target;
  if (typeof target === 'string') await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      return await applyPending(client, options.migrationsDir ?? defaultMigrationsDir());
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    }
  } finally {
    if (typeof target === 'string') await client.end();
  }
}

async function applyPending(client: pg.Client, migrationsDir: string): Promise<ApplyMigrationsResult> {
  await client.query(CREATE_MIGRATIONS_TABLE);
  const { rows } = await client.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at',
  );
  const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
  if (failed.length > 0) {
    throw new Error(
      `migration ${failed[0].migration_name} failed earlier and is recorded as unfinished in _prisma_migrations; ` +
        'fix the database by hand, then mark it rolled back (UPDATE _prisma_migrations SET rolled_back_at = now() …) and retry',
    );
  }
  const done = new Map(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r]));
  const result: ApplyMigrationsResult = { applied: [], edited: [] };
  for (const migration of await readMigrations(migrationsDir)) {
    const previous = done.get(migration.name);
    if (previous) {
      if (previous.checksum !== migration.checksum) result.edited.push(migration.name);
      continue;
    }
    await client.query('BEGIN');
    try {
      await client.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 0)`,
        [randomUUID(), migration.checksum, migration.name],
      );
      await client.query(migration.script);
      await client.query(
        `UPDATE _prisma_migrations SET applied_steps_count = 1, finished_at = clock_timestamp() WHERE migration_name = $1 AND finished_at IS NULL`,
        [migration.name],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw new Error(`${migrationsDir}/${migration.name}/migration.sql: ${describePgError(err, migration.script)}`, {
        cause: err,
      });
    }
    result.applied.push(migration.name);
  }
  return result;
}

function describePgError(err: unknown, script: string): string {
  if (!(err instanceof Error)) return String(err);
  const position = (err as { position?: string }).position;
  if (position === undefined) return err.message;
  const line = script.slice(0, Number(position)).split('\n').length;
  return `line ${line}: ${err.message}`;
}
