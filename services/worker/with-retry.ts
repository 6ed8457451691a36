import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { RpcError } from '../grpc/index.js';

/** Statuses that mean "the coordinator (or its database) is briefly unavailable": try again. */
const TRANSIENT = new Set([grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DEADLINE_EXCEEDED]);

export function isTransient(err: unknown): boolean {
  return err instanceof RpcError && TRANSIENT.has(err.code);
}

/**
 * Runs a coordinator call, retrying transient failures with backoff for up to `budgetMs`; every call
 * retried this way is idempotent on the coordinator's side (fenced by epoch, or keyed by content).
 */
export async function withRetry<T>(call: () => Promise<T>, options: { budgetMs?: number; signal?: AbortSignal } = {}): Promise<T> {
  const deadline = Date.now() + (options.budgetMs ?? 120_000);
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || Date.now() + delay > deadline || options.signal?.aborted) throw err;
      await sleep(delay);
    }
  }
}
