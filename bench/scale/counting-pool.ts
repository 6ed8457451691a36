/** pg Pools whose connections count every query sent (each one a database round trip). */
import pg from 'pg';

export interface QueryCounter {
  /** a new pool on `url` whose queries are counted here */
  pool(url: string, size: number): pg.Pool;
  queries(): number;
  /** summed wall time of the queries (overlapping queries each count) */
  queryMs(): number;
  /** count and summed wall time per prepared statement name (unnamed: "other") */
  byName(): Record<string, { n: number; ms: number }>;
}

export function queryCounter(): QueryCounter {
  let queries = 0;
  let queryMs = 0;
  const byName: Record<string, { n: number; ms: number }> = {};
  class CountingClient extends pg.Client {
    override query(...args: unknown[]): never {
      queries++;
      const started = performance.now();
      const first = args[0] as { name?: string } | string;
      const entry = (byName[typeof first === 'object' && first.name ? first.name : 'other'] ??= { n: 0, ms: 0 });
      entry.n++;
      const done = (): void => {
        const ms = performance.now() - started;
        queryMs += ms;
        entry.ms += ms;
      };
      // pg.Pool passes a callback; other callers get a promise
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (...results: unknown[]) => {
          done();
          return (callback as (...r: unknown[]) => unknown)(...results);
        };
      }
      const result = (super.query as (...a: unknown[]) => unknown)(...args);
      if (result instanceof Promise) void result.finally(done).catch(() => undefined);
      return result as never;
    }
  }
  return {
    pool: (url, size) => new pg.Pool({ connectionString: url, max: size, Client: CountingClient }),
    queries: () => queries,
    queryMs: () => queryMs,
    byName: () => structuredClone(byName),
  };
}
