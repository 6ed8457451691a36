import { LeaseLostError } from './lease-lost-error.js';
import type { QueryRunner, QueueSql } from './query-runner.js';
import type { RetryBackoff } from './retry-backoff.js';
import { endAttemptAsFailed, type AttemptEnd } from './trial-calls.js';

const EXPIRED: QueueSql = {
  name: 'ptune_expired_leases',
  text: `SELECT id, lease_epoch AS epoch FROM trial WHERE state = 'RUNNING' AND lease_expires_at < now() LIMIT 1000`,
};

/**
 * Requeues (or, on the last attempt, fails) every RUNNING trial whose lease has expired; returns
 * how each attempt ended. Each expiry is fenced on the epoch that expired, so a heartbeat that
 * lands first, or another replica doing the same sweep, wins cleanly.
 */
export async function expireLeases(db: QueryRunner, backoff: RetryBackoff): Promise<AttemptEnd[]> {
  const expired = await db.query<{ id: string; epoch: number }>(EXPIRED, []);
  const ended: AttemptEnd[] = [];
  for (const trial of expired) {
    try {
      ended.push(
        await endAttemptAsFailed(
          db,
          { trialId: trial.id, epoch: trial.epoch },
          { error: 'lease expired (worker lost)', retryable: true, onlyIfExpired: true },
          backoff,
        ),
      );
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err;
    }
  }
  return ended;
}
