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

/** The inference engine's counters, read on every scrape (services/engine's EngineStats). */
export interface InferenceEngineState {
  readonly running: number;
  readonly queued: number;
  readonly slots: number;
  readonly prefixCacheHits: number;
  readonly prefixCacheMisses: number;
  readonly prefixCacheBytes: number;
}

/** One finished generation. */
export interface GenerationOutcome {
  readonly completionTokens: number;
  readonly timeToFirstTokenMs: number;
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
  /** Inference server: one generation ended (tokens per second, time to first token). */
  recordGeneration(outcome: GenerationOutcome): void;
  /** Inference server: batch occupancy and prefix-cache counters, read on every scrape (undefined: no model loaded yet, the gauges read 0). Call once. */
  collectInferenceEngine(state: () => InferenceEngineState | undefined): void;
}

/** Time-to-first-token buckets in seconds: a warm prefix on a small model up to a long prefill of a big one. */
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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

  const tokenRate = createStepRate(options.stepRateWindowSeconds ?? 30, options.now ?? Date.now);
  const generatedTokens = new Counter({
    name: 'ptune_inference_tokens_total',
    help: 'New tokens generated by this inference server.',
    registers: [registry],
  });
  new Gauge({
    name: 'ptune_inference_tokens_per_second',
    help: `New tokens per second generated by this inference server, averaged over the last ${options.stepRateWindowSeconds ?? 30} s.`,
    registers: [registry],
    collect() {
      this.set(tokenRate.perSecond());
    },
  });
  const timeToFirstToken = new Histogram({
    name: 'ptune_inference_time_to_first_token_seconds',
    help: 'Time from admission into the batch to the first new token.',
    buckets: TTFT_BUCKETS,
    registers: [registry],
  });

  let orchestrationRegistered = false;
  let inferenceRegistered = false;
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
    recordGeneration: (outcome) => {
      generatedTokens.inc(outcome.completionTokens);
      tokenRate.record(outcome.completionTokens);
      if (outcome.completionTokens > 0) timeToFirstToken.observe(outcome.timeToFirstTokenMs / 1000);
    },
    collectInferenceEngine: (state) => {
      if (inferenceRegistered) throw new Error('collectInferenceEngine: the inference gauges are already registered in this registry');
      inferenceRegistered = true;
      registerInferenceGauges(registry, state);
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

function registerInferenceGauges(registry: Registry, state: () => InferenceEngineState | undefined): void {
  const gauge = (name: string, help: string, value: (s: InferenceEngineState) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const s = state();
        if (s !== undefined) this.set(value(s));
      },
    });
  };
  gauge('ptune_inference_batch_running', 'Requests decoding in the running batch.', (s) => s.running);
  gauge('ptune_inference_batch_queued', 'Requests waiting for a batch slot.', (s) => s.queued);
  gauge('ptune_inference_batch_occupancy', 'Share of the batch slots in use (running / slots).', (s) => s.running / s.slots);
  gauge(
    'ptune_inference_prefix_cache_bytes',
    "Bytes held by the prefix cache (prompt versions' virtual-token keys/values).",
    (s) => s.prefixCacheBytes,
  );
  // the engine keeps running totals; a counter follows them by their growth since the last scrape
  const seen = { hit: 0, miss: 0 };
  new Counter({
    name: 'ptune_inference_prefix_cache_lookups_total',
    help: 'Prefix-cache lookups of prompt versions, by result (a miss computes the keys/values of its virtual tokens).',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const s = state();
      if (s === undefined) return;
      for (const [result, total] of [
        ['hit', s.prefixCacheHits],
        ['miss', s.prefixCacheMisses],
      ] as const) {
        if (total > seen[result]) this.inc({ result }, total - seen[result]);
        seen[result] = total;
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
