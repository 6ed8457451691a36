import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { openDatabase, type Database } from '../../services/storage/index.js';
import { startPostgres, type TestPostgres } from './postgres.js';

/** What usePostgresPools sets up; filled in before the first test. */
export interface PostgresPools {
  db: Database;
  /** extra pg Pools on the same database, as several coordinator replicas would have */
  pools: pg.Pool[];
  /** a temporary folder (blobs) */
  dir: string;
}

/**
 * Registers the hooks of a describe block that races SQL from several pools: a real Postgres server
 * with one migrated database, Prisma on it, `pools` extra pg Pools, and a temporary folder. An idle
 * pool client's error fails the test after which it happened instead of crashing the run.
 */
export function usePostgresPools(options: { pools: number; maxPerPool: number; prismaPoolSize: number }): PostgresPools {
  const env = {} as PostgresPools;
  let server: TestPostgres | undefined;
  const poolErrors: Error[] = [];
  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.newDatabase();
    env.db = await openDatabase({ url, migrate: true, poolSize: options.prismaPoolSize });
    env.pools = Array.from({ length: options.pools }, () => new pg.Pool({ connectionString: url, max: options.maxPerPool }));
    for (const p of env.pools) p.on('error', (err) => poolErrors.push(err));
    env.dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-pools-'));
  }, 120_000);
  afterEach(() => expect(poolErrors).toEqual([]));
  afterAll(async () => {
    for (const p of env.pools ?? []) await p.end();
    await env.db?.close();
    await server?.stop();
    if (env.dir) await rm(env.dir, { recursive: true, force: true });
  });
  return env;
}
