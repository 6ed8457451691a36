/**
 * Wakes this coordinator's long-polling LeaseTrial calls when work may have appeared (a job was
 * submitted, a trial went back to the queue), so idle workers wait without querying the database.
 * Work made available by another replica is found by the waiters' slow fallback poll.
 */
export interface LeaseWakeup {
  /** resolves on wake(), after `fallbackMs`, or when `signal` aborts */
  wait(fallbackMs: number, signal: AbortSignal): Promise<void>;
  /** wakes up to `count` waiters (all when omitted), oldest first */
  wake(count?: number): void;
  /** wakes `count` waiters after `ms` (a requeued trial's retry backoff) */
  wakeAfter(ms: number, count: number): void;
}

export function createLeaseWakeup(): LeaseWakeup {
  const waiters = new Set<() => void>();
  const wake = (count = Number.POSITIVE_INFINITY): void => {
    let left = count;
    for (const done of waiters) {
      if (left-- <= 0) break;
      done();
    }
  };
  return {
    wait(fallbackMs, signal) {
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, fallbackMs);
        signal.addEventListener('abort', done, { once: true });
        waiters.add(done);
      });
    },
    wake,
    wakeAfter(ms, count) {
      setTimeout(() => wake(count), ms).unref();
    },
  };
}
