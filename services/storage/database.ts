import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.js';
import { applyMigrations } from './migrations/apply-migrations.js';
import { lockDataDir } from './data-dir-lock.js';
import { startPgliteServer, type PgliteServer } from './pglite-server.js';

export interface OpenDatabaseOptions {
  /** Postgres URL (the entry point reads DATABASE_URL); without one, an embedded PGlite database is used. */
  url?: string;
  /** Embedded mode only: the database lives in `<dataDir>/pg`. Default `./.ptune`. */
  dataDir?: string;
  /** Connection pool size for a Postgres URL (default 10). Embedded mode always uses 1. */
  poolSize?: number;
  /** Apply pending migrations before returning. Default: true when embedded, false with a URL. */
  migrate?: boolean;
  /**
   * Embedded mode only: refresh the planner's statistics (ANALYZE) this often; 0 never. PGlite runs
   * no autovacuum, so without it the planner keeps its empty-table guesses for good (a task's first
   * page of 10,000 versions took 240 ms of sort instead of a 9 ms index scan). Default 30 s.
   */
  analyzeEveryMs?: number;
}

const DEFAULT_ANALYZE_EVERY_MS = 30_000;

export interface Database {
  prisma: PrismaClient;
  /** True for the embedded PGlite database. */
  embedded: boolean;
  /** The Postgres URL the client talks to (for embedded mode, the loopback socket server). */
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_DATA_DIR = './.ptune';

// With one pooled connection (embedded mode) interactive transactions queue behind each other;
// Prisma's defaults (2 s wait, 5 s run) are too short for that.
const EMBEDDED_TRANSACTION_OPTIONS = { maxWait: 60_000, timeout: 60_000 };

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const url = options.url;
  if (url !== undefined && url !== '') {
    if (options.migrate === true) await applyMigrations(url);
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: options.poolSize ?? 10 }) });
    return { prisma, embedded: false, url, close: () => prisma.$disconnect() };
  }

  const dataDir = path.resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const unlock = await lockDataDir(dataDir);
  let server: PgliteServer;
  try {
    server = await startPgliteServer(path.join(dataDir, 'pg'));
  } catch (err) {
    await unlock();
    throw err;
  }
  try {
    if (options.migrate !== false) await applyMigrations(server.url);
    const prisma = new PrismaClient({
      adapter: new PrismaPg({ connectionString: server.url, max: 1 }),
      transactionOptions: EMBEDDED_TRANSACTION_OPTIONS,
    });
    const analyzeEveryMs = options.analyzeEveryMs ?? DEFAULT_ANALYZE_EVERY_MS;
    // through the client's one connection, so it queues behind (never inside) another transaction;
    // a failure (e.g. while closing) only means the statistics wait for the next round
    const analyze =
      analyzeEveryMs > 0
        ? setInterval(() => void prisma.$executeRawUnsafe('ANALYZE').catch(() => undefined), analyzeEveryMs).unref()
        : undefined;
    return {
      prisma,
      embedded: true,
      url: server.url,
      async close() {
        clearInterval(analyze);
        await prisma.$disconnect();
        await server.stop();
        await unlock();
      },
    };
  } catch (err) {
    await server.stop();
    await unlock();
    throw err;
  }
}
