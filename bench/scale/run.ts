/**
 * Scale bench: one coordinator process on real Postgres, 100 simulated workers (real gRPC clients
 * that hold each trial a fixed time and train nothing), 1000-trial jobs.
 *   npm run bench:scale [-- --workers 100 --trials 1000 --hold-ms 1000]
 * Reports lease cycles/s (lease + complete, hold 0), p50/p99 LeaseTrial latency, database round
 * trips per trial (every query the coordinator's pg connections sent, BEGIN/COMMIT included), wall
 * time against the ideal trials × hold / workers, and checks that no trial was granted twice.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InitMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { JobState, TrainingService } from '../../services/gen/ptune/v1/training_pb.js';
import { createClient, createGrpcTransport } from '../../services/grpc/index.js';
import { LocalBlobStore, openDatabase } from '../../services/storage/index.js';
import { promptBytes, sha256Hex, uploadDataset } from '../../test/orchestration/support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from '../../test/orchestration/support/seed.js';
import { startPostgres } from '../../test/support/postgres.js';
import { postgresCpuMs } from './postgres-cpu.js';
import { prepareWorkers, type SimulationResult } from './simulated-workers.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '100' },
    trials: { type: 'string', default: '1000' },
    'hold-ms': { type: 'string', default: '1000' },
  },
});
const WORKERS = Number(values.workers);
const TRIALS = Number(values.trials);
const HOLD_MS = Number(values['hold-ms']);

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const pg = await startPostgres();
const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-bench-scale-'));
const url = await pg.newDatabase();
const child = fork(path.join(import.meta.dirname, 'coordinator-main.ts'), [url, path.join(dir, 'blobs')], {
  execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
  stdio: 'inherit',
});
try {
  const db = await openDatabase({ url, migrate: true, poolSize: 2 });
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const model = await seedTinyModel(db.prisma, blobs);
  const task = await seedTask(db.prisma);
  const result = promptBytes(4, model.hiddenSize, 1);
  const resultSha = sha256Hex(result);
  await blobs.put(`prompt/${resultSha}`, result, { sha256: resultSha });

  const messages: { port?: number; queries?: number; queryMs?: number; cpuMs?: number }[] = [];
  child.on('message', (m) => messages.push(m as (typeof messages)[number]));
  const ask = async <K extends 'port' | 'queries' | 'queryMs' | 'cpuMs'>(key: K, send?: string): Promise<number> => {
    const seen = messages.length;
    if (send) child.send(send);
    for (;;) {
      const found = messages.slice(send ? seen : 0).find((m) => m[key] !== undefined);
      if (found) return found[key]!;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const port = await ask('port');
  const address = `127.0.0.1:${port}`;
  const transport = createGrpcTransport(address);
  const training = createClient(TrainingService, transport);
  const trainSha = await uploadDataset(training, datasetText(8));
  const evalSha = await uploadDataset(training, datasetText(4, 1));

  const pgPort = Number(new URL(url).port);
  /** CPU ms per trial of each process (less sensitive to a busy machine than rates and latencies) */
  interface CpuPerTrial {
    coordinator: number;
    postgres: number;
    workers: number;
  }
  const runPhase = async (
    label: string,
    holdMs: number,
  ): Promise<{ sim: SimulationResult; queries: number; cpu: CpuPerTrial; jobId: string }> => {
    const { job } = await training.trainPrompt({
      baseModel: model.name,
      tasks: [
        {
          task: { namespace: task.namespace, name: task.name },
          train: { source: { case: 'sha256', value: trainSha } },
          eval: { source: { case: 'sha256', value: evalSha } },
        },
      ],
      method: { numVirtualTokens: 4, init: { method: InitMethod.RANDOM } },
      optimizer: { steps: 10, batchSize: 2 },
      sweep: { learningRates: Array.from({ length: TRIALS }, (_, i) => (i + 1) / 1000) },
    });
    const fleet = await prepareWorkers({ address, workers: WORKERS, holdMs, trials: TRIALS, resultSha256: resultSha, label });
    const before = await ask('queries', 'queries');
    const beforeMs = messages.at(-1)!.queryMs!;
    const beforeCpu = messages.at(-1)!.cpuMs!;
    const clientCpu = process.cpuUsage();
    const pgCpu = await postgresCpuMs(pgPort);
    const sim = await fleet.run();
    const queries = (await ask('queries', 'queries')) - before;
    const usedByClients = process.cpuUsage(clientCpu);
    const perTrial = (ms: number): number => Number((ms / TRIALS).toFixed(2));
    const cpu: CpuPerTrial = {
      coordinator: perTrial(messages.at(-1)!.cpuMs! - beforeCpu),
      postgres: perTrial((await postgresCpuMs(pgPort)) - pgCpu),
      workers: perTrial((usedByClients.user + usedByClients.system) / 1000),
    };
    process.stderr.write(
      `${label}: CPU ms per trial ${JSON.stringify(cpu)}; coordinator waited ${perTrial(messages.at(-1)!.queryMs! - beforeMs)} ms on queries per trial\n`,
    );
    for (;;) {
      const view = (await training.getJob({ jobId: job!.id })).job!;
      if (view.state !== JobState.RUNNING && view.state !== JobState.QUEUED) {
        if (view.state !== JobState.SUCCEEDED) throw new Error(`${label}: job ended ${JobState[view.state]}: ${view.error}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // no double assignment: every trial granted exactly once, at epoch 1, and the database agrees
    const ids = new Set(sim.grants.map((g) => g.trialId));
    const rows = await db.prisma.trial.groupBy({ by: ['state', 'leaseEpoch', 'attempts'], where: { jobId: job!.id }, _count: true });
    const clean =
      rows.length === 1 && rows[0].state === 'SUCCEEDED' && rows[0].leaseEpoch === 1 && rows[0].attempts === 1 && rows[0]._count === TRIALS;
    if (sim.grants.length !== TRIALS || ids.size !== TRIALS || sim.grants.some((g) => g.epoch !== 1n) || !clean) {
      throw new Error(
        `${label}: DOUBLE OR MISSING ASSIGNMENT: ${sim.grants.length} grants, ${ids.size} distinct trials, rows ${JSON.stringify(rows)}`,
      );
    }
    const versions = await db.prisma.promptVersion.count({ where: { jobId: job!.id } });
    if (versions !== 1) throw new Error(`${label}: ${versions} versions registered, expected 1`);
    return { sim, queries, cpu, jobId: job!.id };
  };

  const throughput = await runPhase('throughput', 0);
  const held = await runPhase('held', HOLD_MS);
  const ideal = (TRIALS * HOLD_MS) / WORKERS;
  const report = {
    workers: WORKERS,
    trials: TRIALS,
    lease_cycles_per_s: Math.round((TRIALS / throughput.sim.wallMs) * 1000),
    lease_p50_ms: Number(percentile(throughput.sim.leaseLatencies, 50).toFixed(2)),
    lease_p99_ms: Number(percentile(throughput.sim.leaseLatencies, 99).toFixed(2)),
    db_round_trips_per_trial: Number((throughput.queries / TRIALS).toFixed(2)),
    coordinator_cpu_ms_per_cycle: throughput.cpu.coordinator,
    postgres_cpu_ms_per_cycle: throughput.cpu.postgres,
    load_average_1m: Number(os.loadavg()[0].toFixed(1)),
    hold_ms: HOLD_MS,
    held_lease_p99_ms: Number(percentile(held.sim.leaseLatencies, 99).toFixed(2)),
    held_db_round_trips_per_trial: Number((held.queries / TRIALS).toFixed(2)),
    wall_ms: Math.round(held.sim.wallMs),
    ideal_ms: ideal,
    wall_over_ideal: Number((held.sim.wallMs / ideal).toFixed(3)),
    double_assignments: 0,
  };
  process.stdout.write(
    [
      `scale bench: ${WORKERS} simulated workers, ${TRIALS}-trial jobs, coordinator in its own process, real Postgres`,
      `  throughput (hold 0):  ${report.lease_cycles_per_s} lease cycles/s, LeaseTrial p50 ${report.lease_p50_ms} ms, p99 ${report.lease_p99_ms} ms, ${report.db_round_trips_per_trial} DB round trips/trial`,
      `                        CPU per cycle: coordinator ${report.coordinator_cpu_ms_per_cycle} ms, Postgres ${report.postgres_cpu_ms_per_cycle} ms (load average ${report.load_average_1m} on ${os.cpus().length} cores)`,
      `  held (${HOLD_MS} ms/trial): wall ${report.wall_ms} ms vs ideal ${ideal} ms = ${report.wall_over_ideal}×, LeaseTrial p99 ${report.held_lease_p99_ms} ms, ${report.held_db_round_trips_per_trial} DB round trips/trial`,
      `  double assignments: 0 (every trial granted once at epoch 1; one version registered per job)`,
      JSON.stringify(report),
      '',
    ].join('\n'),
  );
  transport.close();
  await db.close();
} finally {
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
