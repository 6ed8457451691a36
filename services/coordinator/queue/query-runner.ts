import type pg from 'pg';
import type { Prisma } from '../../storage/index.js';

/** A fixed SQL text with `$n` parameters; `name` lets a pg connection prepare it once and reuse the plan. */
export interface QueueSql {
  readonly name: string;
  readonly text: string;
}

/**
 * How the queue's SQL reaches the database: a dedicated `pg` Pool on Postgres (named prepared
 * statements, no ORM on the hot path), or Prisma (embedded PGlite allows one connection, which Prisma owns).
 */
export interface QueryRunner {
  query<R>(sql: QueueSql, values: readonly unknown[]): Promise<R[]>;
  /** Runs `work` in one transaction (READ COMMITTED: each statement sees what committed before it began). */
  transaction<T>(work: (tx: QueryRunner) => Promise<T>): Promise<T>;
}

export function poolRunner(pool: pg.Pool): QueryRunner {
  const on =
    (client: pg.Pool | pg.PoolClient): QueryRunner['query'] =>
    async <R>(sql: QueueSql, values: readonly unknown[]) =>
      (await client.query({ name: sql.name, text: sql.text, values: [...values] })).rows as R[];
  return {
    query: on(pool),
    async transaction(work) {
      const client = await pool.connect();
      // a checked-out client has no pool listener: without this, a server restart between two
      // statements would be an unhandled 'error' event (the process would exit)
      let broken: Error | undefined;
      const onError = (err: Error): void => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const tx: QueryRunner = { query: on(client), transaction: (inner) => inner(tx) };
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (!broken) await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
        throw err;
      } finally {
        client.off('error', onError);
        // a broken connection is closed instead of going back to the pool
        client.release(broken);
      }
    },
  };
}

type PrismaLike = Prisma.TransactionClient & { $transaction?: unknown };

/** Runs queue SQL through Prisma; inside `prisma.$transaction` pass the transaction client. */
export function prismaRunner(db: PrismaLike): QueryRunner {
  const runner: QueryRunner = {
    query: <R>(sql: QueueSql, values: readonly unknown[]) => db.$queryRawUnsafe<R[]>(sql.text, ...values),
    transaction: (work) =>
      typeof db.$transaction === 'function'
        ? (db as unknown as { $transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> }).$transaction((tx) =>
            work(prismaRunner(tx)),
          )
        : work(runner),
  };
  return runner;
}
