/**
 * GetPrompt serving benchmark (`npm run bench:registry`).
 * Warm: a 20×4096 float32 prompt resolved by alias and served from the verified in-memory cache, at
 * 1, 16 and 64 concurrent calls, by the registry as deployed (the alias resolution kept until a
 * Postgres NOTIFY says the task changed); in the same run a bare grpc-js handler (same process, same
 * message-size options) returning the same response bytes pre-encoded is the ceiling, and the ratio
 * is printed (target ≥ 0.8). A third column turns the resolution cache off (one light Postgres query
 * per call, shared by concurrent identical calls).
 * Cold: the cache off, so every call reads and verifies the blob from an S3 wire server (s3rver), over
 * Postgres; sequential calls, p50/p99.
 * The servers run in a child process (their own event loop and core); this process is the client.
 * Env: BENCH_DURATION_MS (per round, default 1000), BENCH_ROUNDS (default 8). Many short rounds, in
 * a rotating order, make the best round of each side a steadier estimate on a shared machine.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { createClient, createGrpcTransport } from '../../services/grpc/index.js';
import { startPostgres } from '../../test/support/postgres.js';
import { startS3 } from '../../test/support/s3.js';
import { GET_PROMPT_REQUEST } from './bench-prompt.js';
import { best, percentiles, runLoad, type LoadResult } from './load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONCURRENCY = [1, 16, 64];
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const COLD_CALLS = 300;

const postgres = await startPostgres();
const s3 = await startS3('ptune-bench');
const child = spawn(
  process.execPath,
  [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', path.join(here, 'bench-servers.ts')],
  {
    env: {
      ...process.env,
      BENCH_WARM_DATABASE_URL: await postgres.newDatabase(),
      BENCH_COLD_DATABASE_URL: await postgres.newDatabase(),
      BENCH_S3_BUCKET: s3.bucket,
      BENCH_S3_ENDPOINT: s3.endpoint,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
try {
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const ports = JSON.parse(line) as { warm: number; uncached: number; cold: number; bare: number; responseBytes: number };
  const clientFor = (port: number) => createClient(PromptRegistryService, createGrpcTransport(`127.0.0.1:${port}`));
  const registry = clientFor(ports.warm);
  const bare = clientFor(ports.bare);
  const uncachedRegistry = clientFor(ports.uncached);
  const check = await registry.getPrompt(GET_PROMPT_REQUEST);

  const rows: string[] = [];
  const fmt = (r: LoadResult): string =>
    `${r.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms`;
  process.stdout.write(
    `GetPrompt, 20×4096 f32 (${check.safetensors.byteLength} B payload, ${ports.responseBytes} B response), best of ${ROUNDS} alternating ${DURATION_MS} ms rounds per side, load average ${loadavg()[0].toFixed(2)}\n`,
  );
  for (const concurrency of CONCURRENCY) {
    // Alternate the sides over several rounds and keep each side's best round: other load on the
    // machine only ever slows a round down, so the best round is the fairest comparison.
    // The order rotates each round, so no side always runs right after another one's garbage.
    const sides = [bare, registry, uncachedRegistry];
    const bestOf: (LoadResult | undefined)[] = [undefined, undefined, undefined];
    for (let round = 0; round < ROUNDS; round++) {
      for (let turn = 0; turn < sides.length; turn++) {
        const side = (round + turn) % sides.length;
        bestOf[side] = best(bestOf[side], await runLoad(() => sides[side].getPrompt(GET_PROMPT_REQUEST), concurrency, DURATION_MS));
      }
    }
    const [ceiling, served, uncached] = bestOf;
    if (ceiling === undefined || served === undefined || uncached === undefined) throw new Error('no rounds ran');
    const ratio = (r: LoadResult): string => (r.requestsPerSecond / (ceiling as LoadResult).requestsPerSecond).toFixed(2);
    const cells = (r: LoadResult): string => `${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)}`;
    rows.push(`| ${concurrency} | ${cells(served)} | ${ratio(served)} | ${cells(uncached)} | ${ratio(uncached)} | ${cells(ceiling)} |`);
    process.stdout.write(`c=${concurrency}: registry ${fmt(served)} | resolution cache off ${fmt(uncached)} | bare ${fmt(ceiling)}\n`);
  }
  process.stdout.write(
    '\n| conc. | registry req/s | p50 ms | p99 ms | ratio | resolution cache off req/s | p50 ms | p99 ms | ratio | bare grpc-js req/s | p50 ms | p99 ms |\n' +
      '|---|---|---|---|---|---|---|---|---|---|---|---|\n',
  );
  process.stdout.write(`${rows.join('\n')}\n(load average at the end ${loadavg()[0].toFixed(2)})\n`);

  const cold = clientFor(ports.cold);
  const latencies: number[] = [];
  for (let i = 0; i < COLD_CALLS; i++) {
    const t = performance.now();
    await cold.getPrompt(GET_PROMPT_REQUEST);
    latencies.push(performance.now() - t);
  }
  const p = percentiles(latencies);
  process.stdout.write(
    `\ncold GetPrompt (cache off; Postgres + s3rver; ${COLD_CALLS} sequential calls): p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms\n`,
  );
} finally {
  child.kill('SIGTERM');
  await s3.stop();
  await postgres.stop();
}
process.exit(0);
