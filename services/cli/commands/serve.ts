/** `ptune serve` (the all-in-one server on embedded defaults) and `ptune migrate`. */
import path from 'node:path';
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
import type { ClientTransportOptions } from '../../client/index.js';
import { DEFAULT_PORT, startServer } from '../../server/index.js';
import { allInOneModules } from './all-in-one.js';
import { orchestrationGauges } from '../../coordinator/index.js';
import { applyMigrations, DEFAULT_DATA_DIR } from '../../storage/index.js';
import { mintProcessWorkerToken } from '../../auth/index.js';
import { integerAtLeast, memoryOptions, withOptions } from './engine/options.js';
import type { WeightsDtype } from '../../engine/model/weights-dtype.js';
import { fetchBaseModel, mintInferenceToken, type InferenceModuleOptions } from '../../inference/index.js';
import { quickstartModelName } from '../../quickstart/index.js';
import type { PtuneMetrics } from '../../observability/index.js';
import { addInferenceOptions, engineOptions, generationMetrics, HTTP_PORT_OPTION, type InferenceFlags } from './inference-options.js';
import { addSecurityOptions, authUnlessLoopback, serverSecurity, type SecurityFlags } from './server-security.js';
import { quickstartRun } from './serve-quickstart.js';
import { consoleUrl } from './console-url.js';

interface ServeFlags extends SecurityFlags, InferenceFlags {
  dataDir: string;
  port: number;
  httpPort: number;
  inferModel?: string;
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
    .addOption(HTTP_PORT_OPTION())
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
    .addOption(
      new Option(
        '--infer-model <name>',
        "serve this registered base model with every prompt trained for it (InferenceService and the OpenAI-compatible endpoint on --http-port); with --quickstart: the quick start's model",
      ).env('PTUNE_INFER_MODEL'),
    )
    .option(
      '--quickstart',
      'then run the quick-start job: train the examples/ prompts (skipped when their production aliases exist; PTUNE_MODEL: a GGUF to train on)',
    );
  withOptions(serve, memoryOptions());
  addInferenceOptions(serve);
  addSecurityOptions(serve, 'default on any interface but loopback').action(async (flags: ServeFlags) => {
    // the quick-start talks to a person: only warnings and errors in JSON unless PTUNE_LOG_LEVEL says otherwise
    const logger = createLogger({ component: 'server', level: logLevelFromEnv(process.env) ?? (flags.quickstart ? 'warn' : undefined) });
    const quickstart = flags.quickstart ? quickstartRun() : undefined;
    const metrics = createMetrics();
    const inferModel = flags.inferModel ?? (flags.quickstart ? quickstartModelName(process.env.PTUNE_MODEL || undefined) : undefined);
    const inferenceToken = inferModel === undefined ? undefined : mintInferenceToken();
    const security = serverSecurity(flags, flags.host, authUnlessLoopback, [
      mintProcessWorkerToken(),
      ...(quickstart ? [quickstart.token] : []),
      ...(inferenceToken ? [inferenceToken] : []),
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
      httpPort: flags.httpPort,
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
          console: { tls: security.inProcessConnection.tls, callTimeoutMs: security.limits.internalCallTimeoutMs },
          inference:
            inferModel === undefined
              ? undefined
              : servedModel(inferModel, flags, metrics, { ...security.inProcessConnection, readerToken: inferenceToken?.text }),
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
    const webUrl = server.httpPort === undefined ? undefined : consoleUrl(flags.host, server.httpPort, security.tls !== undefined);
    const inferenceUrl = webUrl !== undefined && inferModel !== undefined ? `${webUrl}v1` : undefined;
    if (webUrl !== undefined) process.stdout.write(`web console: ${webUrl}\n`);
    if (inferenceUrl !== undefined)
      process.stdout.write(
        `ptune inference: ${inferModel} with every prompt trained for it, on gRPC ${flags.host}:${server.port} and ${inferenceUrl} (OpenAI-compatible; loaded on the first request)\n`,
      );
    logger.info({ port: server.port, host: flags.host, httpPort: server.httpPort, metricsPort: metricsServer?.port }, 'serving');
    quickstart?.start({
      host: flags.host,
      port: server.port,
      consoleUrl: webUrl,
      inferenceUrl,
      authenticate: security.authenticate,
      dataDir: server.context.dataDir,
      connection: security.inProcessConnection,
    });
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

/**
 * The inference module of `ptune serve`: the model is read from the server itself on the first
 * request (its metadata with the module's reader token, its files with the in-process worker token).
 */
function servedModel(
  name: string,
  flags: ServeFlags,
  metrics: PtuneMetrics,
  connection: ClientTransportOptions & { readerToken?: string },
): InferenceModuleOptions {
  const { readerToken, ...transport } = connection;
  return {
    modelName: name,
    loadModel: (address) =>
      fetchBaseModel({
        registry: address,
        connection: { ...transport, token: readerToken },
        workerToken: transport.token,
        name,
        cacheDir: path.join(path.resolve(flags.dataDir), 'inference-cache'),
        weightsDtype: flags.weightsDtype,
      }),
    engine: engineOptions(flags),
    observer: generationMetrics(metrics),
    onEngineStats: (read) => metrics.collectInferenceEngine(read),
    connection: { tls: transport.tls },
  };
}
