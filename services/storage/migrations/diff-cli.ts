// Writes a new Prisma migration offline: the SQL that takes the previous schema.prisma (from git,
// or empty) to the current one, computed by Prisma's WASM schema engine.
//   npx tsx services/storage/migrations/diff-cli.ts --name add_x [--from-git REV | --from-empty | --from FILE] [--print]
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPgliteServer } from '../pglite-server.js';
import { openPrismaWasmEngine, schemaTarget, type DiffTarget } from './prisma-wasm-engine.js';
import { defaultMigrationsDir } from './read-migrations.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    'from-git': { type: 'string' },
    'from-empty': { type: 'boolean' },
    from: { type: 'string' },
    print: { type: 'boolean' },
  },
});
if (values.name === undefined && values.print !== true) {
  throw new Error('diff-cli: pass --name <snake_case_name> (or --print to only show the SQL)');
}
if (values.name !== undefined && !/^[a-z0-9_]+$/.test(values.name)) {
  throw new Error(`diff-cli: --name ${JSON.stringify(values.name)} must be snake_case [a-z0-9_]`);
}

const migrationsDir = defaultMigrationsDir();
const repoRoot = path.resolve(migrationsDir, '..', '..');
const schemaFile = path.join(repoRoot, 'prisma', 'schema.prisma');
const schema = await readFile(schemaFile, 'utf8');

async function previousSchema(): Promise<DiffTarget> {
  if (values['from-empty'] === true) return { tag: 'empty' };
  if (values.from !== undefined) return schemaTarget(await readFile(values.from, 'utf8'));
  const rev = values['from-git'] ?? 'HEAD';
  const old = execFileSync('git', ['show', `${rev}:prisma/schema.prisma`], { cwd: repoRoot, encoding: 'utf8' });
  return schemaTarget(old);
}

const scratch = await startPgliteServer(undefined);
try {
  const engine = await openPrismaWasmEngine({ url: scratch.url, schema });
  const sql = await engine.diff(await previousSchema(), schemaTarget(schema));
  await engine.close();
  if (sql === '' || sql.startsWith('-- This is an empty migration.')) {
    console.log('no difference: nothing to write');
  } else if (values.print === true || values.name === undefined) {
    console.log(sql);
  } else {
    const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const dir = path.join(migrationsDir, `${stamp}_${values.name}`);
    await mkdir(dir);
    await writeFile(path.join(dir, 'migration.sql'), `${sql}\n`);
    console.log(`wrote ${path.relative(repoRoot, dir)}/migration.sql`);
  }
} finally {
  await scratch.stop();
}
