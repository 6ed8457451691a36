/**
 * Prints a training job's progress until it finishes: on a terminal one live bar per trial, else
 * (pipes, CI logs) one line per trial at start, at each quarter of its steps and at its end.
 */
import cliProgress from 'cli-progress';
import { TrialState, type Job, type JobEvent } from '../gen/ptune/v1/training_pb.js';
import { jobEvents, trialLabel, type TrainingClient } from '../client/index.js';

export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const IDLE_HINT_MS = 30_000;

interface TrialView {
  readonly label: string;
  readonly total: number;
  step: number;
  loss?: number;
  /** the last quarter (0..4) a line was printed for */
  quarter: number;
  bar?: cliProgress.SingleBar;
}

/** Follows `job` from its first event; resolves when the job reaches a terminal state (or the signal aborts). */
export async function followJob(client: TrainingClient, job: Job, out: ProgressOutput, signal?: AbortSignal): Promise<void> {
  const width = Math.max(...job.trials.map((t) => trialLabel(t).length));
  const bars = out.isTTY
    ? new cliProgress.MultiBar(
        {
          format: '  {label} [{bar}] {value}/{total} loss {loss} {state}',
          hideCursor: true,
          clearOnComplete: false,
          stream: out as NodeJS.WriteStream,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const trials = new Map<string, TrialView>(
    job.trials.map((t) => {
      const label = trialLabel(t).padEnd(width);
      return [
        t.id,
        { label, total: t.totalSteps, step: 0, quarter: -1, bar: bars?.create(t.totalSteps, 0, { label, loss: '-', state: 'queued' }) },
      ];
    }),
  );
  const line = (text: string): void => {
    if (bars) bars.log(`  ${text}\n`);
    else out.write(`  ${text}\n`);
  };
  // a job nobody leases (no worker, or workers that could not register) would otherwise wait in silence
  const idle = setTimeout(
    () =>
      line(
        `no worker has started a trial after ${IDLE_HINT_MS / 1000} s: \`ptune serve\` needs --workers ≥ 1 (PTUNE_WORKERS), or run \`ptune worker --coordinator <address>\``,
      ),
    IDLE_HINT_MS,
  );
  try {
    for await (const event of jobEvents(client, job.id, { signal })) {
      const trial = trials.get(event.trialId);
      if (event.kind.case === 'trialState' && event.kind.value.state === TrialState.RUNNING) clearTimeout(idle);
      if (trial) showTrialEvent(trial, event, line);
    }
  } catch (err) {
    if (!signal?.aborted) throw err;
  } finally {
    clearTimeout(idle);
    bars?.stop();
  }
}

function showTrialEvent(trial: TrialView, event: JobEvent, line: (text: string) => void): void {
  const k = event.kind;
  if (k.case === 'step') {
    trial.step = k.value.step;
    trial.loss = k.value.loss;
    trial.bar?.update(trial.step, { loss: trial.loss.toFixed(4) });
    const quarter = Math.floor((4 * trial.step) / Math.max(trial.total, 1));
    if (!trial.bar && quarter > trial.quarter && quarter < 4) {
      trial.quarter = quarter;
      line(`${trial.label}  step ${String(trial.step).padStart(String(trial.total).length)}/${trial.total}  loss ${trial.loss.toFixed(4)}`);
    }
  } else if (k.case === 'trialState') {
    const state = TrialState[k.value.state]?.toLowerCase() ?? String(k.value.state);
    trial.bar?.update({ state });
    if (k.value.state === TrialState.RUNNING && k.value.attempt > 1) line(`${trial.label}  resumed (attempt ${k.value.attempt})`);
    if (k.value.state === TrialState.FAILED || k.value.state === TrialState.CANCELLED)
      line(`${trial.label}  ${state}${k.value.reason ? `: ${k.value.reason}` : ''}`);
  } else if (k.case === 'eval' && k.value.step >= trial.total) {
    const m = k.value.metrics;
    line(
      `${trial.label}  done: eval_loss ${m.eval_loss?.toFixed(4)}, accuracy ${m.eval_accuracy?.toFixed(3)}, exact match ${m.eval_exact_match?.toFixed(3)}`,
    );
  }
}
