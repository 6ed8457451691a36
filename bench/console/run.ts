/**
 * Console benchmark (`npm run bench:console`), on the embedded quick-start stack (PGlite, one
 * process). Part 1: a task with BENCH_VERSIONS (default 10,000) versions, created through the
 * registry's create path; the server time of its versions page (target: first page < 300 ms).
 * Part 2 (sweep-page.ts): a 100-trial sweep's job page in Chromium, events relayed vs drawn.
 * Env: BENCH_VERSIONS, BENCH_RUNS (requests per page, default 20), BENCH_PARTS (versions,sweep),
 * BENCH_SWEEP_STEPS (per trial, default 100), BENCH_SWEEP_RATE (steps/s per trial, default 10).
 */
import { loadavg } from 'node:os';
import { stat } from 'node:fs/promises';
import { weightsUpload } from '../../services/client/index.js';
import { NAMESPACE, startConsoleServer } from '../../test/console/support/console-server.js';
import { demoModelFile, MODEL } from '../../test/console/support/seed.js';
import { seedVersions } from './seed-versions.js';
import { recordServerTimes } from './server-time.js';
import { measureVersionsPages } from './versions-page.js';
import { measureSweepPage } from './sweep-page.js';
import { launchChromium } from '../../test/console/support/chromium.js';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const PARTS = (process.env.BENCH_PARTS ?? 'versions,sweep').split(',');
const SWEEP_STEPS = Number(process.env.BENCH_SWEEP_STEPS ?? 100);
const SWEEP_RATE = Number(process.env.BENCH_SWEEP_RATE ?? 10);
const TASK = 'many-versions';
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

const out = (line: string): void => void process.stdout.write(`${line}\n`);
out(`console benchmark, ${new Date().toISOString()}, node ${process.version}, load ${load()}`);

const server = await startConsoleServer({ workers: 0 });
const times = recordServerTimes();

async function versionsPart(): Promise<void> {
  const root = server.client('root');
  await root.registry.createTask({ task: { namespace: NAMESPACE, name: TASK } });
  const { seconds, evalLoss } = await seedVersions(server.server, {
    namespace: NAMESPACE,
    task: TASK,
    baseModel: MODEL,
    width: 128,
    count: VERSIONS,
    onProgress: (n, ms) => out(`  seeded ${n} versions in ${(ms / 1000).toFixed(1)} s`),
  });
  out(
    `seeded ${VERSIONS} versions of ${NAMESPACE}/${TASK} in ${seconds.toFixed(1)} s (${((seconds * 1000) / VERSIONS).toFixed(1)} ms each), load ${load()}`,
  );
  out(`\nversions page, ${RUNS} requests each after one first request; server time = http.server.request.start → response.finish`);
  out('| page | first request ms | median ms | p90 ms | loopback round trip ms (median) | HTML bytes |');
  out('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const f of await measureVersionsPages(server, times, { task: TASK, evalLoss, runs: RUNS }))
    out(
      `| ${f.label} | ${f.firstMs.toFixed(1)} | ${f.medianMs.toFixed(1)} | ${f.p90Ms.toFixed(1)} | ${f.roundTripMs.toFixed(1)} | ${f.bytes} |`,
    );
  out(`load after part 1: ${load()}`);
}

async function sweepPart(): Promise<void> {
  const chromium = await launchChromium();
  try {
    const learningRates = [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5];
    const virtualTokens = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12];
    out(
      `\njob page of a ${learningRates.length * virtualTokens.length}-trial sweep: every trial reports ${SWEEP_RATE} steps/s in 1 s batches, ${SWEEP_STEPS} steps each`,
    );
    const f = await measureSweepPage(server, chromium, times, {
      learningRates,
      virtualTokens,
      steps: SWEEP_STEPS,
      stepsPerSecond: SWEEP_RATE,
      reportEveryMs: 1000,
    });
    out(
      '| trials | step events | job page server ms | reporting s | accepted by the coordinator /s | drawn by the browser /s | lag median / max (points) | catch-up after last report ms | page long tasks (count, total ms, longest ms) |',
    );
    out('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    out(
      `| ${f.trials} | ${f.stepEvents} | ${f.pageMs.toFixed(1)} | ${f.reportingSeconds.toFixed(1)} | ${f.acceptedPerSecond.toFixed(0)} | ${f.drawnPerSecond.toFixed(0)} | ${f.medianLag} / ${f.maxLag} | ${f.catchUpMs === undefined ? 'not within 60 s' : f.catchUpMs.toFixed(0)} | ${f.longTasks.count}, ${f.longTasks.totalMs.toFixed(0)}, ${f.longTasks.longestMs.toFixed(0)} |`,
    );
    out(`load after part 2: ${load()}`);
  } finally {
    await chromium.close();
  }
}
try {
  const root = server.client('root');
  const modelFile = await demoModelFile();
  await root.registry.registerBaseModel(weightsUpload(MODEL, modelFile, (await stat(modelFile)).size, 'bench'));
  if (PARTS.includes('versions')) await versionsPart();
  if (PARTS.includes('sweep')) await sweepPart();
} finally {
  times.stop();
  await server.close();
}
