import type { CoordinatorContext } from './context.js';
import { finalizeJob, jobsReadyToFinalize } from './jobs/finalize-job.js';
import { expireLeases } from './queue/expire-leases.js';
import { sequenceEvents } from './queue/job-events.js';

/** One pass: requeue expired leases, then finish jobs that have nothing left to run. */
export async function runMaintenance(ctx: CoordinatorContext): Promise<void> {
  const ended = await expireLeases(ctx.queue, ctx.config.retryBackoff);
  for (const end of ended) if (end.retried) ctx.wakeup.wakeAfter(end.delayMs, 1);
  const failedJobs = ended.filter((end) => !end.retried).map((end) => end.jobId);
  const ready = new Set([...failedJobs, ...(await jobsReadyToFinalize(ctx))]);
  for (const jobId of ready) await finalizeJob(ctx, jobId);
  // events written by a replica that died before sequencing them
  await ctx.queue.transaction(sequenceEvents);
}

/** Runs maintenance every interval (never overlapping itself) until the returned stop() is awaited. */
export function startMaintenance(ctx: CoordinatorContext, onError: (err: unknown) => void): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => runMaintenance(ctx)).catch(onError);
  }, ctx.config.maintenanceIntervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
