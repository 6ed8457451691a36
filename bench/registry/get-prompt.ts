/**
 * GetPrompt serving benchmark (`npm run bench:registry`).
 * Warm: a 20×4096 float32 prompt resolved by alias (one Postgres query per call) and served from the
 * verified in-memory cache, at 1, 16 and 64 concurrent calls; in the same run a bare grpc-js handler
 * returning the same response bytes pre-encoded is the ceiling, and the ratio is printed (target ≥ 0.8).
 * Cold: the cache off, so every call reads and verifies the blob from an S3 wire server (s3rver), over
 * Postgres; sequential calls, p50/p99.
 * The servers run in a child process (their own event loop and core); this process is the client.
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
import { percentiles, runLoad, type LoadResult } from './load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONCURRENCY = [1, 16, 64];
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const COLD_CALLS = 300;

const postgres = await startPostgres();
const s3 = await startS3('ptune-bench');
const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', path.join(here, 'bench-servers.ts')], {
  env: {
    ...process.env,
    BENCH_WARM_DATABASE_URL: await postgres.newDatabase(),
    BENCH_COLD_DATABASE_URL: await postgres.newDatabase(),
    BENCH_S3_BUCKET: s3.bucket,
    BENCH_S3_ENDPOINT: s3.endpoint,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const ports = JSON.parse(line) as { warm: number; cold: number; bare: number; responseBytes: number };
  const clientFor = (port: number) => createClient(PromptRegistryService, createGrpcTransport(`127.0.0.1:${port}`));
  const registry = clientFor(ports.warm);
  const bare = clientFor(ports.bare);
  const check = await registry.getPrompt(GET_PROMPT_REQUEST);

  const rows: string[] = [];
  const fmt = (r: LoadResult): string => `${r.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms`;
  process.stdout.write(`GetPrompt, 20×4096 f32 (${check.safetensors.byteLength} B payload, ${ports.responseBytes} B response), ${DURATION_MS} ms per point, load average ${loadavg()[0].toFixed(2)}\n`);
  for (const concurrency of CONCURRENCY) {
    const ceiling = await runLoad(() => bare.getPrompt(GET_PROMPT_REQUEST), concurrency, DURATION_MS);
    const served = await runLoad(() => registry.getPrompt(GET_PROMPT_REQUEST), concurrency, DURATION_MS);
    rows.push(
      `| ${String(concurrency).padStart(2)} | ${served.requestsPerSecond.toFixed(0)} | ${served.p50Ms.toFixed(2)} | ${served.p99Ms.toFixed(2)} | ` +
        `${ceiling.requestsPerSecond.toFixed(0)} | ${ceiling.p50Ms.toFixed(2)} | ${ceiling.p99Ms.toFixed(2)} | ${(served.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)} |`,
    );
    process.stdout.write(`c=${concurrency}: registry ${fmt(served)} | bare ${fmt(ceiling)}\n`);
  }
  process.stdout.write('\n| conc. | registry req/s | p50 ms | p99 ms | bare grpc-js req/s | p50 ms | p99 ms | ratio |\n|---|---|---|---|---|---|---|---|\n');
  process.stdout.write(`${rows.join('\n')}\n`);

  const cold = clientFor(ports.cold);
  const latencies: number[] = [];
  for (let i = 0; i < COLD_CALLS; i++) {
    const t = performance.now();
    await cold.getPrompt(GET_PROMPT_REQUEST);
    latencies.push(performance.now() - t);
  }
  const p = percentiles(latencies);
  process.stdout.write(`\ncold GetPrompt (cache off; Postgres + s3rver; ${COLD_CALLS} sequential calls): p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms\n`);
} finally {
  child.kill('SIGTERM');
  await s3.stop();
  await postgres.stop();
}
process.exit(0);
