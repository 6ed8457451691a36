/** `ptune worker`: a training worker for a coordinator. */
import type { Command } from 'commander';
import { createMetrics, DEFAULT_METRICS_PORT, startMetricsServer } from '../../observability/index.js';
import { defaultCacheDir, runWorker } from '../../worker/index.js';
import { clientOptionsFromEnv } from '../../client/index.js';
import { integerAtLeast, runtimeOptions, runtimeSettings, withOptions, type RuntimeFlags } from './engine/options.js';

interface WorkerFlags extends RuntimeFlags {
  coordinator: string;
  name?: string;
  cacheDir?: string;
  metricsPort: number;
}

export function registerWorkerCommands(program: Command): void {
  const worker = program
    .command('worker')
    .description('lease and train trials from a coordinator until SIGTERM (then checkpoint and give the lease back)')
    .requiredOption('--coordinator <host:port>', 'coordinator address')
    .option('--name <name>', 'stable worker name, e.g. the pod name (default: host-pid)')
    .option('--cache-dir <dir>', 'blob cache (default: PTUNE_CACHE_DIR or ~/.cache/ptune)')
    .option(
      '--metrics-port <p>',
      'serve Prometheus /metrics on this port (0 disables; if taken, a free port, logged)',
      integerAtLeast(0),
      DEFAULT_METRICS_PORT,
    );
  withOptions(worker, runtimeOptions()).action(async (flags: WorkerFlags) => {
    const metrics = createMetrics();
    // several workers on one host share the default port: the second serves /metrics elsewhere and says so
    const metricsServer =
      flags.metricsPort === 0
        ? undefined
        : await startMetricsServer({ port: flags.metricsPort, registry: metrics.registry, whenBusy: 'free-port' });
    if (metricsServer?.movedFromBusyPort)
      process.stderr.write(
        `[worker] metrics port ${flags.metricsPort} is in use; serving /metrics on port ${metricsServer.port} instead\n`,
      );
    const stop = new AbortController();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        process.stderr.write(`[worker] ${signal}: checkpointing and releasing the lease\n`);
        stop.abort();
      });
    }
    try {
      await runWorker({
        coordinator: flags.coordinator,
        ...runtimeSettings(flags),
        maxMemory: flags.maxMemory,
        name: flags.name,
        cacheDir: flags.cacheDir ?? defaultCacheDir(process.env),
        signal: stop.signal,
        connection: clientOptionsFromEnv(process.env),
        onStep: () => metrics.recordTrainingSteps(),
      });
    } finally {
      await metricsServer?.close();
    }
  });
}
