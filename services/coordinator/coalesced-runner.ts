/**
 * Runs an idempotent catch-up task (stamping event sequence numbers, finalizing a job) soon after
 * something asks, coalescing requests: one run at a time, and one more after it if anything asked
 * meanwhile (that run sees everything committed before the ask). Under load one run serves many callers.
 */
export interface CoalescedRunner {
  /** asks for a run soon (never throws: failures go to onError, and the maintenance pass retries) */
  nudge(): void;
  /** resolves after a run that started after this call */
  flush(): Promise<void>;
  /** true while a run is in flight or queued */
  busy(): boolean;
}

export function createCoalescedRunner(run: () => Promise<unknown>, onError: (err: unknown) => void): CoalescedRunner {
  let current: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> => {
    current = run()
      .then(() => undefined, onError)
      .finally(() => {
        current = undefined;
      });
    return current;
  };
  const flush = (): Promise<void> => {
    if (!current) return start();
    next ??= current.then(() => {
      next = undefined;
      return start();
    });
    return next;
  };
  return { nudge: () => void flush(), flush, busy: () => current !== undefined };
}
