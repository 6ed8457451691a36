/**
 * The coordinator under test, in its own process (the simulated workers get the other core):
 *   node --import tsx coordinator-main.ts <databaseUrl> <blobDir>
 * Wired like `ptune coordinator` on Postgres: Prisma for the services, a dedicated pg Pool for the
 * queue's hot SQL (BENCH_PRISMA_QUEUE=1 sends the queue through Prisma instead, for comparison).
 * Answers IPC "queries" with the database round trips so far and the process's CPU time.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { createCoordinator } from '../../services/coordinator/index.js';
import { startGrpcServer } from '../../services/grpc/index.js';
import { LocalBlobStore, PrismaClient } from '../../services/storage/index.js';
import { queryCounter } from './counting-pool.js';

const [url, blobDir] = process.argv.slice(2);
const counter = queryCounter();
const prisma = new PrismaClient({ adapter: new PrismaPg(counter.pool(url, 10)) });
const queuePool = process.env.BENCH_PRISMA_QUEUE ? undefined : counter.pool(url, 10);
const coordinator = createCoordinator({
  prisma,
  queuePool,
  blobs: new LocalBlobStore(blobDir),
  config: { maintenanceIntervalMs: 1000 },
  listenUrl: url,
});
const server = await startGrpcServer({
  port: 0,
  host: '127.0.0.1',
  services: coordinator.services,
  logger: { error: (_c, message) => console.error(message) },
});
process.on('message', (message) => {
  if (message === 'queries') {
    const cpu = process.cpuUsage();
    process.send?.({ queries: counter.queries(), queryMs: counter.queryMs(), cpuMs: (cpu.user + cpu.system) / 1000 });
    if (process.env.BENCH_QUERY_STATS) console.error(JSON.stringify(counter.byName()));
  }
  if (message === 'stop')
    void coordinator
      .stop()
      .then(() => server.close(1000))
      .then(() => queuePool?.end())
      .then(() => process.exit(0));
});
process.send?.({ port: server.port });
