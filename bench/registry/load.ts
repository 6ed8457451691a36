/** A closed-loop load generator: `concurrency` callers, each issuing the next call when the last returns. */
export interface LoadResult {
  calls: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export async function runLoad(call: () => Promise<unknown>, concurrency: number, durationMs: number, warmupMs = 500): Promise<LoadResult> {
  const warmupEnd = performance.now() + warmupMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < warmupEnd) await call();
    }),
  );
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - start;
  return { calls: latencies.length, requestsPerSecond: (latencies.length / elapsed) * 1000, ...percentiles(latencies) };
}

export function percentiles(latencies: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** The round with the higher throughput. */
export function best(a: LoadResult | undefined, b: LoadResult): LoadResult {
  return a === undefined || b.requestsPerSecond > a.requestsPerSecond ? b : a;
}
