/** Following a training job: its events in sequence order, up to and including the terminal one. */
import { JobState, type JobEvent } from '../gen/ptune/v1/training_pb.js';
import type { TrainingClient } from './clients.js';

const TERMINAL: readonly JobState[] = [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED];

export function isTerminalJobEvent(event: JobEvent): boolean {
  return event.kind.case === 'jobState' && TERMINAL.includes(event.kind.value.state);
}

export interface FollowOptions {
  /** Start after this event sequence number (0: from the first event). */
  readonly afterSequence?: bigint;
  readonly signal?: AbortSignal;
}

/** WatchJob as an async iterable of events; ends after the job's terminal event. */
export async function* jobEvents(client: TrainingClient, jobId: string, options: FollowOptions = {}): AsyncGenerator<JobEvent> {
  for await (const { event } of client.watchJob({ jobId, afterSequence: options.afterSequence ?? 0n }, { signal: options.signal })) {
    if (!event) continue;
    yield event;
    if (isTerminalJobEvent(event)) return;
  }
}
