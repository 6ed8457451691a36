/** A PrismaClient whose pg connections count every query sent (each one a database round trip). */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../../services/storage/index.js';

export interface CountingPrisma {
  prisma: PrismaClient;
  queries(): number;
  /** summed wall time of the queries (overlapping queries each count) */
  queryMs(): number;
}

export function countingPrisma(url: string, poolSize: number): CountingPrisma {
  let queries = 0;
  let queryMs = 0;
  class CountingClient extends pg.Client {
    override query(...args: unknown[]): never {
      queries++;
      const started = performance.now();
      const result = (super.query as (...a: unknown[]) => unknown)(...args);
      if (result instanceof Promise) void result.finally(() => (queryMs += performance.now() - started)).catch(() => undefined);
      return result as never;
    }
  }
  const pool = new pg.Pool({ connectionString: url, max: poolSize, Client: CountingClient });
  return { prisma: new PrismaClient({ adapter: new PrismaPg(pool) }), queries: () => queries, queryMs: () => queryMs };
}
