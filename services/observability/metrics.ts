import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createLogger, type Logger } from './logger.js';
import { createStepRate } from './step-rate.js';

export type PromptCacheResult = 'hit' | 'miss';

/** Trial counts keyed by trial state name (QUEUED, RUNNING, …), as read from the database. */
export type TrialCounts = Readonly<Record<string, number>>;

/**
 * Database reads behind the orchestration gauges; each runs once per scrape. Return every state
 * (zeros included) so that series exist before the first trial of a state.
 */
export interface OrchestrationStateProviders {
  readonly trialsByState: () => Promise<TrialCounts>;
  /** Trials whose lease is held and not expired. */
  readonly activeLeases: () => Promise<number>;
}

export interface MetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC). Default true. */
  readonly defaultMetrics?: boolean;
  /** Window of ptune_training_steps_per_second, in seconds. Default 30. */
  readonly stepRateWindowSeconds?: number;
  /** Millisecond clock; default Date.now. */
  readonly now?: () => number;
  /**
   * Called when a provider fails; in that scrape its single-value gauges read NaN and ptune_trials has
   * no samples. Default: a warning log.
   */
  readonly onCollectError?: (error: unknown, provider: keyof OrchestrationStateProviders) => void;
}

/** The project's Prometheus series, in one registry per process. */
export interface PtuneMetrics {
  readonly registry: Registry;
  /** One finished RPC: full method name ("ptune.v1.Registry/GetPrompt"), gRPC status name ("OK"). */
  observeRpc(method: string, code: string, seconds: number): void;
  /** Coordinator: registers the database-backed gauges, read on every scrape. Call once. */
  collectOrchestrationState(providers: OrchestrationStateProviders): void;
  /** Worker: optimizer steps just completed. */
  recordTrainingSteps(count?: number): void;
  /** Registry: one lookup of the in-memory prompt cache. */
  recordPromptCacheLookup(result: PromptCacheResult): void;
  /**
   * Registry: whether prompt change notifications are known to arrive (PromptChanges.live), read on
   * every scrape. 0 means GetPrompt resolves every call in the database (listener down, or a
   * transaction-pooling proxy in front of Postgres).
   */
  collectChangeNotifications(isLive: () => boolean): void;
}

/** Latency buckets in seconds: sub-millisecond unary calls up to minutes-long streams. */
const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createMetrics(options: MetricsOptions = {}): PtuneMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  let warnings: Logger | undefined;
  const onCollectError =
    options.onCollectError ??
    ((error: unknown, provider: string) =>
      (warnings ??= createLogger({ component: 'metrics' })).warn(
        { err: error, provider },
        'metrics provider failed; its gauges are empty in this scrape',
      ));

  const rpcDuration = new Histogram({
    name: 'ptune_rpc_duration_seconds',
    help: 'Duration of served gRPC calls (streams: until the stream ends), by full method name and gRPC status.',
    labelNames: ['method', 'code'] as const,
    buckets: RPC_BUCKETS,
    registers: [registry],
  });

  const stepRate = createStepRate(options.stepRateWindowSeconds ?? 30, options.now ?? Date.now);
  const trainingSteps = new Counter({
    name: 'ptune_training_steps_total',
    help: 'Optimizer steps completed by this process.',
    registers: [registry],
  });
  new Gauge({
    name: 'ptune_training_steps_per_second',
    help: `Optimizer steps per second in this process, averaged over the last ${options.stepRateWindowSeconds ?? 30} s.`,
    registers: [registry],
    collect() {
      this.set(stepRate.perSecond());
    },
  });

  const cacheLookups = { hit: 0, miss: 0 };
  const cacheRequests = new Counter({
    name: 'ptune_prompt_cache_requests_total',
    help: 'Lookups of the in-memory prompt payload cache, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'ptune_prompt_cache_hit_ratio',
    help: 'Share of prompt cache lookups that were hits since the process started (NaN before the first lookup).',
    registers: [registry],
    collect() {
      this.set(cacheLookups.hit / (cacheLookups.hit + cacheLookups.miss));
    },
  });

  let changeNotificationsLive: (() => boolean) | undefined;
  new Gauge({
    name: 'ptune_prompt_change_notifications_live',
    help: 'Whether this server hears prompt version and alias changes (1), so GetPrompt may answer from memory; 0: every GetPrompt reads the database.',
    registers: [registry],
    collect() {
      if (changeNotificationsLive !== undefined) this.set(changeNotificationsLive() ? 1 : 0);
    },
  });

  let orchestrationRegistered = false;
  return {
    registry,
    observeRpc: (method, code, seconds) => rpcDuration.observe({ method, code }, seconds),
    recordTrainingSteps: (count = 1) => {
      trainingSteps.inc(count);
      stepRate.record(count);
    },
    recordPromptCacheLookup: (result) => {
      cacheLookups[result] += 1;
      cacheRequests.inc({ result });
    },
    collectChangeNotifications: (isLive) => {
      changeNotificationsLive = isLive;
    },
    collectOrchestrationState: (providers) => {
      if (orchestrationRegistered)
        throw new Error('collectOrchestrationState: the orchestration gauges are already registered in this registry');
      orchestrationRegistered = true;
      registerOrchestrationGauges(registry, providers, onCollectError);
    },
  };
}

function registerOrchestrationGauges(
  registry: Registry,
  providers: OrchestrationStateProviders,
  onCollectError: NonNullable<MetricsOptions['onCollectError']>,
): void {
  // ptune_trials and ptune_queue_depth are collected concurrently in one scrape: one query serves both.
  const trialCounts = shareInFlight(() =>
    providers.trialsByState().catch((error: unknown) => {
      onCollectError(error, 'trialsByState');
      return undefined;
    }),
  );
  const statesSeen = new Set<string>();

  new Gauge({
    name: 'ptune_trials',
    help: 'Trials by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await trialCounts();
      if (counts === undefined) return this.reset();
      // A state that emptied reports 0 instead of vanishing.
      for (const state of Object.keys(counts)) statesSeen.add(state);
      for (const state of statesSeen) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'ptune_queue_depth',
    help: 'Trials waiting for a worker (state QUEUED).',
    registers: [registry],
    async collect() {
      const counts = await trialCounts();
      this.set(counts === undefined ? NaN : (counts.QUEUED ?? 0));
    },
  });
  new Gauge({
    name: 'ptune_active_leases',
    help: 'Trials currently leased by a worker (lease not expired).',
    registers: [registry],
    async collect() {
      try {
        this.set(await providers.activeLeases());
      } catch (error) {
        onCollectError(error, 'activeLeases');
        this.set(NaN);
      }
    },
  });
}

/** Calls made while one load is pending share its promise. */
function shareInFlight<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= load().finally(() => {
      pending = undefined;
    }));
}
