import type { PrismaClient } from '../../storage/index.js';
import { LeaseLostError } from './lease-lost-error.js';
import type { RetryBackoff } from './retry-backoff.js';
import { endAttemptAsFailed } from './trial-calls.js';

/**
 * Requeues (or, on the last attempt, fails) every RUNNING trial whose lease has expired; returns
 * the jobs of trials that failed for good. Each expiry is fenced on the epoch that expired, so a
 * heartbeat that lands first, or another replica doing the same sweep, wins cleanly.
 */
export async function expireLeases(prisma: PrismaClient, backoff: RetryBackoff): Promise<string[]> {
  const expired = await prisma.$queryRaw<{ id: string; epoch: number }[]>`
    SELECT id, lease_epoch AS epoch FROM trial WHERE state = 'RUNNING' AND lease_expires_at < now() LIMIT 1000`;
  const finished = new Set<string>();
  for (const trial of expired) {
    try {
      const end = await endAttemptAsFailed(
        prisma,
        { trialId: trial.id, epoch: trial.epoch },
        { error: 'lease expired (worker lost)', retryable: true, onlyIfExpired: true },
        backoff,
      );
      if (!end.retried) finished.add(end.jobId);
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err;
    }
  }
  return [...finished];
}
