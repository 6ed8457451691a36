const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
type ShutdownSignal = (typeof SIGNALS)[number];
const SIGNAL_EXIT_CODES: Record<ShutdownSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export interface ShutdownOptions {
  /** Time the handler gets before the process exits anyway (code 1). Default 30 000. */
  readonly timeoutMs?: number;
  /** Told what happens (pino's Logger fits). Default: nothing is logged. */
  readonly logger?: { info(context: object, message: string): void; error(context: object, message: string): void };
}

/**
 * On the first SIGTERM or SIGINT, runs `drain` once and then exits: 0 when it resolves, 1 when it
 * throws or takes longer than timeoutMs. A second signal exits at once (128 + signal number).
 * Returns a function that removes the signal handlers.
 */
export function onShutdownSignals(drain: () => Promise<void>, options: ShutdownOptions = {}): () => void {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const logger = options.logger;
  let draining = false;

  const onSignal = (signal: ShutdownSignal): void => {
    if (draining) {
      logger?.error({ signal }, 'second shutdown signal: exiting without waiting for the drain');
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    draining = true;
    logger?.info({ signal, timeoutMs }, 'shutting down: draining');
    setTimeout(() => {
      logger?.error({ timeoutMs }, 'drain did not finish in time: exiting');
      process.exit(1);
    }, timeoutMs);
    drain().then(
      () => {
        logger?.info({}, 'drained: exiting');
        process.exit(0);
      },
      (error: unknown) => {
        logger?.error({ err: error }, 'drain failed: exiting');
        process.exit(1);
      },
    );
  };

  for (const signal of SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
}
