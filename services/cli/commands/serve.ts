/** `ptune serve` (the all-in-one server on embedded defaults) and `ptune migrate`. */
import { Option, type Command } from 'commander';
import {
  createLogger,
  createMetrics,
  logLevelFromEnv,
  onShutdownSignals,
  rpcMetricsObserver,
  startMetricsServer,
} from '../../observability/index.js';
import { databaseUrlFromEnv } from '../../config/index.js';
import { DEFAULT_PORT, startServer } from '../../server/index.js';
import { allInOneModules } from './all-in-one.js';
import { orchestrationGauges } from '../../coordinator/index.js';
import { applyMigrations, DEFAULT_DATA_DIR } from '../../storage/index.js';
import { mintProcessWorkerToken } from '../../auth/index.js';
import { integerAtLeast, memoryOptions, withOptions } from './engine/options.js';
import type { WeightsDtype } from '../../engine/model/weights-dtype.js';
import { addSecurityOptions, authUnlessLoopback, serverSecurity, type SecurityFlags } from './server-security.js';
import { quickstartRun } from './serve-quickstart.js';

interface ServeFlags extends SecurityFlags {
  dataDir: string;
  port: number;
  host: string;
  metricsPort?: number;
  sweepIntervalSeconds: number;
  sweepGraceSeconds: number;
  cacheMib: number;
  resolutionCache: boolean;
  workers: number;
  workerThreads?: number;
  quickstart?: boolean;
  weightsDtype: WeightsDtype;
  recompute?: boolean;
  maxMemory?: number;
}

export function registerServeCommands(program: Command): void {
  const serve = program
    .command('serve')
    .description(
      'run the all-in-one server: registry, training coordinator, in-process workers and access control, with health and reflection',
    )
    .addOption(
      new Option('--data-dir <dir>', 'embedded database and blob folder (ignored parts: DATABASE_URL → Postgres, S3_BUCKET → S3)')
        .env('PTUNE_DATA_DIR')
        .default(DEFAULT_DATA_DIR),
    )
    .addOption(
      new Option('--port <p>', 'gRPC port (0 picks a free one)').env('PTUNE_PORT').argParser(integerAtLeast(0)).default(DEFAULT_PORT),
    )
    .option('--host <h>', 'interface to bind (0.0.0.0 to serve other machines)', '127.0.0.1')
    .option('--metrics-port <p>', 'serve Prometheus /metrics on this port', integerAtLeast(0))
    .option('--sweep-interval-seconds <s>', 'time between orphan-blob sweeps (0 disables)', integerAtLeast(0), 600)
    .option('--sweep-grace-seconds <s>', 'unreferenced blobs younger than this are kept', integerAtLeast(0), 3600)
    .option('--cache-mib <n>', 'prompt payload cache size in MiB (0 disables)', integerAtLeast(0), 256)
    .option(
      '--no-resolution-cache',
      'resolve every GetPrompt in the database (default: keep resolutions until a change to their task is heard)',
    )
    .addOption(
      new Option('--workers <n>', 'in-process training workers (0: coordinator only)')
        .env('PTUNE_WORKERS')
        .argParser(integerAtLeast(0))
        .default(1),
    )
    .option('--worker-threads <n>', 'engine threads per in-process worker', integerAtLeast(1))
    .option(
      '--quickstart',
      'then run the quick-start job: train the examples/ prompts (skipped when their production aliases exist; PTUNE_MODEL: a GGUF to train on)',
    );
  withOptions(serve, memoryOptions());
  addSecurityOptions(serve, 'default on any interface but loopback').action(async (flags: ServeFlags) => {
    // the quick-start talks to a person: only warnings and errors in JSON unless PTUNE_LOG_LEVEL says otherwise
    const logger = createLogger({ component: 'server', level: logLevelFromEnv(process.env) ?? (flags.quickstart ? 'warn' : undefined) });
    const quickstart = flags.quickstart ? quickstartRun() : undefined;
    const metrics = createMetrics();
    const security = serverSecurity(flags, flags.host, authUnlessLoopback, [
      mintProcessWorkerToken(),
      ...(quickstart ? [quickstart.token] : []),
    ]);
    if (security.tls?.requireClientCert && flags.workers > 0)
      throw new Error('--tls-client-ca: in-process workers have no client certificate; use --workers 0 and run `ptune worker` processes');
    const server = await startServer({
      tls: security.tls,
      maxMessageBytes: security.limits.maxMessageBytes,
      dataDir: flags.dataDir,
      databaseUrl: databaseUrlFromEnv(process.env),
      env: process.env,
      port: flags.port,
      host: flags.host,
      logger,
      hooks: { observe: rpcMetricsObserver(metrics) },
      modules: security.secure(
        allInOneModules({
          cacheBytes: flags.cacheMib * 1024 * 1024,
          resolutionCache: flags.resolutionCache,
          onCacheLookup: (result) => metrics.recordPromptCacheLookup(result),
          sweeper: { intervalMs: flags.sweepIntervalSeconds * 1000, graceMs: flags.sweepGraceSeconds * 1000 },
          coordinator: { limits: security.limits },
          workers: {
            count: flags.workers,
            threads: flags.workerThreads,
            connection: security.inProcessConnection,
            onStep: () => metrics.recordTrainingSteps(),
            memory: { weightsDtype: flags.weightsDtype, recompute: flags.recompute === true, maxMemory: flags.maxMemory },
          },
        }),
      ),
    });
    metrics.collectOrchestrationState(orchestrationGauges(server.context.prisma));
    metrics.collectChangeNotifications(() => server.context.promptChanges.live);
    const metricsServer =
      flags.metricsPort === undefined
        ? undefined
        : await startMetricsServer({ port: flags.metricsPort, host: flags.host, registry: metrics.registry });
    // handlers first: whoever sees the line below may send a signal at once
    onShutdownSignals(
      async () => {
        // the quick start runs with warnings-only logs, where the drain's own log line is not shown
        if (quickstart)
          process.stderr.write('\nptune: stopping: the quick start is interrupted, running calls drain (Ctrl-C again to exit at once)\n');
        await quickstart?.stop();
        await metricsServer?.close();
        await server.close();
      },
      { logger },
    );
    const storage = server.context.database.embedded ? `embedded database in ${server.context.dataDir}` : 'Postgres from DATABASE_URL';
    process.stdout.write(
      `ptune serving on ${flags.host}:${server.port} (${storage}; ${security.tls ? 'TLS' : 'plaintext'}; authentication ${security.authenticate ? 'on' : 'OFF (loopback only)'})\n`,
    );
    logger.info({ port: server.port, host: flags.host, metricsPort: metricsServer?.port }, 'serving');
    quickstart?.start({ host: flags.host, port: server.port, dataDir: server.context.dataDir, connection: security.inProcessConnection });
  });

  program
    .command('migrate')
    .description('apply pending database migrations to DATABASE_URL (embedded databases migrate themselves at start)')
    .option('--database-url <url>', 'Postgres URL (default: DATABASE_URL)')
    .action(async (flags: { databaseUrl?: string }) => {
      const url = flags.databaseUrl ?? databaseUrlFromEnv(process.env);
      if (url === undefined || url === '') throw new Error('no database: set DATABASE_URL or pass --database-url');
      const result = await applyMigrations(url);
      for (const name of result.edited) process.stderr.write(`warning: migration ${name} was edited after it was applied\n`);
      process.stdout.write(
        result.applied.length === 0
          ? 'database is up to date\n'
          : `applied ${result.applied.length} migration(s): ${result.applied.join(', ')}\n`,
      );
    });
}
