import type { OrchestrationStateProviders, TrialCounts } from '../observability/index.js';
import type { PrismaClient } from '../storage/index.js';

const TRIAL_STATES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

/** The database reads behind ptune_trials, ptune_queue_depth and ptune_active_leases (`metrics.collectOrchestrationState`). */
export function orchestrationGauges(prisma: PrismaClient): OrchestrationStateProviders {
  return {
    async trialsByState(): Promise<TrialCounts> {
      const rows = await prisma.$queryRaw<
        { state: string; n: number }[]
      >`SELECT state::text AS state, count(*)::int AS n FROM trial GROUP BY state`;
      // every state, zeros included, so each series exists before its first trial
      return Object.fromEntries([...TRIAL_STATES.map((state) => [state, 0]), ...rows.map((row) => [row.state, row.n])]) as TrialCounts;
    },
    async activeLeases(): Promise<number> {
      // the database clock decides lease expiry everywhere else (queue/lease-trial.ts), so here too
      const [row] = await prisma.$queryRaw<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM trial WHERE state = 'RUNNING' AND lease_expires_at > now()`;
      return row.n;
    },
  };
}
