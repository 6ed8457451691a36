/** `ptune jobs plot J --out loss.png|svg`: a picture of the loss curves of a job's trials. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { renderLossCurvesPng, renderLossCurvesSvg, type LossSeries } from '../../plot/index.js';
import type { Job } from '../../gen/ptune/v1/training_pb.js';
import { integerAtLeast } from './engine/options.js';
import type { TrainingClient } from '../../client/index.js';
import { jobStateName, shortId, withTraining } from './jobs.js';
import { clientCommand, type ClientFlags } from './registry/client.js';
import { trialLabel } from '../../client/index.js';

interface PlotFlags extends ClientFlags {
  out: string;
  logScale?: boolean;
  width: number;
  height: number;
}

const RENDERERS = { '.png': renderLossCurvesPng, '.svg': renderLossCurvesSvg } as const;

/** The step losses of every trial, read from the job's event log as it stands now (a running job is drawn so far). */
export async function jobLossSeries(client: TrainingClient, jobId: string): Promise<{ job: Job; series: LossSeries[] }> {
  const job = (await client.getJob({ jobId })).job!;
  const points = new Map(job.trials.map((t) => [t.id, [] as { step: number; loss: number }[]]));
  if (job.lastEventSequence > 0n) {
    for await (const { event } of client.watchJob({ jobId })) {
      if (event?.kind.case === 'step') points.get(event.trialId)?.push({ step: event.kind.value.step, loss: event.kind.value.loss });
      if (event === undefined || event.sequence >= job.lastEventSequence) break;
    }
  }
  return { job, series: job.trials.map((t) => ({ label: trialLabel(t), points: points.get(t.id) ?? [] })) };
}

export function registerJobsPlotCommand(program: Command): void {
  const jobs = program.commands.find((c) => c.name() === 'jobs') ?? program.command('jobs').description('training jobs');
  clientCommand(jobs, 'plot', "draw the loss curves of a job's trials (a running job: the steps so far)")
    .argument('<job>', 'job id (see `ptune jobs list`)')
    .requiredOption('--out <file>', 'picture to write: .png or .svg')
    .option('--log-scale', 'loss axis on a log scale')
    .option('--width <px>', 'picture width', integerAtLeast(200), 800)
    .option('--height <px>', 'picture height', integerAtLeast(150), 450)
    .action(async (jobId: string, flags: PlotFlags) => {
      const extension = path.extname(flags.out).toLowerCase();
      if (!(extension in RENDERERS)) throw new Error(`--out ${flags.out}: name a .png or .svg file`);
      const { job, series } = await withTraining(flags, (client) => jobLossSeries(client, jobId));
      const title = `job ${shortId(job.id)} (${jobStateName(job.state).toLowerCase()}): training loss per trial`;
      const picture = RENDERERS[extension as keyof typeof RENDERERS](series, {
        title,
        logScale: flags.logScale,
        width: flags.width,
        height: flags.height,
      });
      await writeFile(flags.out, picture);
      const steps = series.reduce((n, s) => n + s.points.length, 0);
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ out: flags.out, job: job.id, state: jobStateName(job.state), series: series.map((s) => ({ label: s.label, points: s.points.length })) })}\n`,
        );
        return;
      }
      process.stdout.write(`wrote ${flags.out}: ${series.length} trial(s), ${steps} step losses\n`);
    });
}
