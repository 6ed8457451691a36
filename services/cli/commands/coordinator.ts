/** `ptune coordinator`: the production server (DATABASE_URL + S3 from the environment), no in-process workers. */
import { Option, type Command } from 'commander';
import { databaseUrlFromEnv, DEFAULT_LIMITS, limitsFromEnv, type Limits } from '../../config/index.js';
import { orchestrationGauges } from '../../coordinator/index.js';
import {
  createLogger,
  createMetrics,
  DEFAULT_METRICS_PORT,
  logLevelFromEnv,
  onShutdownSignals,
  rpcMetricsObserver,
  startMetricsServer,
} from '../../observability/index.js';
import { DEFAULT_PORT, startServer } from '../../server/index.js';
import { allInOneModules } from './all-in-one.js';
import { consoleUrl } from './console-url.js';
import { integerAtLeast } from './engine/options.js';
import { addSecurityOptions, authAlways, serverSecurity, type SecurityFlags } from './server-security.js';

interface CoordinatorFlags extends SecurityFlags {
  port: number;
  httpPort: number;
  host: string;
  metricsPort: number;
  migrate?: boolean;
  leaseTtlSeconds: number;
  maxTrialsPerJob?: number;
}

export function registerCoordinatorCommands(program: Command): void {
  const command = program
    .command('coordinator')
    .description(
      'run the coordinator + registry for a cluster: Postgres from DATABASE_URL, blobs from S3_* (see README), workers connect with `ptune worker`',
    )
    .option('--port <p>', 'gRPC port', integerAtLeast(0), DEFAULT_PORT)
    .option('--host <h>', 'interface to bind', '0.0.0.0')
    .addOption(
      new Option('--http-port <p>', 'HTTP port for the web console and the OpenAI-compatible endpoint (0 picks a free one)')
        .env('PTUNE_HTTP_PORT')
        .argParser(integerAtLeast(0))
        .default(8080),
    )
    .option('--metrics-port <p>', 'serve Prometheus /metrics on this port (0 disables)', integerAtLeast(0), DEFAULT_METRICS_PORT)
    .option('--migrate', 'apply pending migrations first (otherwise run `ptune migrate`)')
    .option('--lease-ttl-seconds <s>', 'a lease not heartbeated for this long is requeued', integerAtLeast(2), 30)
    .option(
      '--max-trials-per-job <n>',
      `largest job (tasks × sweep points) accepted (overrides PTUNE_MAX_TRIALS_PER_JOB; default ${DEFAULT_LIMITS.maxTrialsPerJob})`,
      integerAtLeast(1),
    );
  addSecurityOptions(command, 'default; --no-auth is allowed on loopback only').action(async (flags: CoordinatorFlags) => {
    const databaseUrl = databaseUrlFromEnv(process.env);
    if (!databaseUrl) throw new Error('ptune coordinator needs DATABASE_URL (Postgres); for a single machine use `ptune serve`');
    const logger = createLogger({ component: 'coordinator', level: logLevelFromEnv(process.env) });
    const ttl = flags.leaseTtlSeconds * 1000;
    const limits: Limits = {
      ...limitsFromEnv(process.env),
      ...(flags.maxTrialsPerJob === undefined ? {} : { maxTrialsPerJob: flags.maxTrialsPerJob }),
    };
    const security = serverSecurity(flags, flags.host, authAlways, [], limits);
    const metrics = createMetrics();
    const server = await startServer({
      tls: security.tls,
      maxMessageBytes: security.limits.maxMessageBytes,
      databaseUrl,
      env: process.env,
      migrate: flags.migrate ?? false,
      port: flags.port,
      httpPort: flags.httpPort,
      host: flags.host,
      logger,
      hooks: { observe: rpcMetricsObserver(metrics) },
      modules: security.secure(
        allInOneModules({
          onCacheLookup: (result) => metrics.recordPromptCacheLookup(result),
          coordinator: { leaseTtlMs: ttl, heartbeatIntervalMs: Math.max(500, Math.floor(ttl / 6)), limits },
          workers: { count: 0 },
          console: { tls: security.inProcessConnection.tls, callTimeoutMs: security.limits.internalCallTimeoutMs },
        }),
      ),
    });
    metrics.collectOrchestrationState(orchestrationGauges(server.context.prisma));
    metrics.collectChangeNotifications(() => server.context.promptChanges.live);
    const metricsServer =
      flags.metricsPort === 0
        ? undefined
        : await startMetricsServer({ port: flags.metricsPort, host: flags.host, registry: metrics.registry });
    process.stdout.write(
      `ptune coordinator serving on ${flags.host}:${server.port} (${security.tls ? 'TLS' : 'plaintext'}, authentication ${security.authenticate ? 'on' : 'OFF'}; metrics ${metricsServer ? `on :${metricsServer.port}/metrics` : 'off'})\n`,
    );
    if (server.httpPort !== undefined)
      process.stdout.write(`web console: ${consoleUrl(flags.host, server.httpPort, security.tls !== undefined)}\n`);
    onShutdownSignals(
      async () => {
        await metricsServer?.close();
        await server.close();
      },
      { logger },
    );
  });
}
