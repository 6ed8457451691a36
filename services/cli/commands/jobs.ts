/** `ptune jobs list|watch|cancel`, and the job views the training commands share. */
import { toJson } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import {
  JobEventSchema,
  JobState,
  ListJobsResponseSchema,
  CancelJobResponseSchema,
  TrialState,
  type Job,
  type JobEvent,
} from '../../gen/ptune/v1/training_pb.js';
import { jobEvents, type TrainingClient } from '../../client/index.js';
import { sparkline } from './engine/sparkline.js';
import { clientCommand, printJson, printTable, withClient, type ClientFlags } from './registry/client.js';

export const withTraining = <T>(flags: ClientFlags, body: (client: TrainingClient) => Promise<T>): Promise<T> =>
  withClient(flags, (c) => body(c.training));

export const jobStateName = (state: JobState): string => JobState[state] ?? String(state);
export const trialStateName = (state: TrialState): string => TrialState[state] ?? String(state);
export const shortId = (id: string): string => id.slice(0, 8);

/** One readable line per event (step events are summarised by the caller). */
export function describeEvent(event: JobEvent): string {
  const trial = event.trialId ? `trial ${shortId(event.trialId)} ` : '';
  const k = event.kind;
  switch (k.case) {
    case 'jobState':
      return `job ${jobStateName(k.value.state)}${k.value.reason ? `: ${k.value.reason}` : ''}`;
    case 'trialState':
      return `${trial}${trialStateName(k.value.state)}${k.value.workerId ? ` on ${k.value.workerId}` : ''}${k.value.reason ? ` (${k.value.reason})` : ''}`;
    case 'step':
      return `${trial}step ${k.value.step} loss ${k.value.loss.toFixed(4)}`;
    case 'eval':
      return `${trial}eval at step ${k.value.step}: ${Object.entries(k.value.metrics)
        .map(([n, v]) => `${n} ${v.toFixed(4)}`)
        .join(', ')}`;
    case 'checkpoint':
      return `${trial}checkpoint at step ${k.value.step}`;
    case 'registered':
      return `${trial}registered ${k.value.version?.task?.namespace}/${k.value.version?.task?.name} v${k.value.version?.version}${k.value.alias ? ` (alias ${k.value.alias})` : ''}`;
    default:
      return `${trial}event`;
  }
}

export function printJobResults(job: Job): void {
  const selected = new Map(job.results.map((r) => [r.trialId, r.version]));
  printTable(
    ['trial', 'task', 'virtual tokens', 'lr', 'state', 'step', 'eval_loss', 'accuracy', 'version'],
    job.trials.map((t) => [
      shortId(t.id),
      `${t.task?.namespace}/${t.task?.name}`,
      String(t.point?.method?.numVirtualTokens ?? ''),
      String(t.point?.optimizer?.learningRate ?? ''),
      trialStateName(t.state),
      `${t.step}/${t.totalSteps}`,
      t.metrics.eval_loss === undefined ? '' : t.metrics.eval_loss.toFixed(4),
      t.metrics.eval_accuracy === undefined ? '' : t.metrics.eval_accuracy.toFixed(3),
      selected.has(t.id) ? `v${selected.get(t.id)} ✓` : '',
    ]),
  );
  process.stdout.write(`job ${job.id} ${jobStateName(job.state)}${job.error ? `: ${job.error}` : ''}\n`);
}

export function registerJobsCommands(program: Command): void {
  const jobs = program.command('jobs').description('training jobs');

  clientCommand(jobs, 'list', 'list jobs, newest first')
    .option('--state <state>', 'only jobs in this state (queued, running, succeeded, failed, cancelled)')
    .option('--limit <n>', 'most jobs to show', (v) => Number.parseInt(v, 10), 50)
    .action(async (flags: ClientFlags & { state?: string; limit: number }) => {
      const state = flags.state === undefined ? JobState.UNSPECIFIED : JobState[flags.state.toUpperCase() as keyof typeof JobState];
      if (state === undefined) throw new Error(`--state ${flags.state}: use queued, running, succeeded, failed or cancelled`);
      const response = await withTraining(flags, (client) => client.listJobs({ state, pageSize: flags.limit }));
      if (flags.json) return printJson(ListJobsResponseSchema, response);
      printTable(
        ['job', 'state', 'model', 'tasks', 'trials done', 'created'],
        response.jobs.map((j) => [
          j.id,
          jobStateName(j.state),
          j.spec?.baseModel ?? '',
          (j.spec?.tasks ?? []).map((t) => `${t.task?.namespace}/${t.task?.name}`).join(', '),
          `${j.trials.filter((t) => t.state === TrialState.SUCCEEDED).length}/${j.trials.length}`,
          j.createdAt ? new Date(Number(j.createdAt.seconds) * 1000).toISOString() : '',
        ]),
      );
    });

  clientCommand(jobs, 'watch', "follow a job's events until it finishes (resumable with --after)")
    .argument('<job>', 'job id')
    .option('--after <sequence>', 'start after this event sequence', '0')
    .action(async (jobId: string, flags: ClientFlags & { after: string }) => {
      const losses = new Map<string, number[]>();
      await withTraining(flags, async (client) => {
        for await (const event of jobEvents(client, jobId, { afterSequence: BigInt(flags.after) })) {
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(toJson(JobEventSchema, event))}\n`);
            continue;
          }
          if (event.kind.case === 'step') {
            const series = losses.get(event.trialId) ?? [];
            series.push(event.kind.value.loss);
            losses.set(event.trialId, series);
            if (series.length % 10 !== 0) continue;
            process.stdout.write(
              `#${event.sequence} trial ${shortId(event.trialId)} step ${event.kind.value.step} loss ${event.kind.value.loss.toFixed(4)} ${sparkline(series, 30)}\n`,
            );
            continue;
          }
          process.stdout.write(`#${event.sequence} ${describeEvent(event)}\n`);
        }
      });
      if (!flags.json)
        for (const [trial, series] of losses)
          process.stdout.write(`trial ${shortId(trial)} loss ${sparkline(series, 40)} ${series.at(-1)?.toFixed(4)}\n`);
    });

  clientCommand(jobs, 'cancel', 'cancel a queued or running job')
    .argument('<job>', 'job id')
    .option('--reason <text>', 'recorded on the job', 'cancelled from the CLI')
    .action(async (jobId: string, flags: ClientFlags & { reason: string }) => {
      const response = await withTraining(flags, (client) => client.cancelJob({ jobId, reason: flags.reason }));
      if (flags.json) return printJson(CancelJobResponseSchema, response);
      process.stdout.write(`job ${jobId} ${jobStateName(response.job!.state)}\n`);
    });
}
