import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One `prisma/migrations/<name>/migration.sql`, as Prisma identifies it. */
export interface MigrationFile {
  name: string;
  script: string;
  /** sha256 hex of the file bytes: the value Prisma stores in `_prisma_migrations.checksum`. */
  checksum: string;
}

/** `prisma/migrations` of the checkout or install this module lives in (src or dist). */
export function defaultMigrationsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(path.join(candidate, 'migration_lock.toml'))) return candidate;
  }
  throw new Error(`no prisma/migrations/migration_lock.toml above ${here}; pass migrationsDir explicitly`);
}

/** Migrations in the order Prisma applies them: directory names sorted ascending. */
export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      const bytes = await readFile(file).catch((err: unknown) => {
        throw new Error(`${file}: cannot read migration script (${String(err)})`);
      });
      return { name, script: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
}
