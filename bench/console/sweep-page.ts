/**
 * A 100-trial sweep's job page in Chromium while every trial reports at once: are the step events
 * the coordinator accepts drawn by the browser as fast as they come (relayed WatchJob → SSE →
 * console.js → SVG), or does the page fall behind? Samples every 500 ms: steps accepted by the
 * coordinator vs points drawn (the chart's data-points, set by each redraw), plus the page's long
 * tasks (main-thread work over 50 ms).
 */
import path from 'node:path';
import { uploadDataset } from '../../services/client/index.js';
import { InitMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { signedInUser } from '../../test/console/support/browser-user.js';
import type { TestBrowser } from '../../test/console/support/chromium.js';
import { NAMESPACE, type ConsoleServer } from '../../test/console/support/console-server.js';
import { MODEL } from '../../test/console/support/seed.js';
import { median, type ServerTimes } from './server-time.js';
import { startFleet } from './sweep-fleet.js';

export interface SweepOptions {
  /** learning rates × virtual-token counts = trials */
  readonly learningRates: readonly number[];
  readonly virtualTokens: readonly number[];
  readonly steps: number;
  readonly stepsPerSecond: number;
  readonly reportEveryMs: number;
}

export interface SweepFigures {
  readonly trials: number;
  readonly stepEvents: number;
  /** job page (100 trial rows) server time, ms */
  readonly pageMs: number;
  /** from the first accepted report to the last, s */
  readonly reportingSeconds: number;
  readonly acceptedPerSecond: number;
  /** points drawn by the end of reporting, per second of reporting */
  readonly drawnPerSecond: number;
  readonly medianLag: number;
  readonly maxLag: number;
  /** after the last accepted report, until every point is drawn, ms (undefined: never within 60 s) */
  readonly catchUpMs: number | undefined;
  readonly longTasks: { count: number; totalMs: number; longestMs: number };
}

const TASK = 'sweep';
const EXAMPLES = path.resolve(import.meta.dirname, '../../examples/feelings');

export async function measureSweepPage(
  server: ConsoleServer,
  chromium: TestBrowser,
  times: ServerTimes,
  options: SweepOptions,
): Promise<SweepFigures> {
  const trainer = server.client('trainer');
  await trainer.registry.createTask({ task: { namespace: NAMESPACE, name: TASK } });
  const train = await uploadDataset(trainer.training, path.join(EXAMPLES, 'train.jsonl'));
  const evalSet = await uploadDataset(trainer.training, path.join(EXAMPLES, 'eval.jsonl'));
  const { job } = await trainer.training.trainPrompt({
    baseModel: MODEL,
    tasks: [
      {
        task: { namespace: NAMESPACE, name: TASK },
        train: { source: { case: 'sha256', value: train } },
        eval: { source: { case: 'sha256', value: evalSet } },
      },
    ],
    method: { numVirtualTokens: options.virtualTokens[0], init: { method: InitMethod.SAMPLE_VOCAB } },
    optimizer: { steps: options.steps, learningRate: options.learningRates[0], batchSize: 8, seed: 0n },
    sweep: { learningRates: [...options.learningRates], numVirtualTokens: [...options.virtualTokens] },
    selection: { name: 'eval_loss', higherIsBetter: false },
  });
  const trials = job!.trials.length;
  const stepEvents = trials * options.steps;

  const { page } = await signedInUser(chromium, server.url, server.tokens.trainer);
  times.take('/jobs/');
  await page.goto(`${server.url}/jobs/${job!.id}`);
  const pageMs = times.take(`/jobs/${job!.id}`).find((ms) => ms > 0) ?? NaN;
  // in-page code as text (the project compiles without TypeScript's DOM library)
  await page.evaluate(`window.longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => window.longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true })`);
  const drawn = async (): Promise<number> =>
    page.evaluate<number>("Number(document.getElementById('loss-curves')?.getAttribute('data-points') ?? 0)");

  const worker = await server.mintToken('*', 'worker');
  const fleet = await startFleet({
    address: server.server.address,
    token: worker.text,
    workers: trials,
    steps: options.steps,
    stepsPerSecond: options.stepsPerSecond,
    reportEveryMs: options.reportEveryMs,
    width: 128,
  });
  const samples: { t: number; accepted: number; drawn: number }[] = [];
  let finished = false;
  void fleet.done.then(() => (finished = true));
  let firstReport: number | undefined;
  while (!finished) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const accepted = fleet.reported();
    if (accepted > 0) firstReport ??= performance.now();
    if (firstReport !== undefined) samples.push({ t: performance.now(), accepted, drawn: await drawn() });
  }
  await fleet.done;
  const lastReport = performance.now();
  const drawnAtEnd = await drawn();
  let catchUpMs: number | undefined;
  for (let waited = 0; waited < 60_000; waited += 100) {
    if ((await drawn()) >= stepEvents) {
      catchUpMs = performance.now() - lastReport;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const longTasks = await page.evaluate<number[]>('window.longTasks');
  fleet.close();
  const seconds = (lastReport - (firstReport ?? lastReport)) / 1000;
  const lags = samples.map((s) => s.accepted - s.drawn);
  return {
    trials,
    stepEvents,
    pageMs,
    reportingSeconds: seconds,
    acceptedPerSecond: stepEvents / seconds,
    drawnPerSecond: drawnAtEnd / seconds,
    medianLag: median(lags),
    maxLag: Math.max(...lags),
    catchUpMs,
    longTasks: { count: longTasks.length, totalMs: longTasks.reduce((a, b) => a + b, 0), longestMs: Math.max(0, ...longTasks) },
  };
}
