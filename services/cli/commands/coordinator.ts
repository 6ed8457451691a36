/** `ptune coordinator`: the production server (DATABASE_URL + S3 from the environment), no in-process workers. */
import type { Command } from 'commander';
import { createLogger, onShutdownSignals } from '../../observability/index.js';
import { allInOneModules, DEFAULT_PORT, startServer } from '../../server/index.js';
import { integerAtLeast } from './engine/options.js';

interface CoordinatorFlags {
  port: number;
  host: string;
  migrate?: boolean;
  leaseTtlSeconds: number;
  maxTrialsPerJob: number;
}

export function registerCoordinatorCommands(program: Command): void {
  program
    .command('coordinator')
    .description('run the coordinator + registry for a cluster: Postgres from DATABASE_URL, blobs from S3_* (see README), workers connect with `ptune worker`')
    .option('--port <p>', 'gRPC port', integerAtLeast(0), DEFAULT_PORT)
    .option('--host <h>', 'interface to bind', '0.0.0.0')
    .option('--migrate', 'apply pending migrations first (otherwise run `ptune migrate`)')
    .option('--lease-ttl-seconds <s>', 'a lease not heartbeated for this long is requeued', integerAtLeast(2), 30)
    .option('--max-trials-per-job <n>', 'largest job (tasks × sweep points) accepted', integerAtLeast(1), 1024)
    .action(async (flags: CoordinatorFlags) => {
      const databaseUrl = process.env.DATABASE_URL;
      if (!databaseUrl) throw new Error('ptune coordinator needs DATABASE_URL (Postgres); for a single machine use `ptune serve`');
      const logger = createLogger({ component: 'coordinator' });
      const ttl = flags.leaseTtlSeconds * 1000;
      const server = await startServer({
        databaseUrl,
        migrate: flags.migrate ?? false,
        port: flags.port,
        host: flags.host,
        logger,
        modules: allInOneModules({
          coordinator: { leaseTtlMs: ttl, heartbeatIntervalMs: Math.max(500, Math.floor(ttl / 6)), maxTrialsPerJob: flags.maxTrialsPerJob },
          workers: { count: 0 },
        }),
      });
      process.stdout.write(`ptune coordinator serving on ${flags.host}:${server.port}\n`);
      onShutdownSignals(() => server.close(), { logger });
    });
}
