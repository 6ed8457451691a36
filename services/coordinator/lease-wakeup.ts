import { listenForNotifications, type NotificationListener } from '../storage/index.js';

/**
 * Wakes this coordinator's long-polling LeaseTrial calls when work may have appeared (a job was
 * submitted, a trial went back to the queue), so idle workers wait without querying the database.
 * Work made available by another replica arrives through Postgres NOTIFY (listenForQueuedWork), or
 * failing that, the waiters' slow fallback poll.
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

/** The channel the trial triggers of migration `work_queued_notifications` notify; payload: ms until the trial may run. */
export const WORK_QUEUED_CHANNEL = 'ptune_work_queued';

/**
 * Wakes `wakeup`'s waiters for work queued by any process: all of them for a new job, one after its
 * backoff for a requeued trial, all of them after a gap (work may have been missed).
 */
export function listenForQueuedWork(url: string, wakeup: LeaseWakeup): NotificationListener {
  return listenForNotifications(url, WORK_QUEUED_CHANNEL, {
    onNotify(payload) {
      const delayMs = Number(payload);
      if (Number.isFinite(delayMs) && delayMs > 0) wakeup.wakeAfter(delayMs, 1);
      else wakeup.wake();
    },
    onGap: () => wakeup.wake(),
  });
}
