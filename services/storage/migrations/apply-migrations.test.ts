import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSchema } from '../../../test/support/describe-schema.js';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.js';
import { startPgliteServer, type PgliteServer } from '../pglite-server.js';
import { applyMigrations } from './apply-migrations.js';
import { migrationList, openPrismaWasmEngine, schemaTarget } from './prisma-wasm-engine.js';
import { defaultMigrationsDir, readMigrations } from './read-migrations.js';

const migrationsDir = defaultMigrationsDir();
const schemaFile = path.resolve(migrationsDir, '..', 'schema.prisma');

interface Backend {
  name: string;
  /** URL of a fresh, empty database. */
  fresh(): Promise<string>;
}

let postgres: TestPostgres;
const pglites: PgliteServer[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await Promise.all(pglites.map((p) => p.stop()));
  await postgres?.stop();
});

const backends: Backend[] = [
  { name: 'Postgres', fresh: () => postgres.newDatabase() },
  {
    name: 'PGlite',
    async fresh() {
      const server = await startPgliteServer(undefined);
      pglites.push(server);
      return server.url;
    },
  },
];

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe.each(backends)('applyMigrations on $name', (backend) => {
  it('applies every migration once and records it as Prisma does', async () => {
    const url = await backend.fresh();
    const files = await readMigrations(migrationsDir);
    expect(files.length).toBeGreaterThan(0);

    expect(await applyMigrations(url)).toEqual({ applied: files.map((f) => f.name), edited: [] });
    expect(await applyMigrations(url)).toEqual({ applied: [], edited: [] });

    const rows = await query<{
      migration_name: string;
      checksum: string;
      applied_steps_count: number;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      logs: string | null;
    }>(
      url,
      'SELECT migration_name, checksum, applied_steps_count, finished_at, rolled_back_at, logs FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      const bytes = await readFile(path.join(migrationsDir, files[i].name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
    }
  });

  it("is accepted by Prisma's own schema engine: migrate deploy finds nothing to apply", async () => {
    const url = await backend.fresh();
    await applyMigrations(url);
    const engine = await openPrismaWasmEngine({ url, schema: await readFile(schemaFile, 'utf8') });
    try {
      expect(await engine.applyMigrations(await migrationList(migrationsDir))).toEqual({ appliedMigrationNames: [] });
    } finally {
      await engine.close();
    }
  });

  it('builds exactly the database Prisma derives from schema.prisma (no drift)', async () => {
    const migrated = await backend.fresh();
    await applyMigrations(migrated);

    const fromSchema = await backend.fresh();
    const schema = await readFile(schemaFile, 'utf8');
    const engine = await openPrismaWasmEngine({ url: fromSchema, schema });
    let sql: string;
    try {
      sql = await engine.diff({ tag: 'empty' }, schemaTarget(schema));
    } finally {
      await engine.close();
    }
    await query(fromSchema, sql);

    const expected = await describeSchema(fromSchema);
    expect(expected.length).toBeGreaterThan(50);
    const actual = await describeSchema(migrated);
    expect({ missing: expected.filter((l) => !actual.includes(l)), unexpected: actual.filter((l) => !expected.includes(l)) }).toEqual({
      missing: [],
      unexpected: [],
    });
  });

  it('rolls back a failing migration completely and names its file and line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-migrations-'));
    try {
      await cp(migrationsDir, dir, { recursive: true });
      const broken = path.join(dir, '29990101000000_broken');
      await mkdir(broken);
      await writeFile(path.join(broken, 'migration.sql'), 'CREATE TABLE half_done (id INT);\n\nINSERT INTO no_such_table VALUES (1);\n');
      const url = await backend.fresh();

      await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toThrow(
        /29990101000000_broken\/migration\.sql: line 3: .*no_such_table/,
      );

      const tables = await query<{ name: string }>(url, "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'");
      expect(tables.map((t) => t.name)).not.toContain('half_done');
      expect(tables.map((t) => t.name)).toContain('prompt_version');
      const recorded = await query<{ migration_name: string }>(url, 'SELECT migration_name FROM _prisma_migrations');
      expect(recorded.map((r) => r.migration_name)).not.toContain('29990101000000_broken');

      // Fixed, it applies on the next run.
      await writeFile(path.join(broken, 'migration.sql'), 'CREATE TABLE half_done (id INT);\n');
      expect((await applyMigrations(url, { migrationsDir: dir })).applied).toEqual(['29990101000000_broken']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports applied migrations whose file changed since', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-migrations-'));
    try {
      await cp(migrationsDir, dir, { recursive: true });
      const url = await backend.fresh();
      await applyMigrations(url, { migrationsDir: dir });
      const [first] = await readMigrations(dir);
      await writeFile(path.join(dir, first.name, 'migration.sql'), `${first.script}\n-- edited\n`);
      expect(await applyMigrations(url, { migrationsDir: dir })).toEqual({ applied: [], edited: [first.name] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
