// Development-time only: Prisma's schema engine compiled to WASM (@prisma/schema-engine-wasm, a
// devDependency with an internal API), driven through the pg driver adapter. Used to write new
// migrations offline (diff-cli.ts) and by tests that check migrations against schema.prisma and
// against Prisma's own migration bookkeeping. The runtime never imports this file.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { ApplyMigrationsOutput, DiffResult, DiffTarget, MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';
import { readMigrations } from './read-migrations.js';

export type { DiffTarget, MigrationList };

export interface PrismaWasmEngine {
  /** SQL that takes `from` to `to` (empty string when they match). */
  diff(from: DiffTarget, to: DiffTarget): Promise<string>;
  /** Prisma's own `migrate deploy` against the adapter's database. */
  applyMigrations(list: MigrationList): Promise<ApplyMigrationsOutput>;
  /** Frees the engine and closes its database connections. */
  close(): Promise<void>;
}

const NO_FILTER = { externalTables: [], externalEnums: [] };
let initialized: Promise<void> | undefined;

// tsconfig's lib has no WebAssembly declarations (ES only); these are the two calls used here.
interface WasmExports {
  __wbindgen_start(): void;
}
interface WasmRuntime {
  instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: { exports: WasmExports } }>;
}

// The package's entry imports the .wasm file as an ES module (bundler style), which Node cannot do.
async function initialize(): Promise<void> {
  const require = createRequire(import.meta.url);
  const wasmFile = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
  const { WebAssembly } = globalThis as unknown as { WebAssembly: WasmRuntime };
  const { instance } = await WebAssembly.instantiate(await readFile(wasmFile), { './schema_engine_bg.js': bindings });
  (bindings as unknown as { __wbg_set_wasm(exports: WasmExports): void }).__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
}

export interface PrismaWasmEngineOptions {
  /** The database the engine works on. */
  url: string;
  /** An empty database the engine may use as its shadow (needed to diff from migrations). */
  shadowUrl?: string;
  schema: string;
}

export async function openPrismaWasmEngine(options: PrismaWasmEngineOptions): Promise<PrismaWasmEngine> {
  initialized ??= initialize();
  await initialized;
  const main = new PrismaPg({ connectionString: options.url, max: 1 });
  const connections: SqlDriverAdapter[] = [];
  const track = async (adapter: Promise<SqlDriverAdapter>): Promise<SqlDriverAdapter> => {
    connections.push(await adapter);
    return connections[connections.length - 1];
  };
  // The adapter's own shadow database handling drops the database while its pool is still
  // connected; an explicitly provided empty database avoids that and works for PGlite too.
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => track(main.connect()),
    connectToShadowDb: () => {
      if (options.shadowUrl === undefined) throw new Error('this operation needs a shadow database: pass shadowUrl');
      return track(new PrismaPg({ connectionString: options.shadowUrl, max: 1 }).connect());
    },
  };
  const engine: SchemaEngine = await (bindings.SchemaEngine as unknown as typeof SchemaEngine).new(
    { datamodels: [['schema.prisma', options.schema]] },
    () => undefined,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  return {
    async diff(from, to) {
      const result: DiffResult = await engine.diff({ from, to, script: true, exitCode: null, filters: NO_FILTER });
      return (result.stdout ?? '').trim();
    },
    applyMigrations: (migrationsList) => engine.applyMigrations({ migrationsList, filters: NO_FILTER }),
    async close() {
      engine.free();
      await Promise.all(connections.map((c) => c.dispose()));
    },
  };
}

/** The migrations directory in the shape the engine expects. */
export async function migrationList(migrationsDir: string): Promise<MigrationList> {
  const lockfile = path.join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: await readFile(lockfile, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: (await readMigrations(migrationsDir)).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.script } },
    })),
  };
}

export function schemaTarget(schema: string): DiffTarget {
  return { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] };
}
