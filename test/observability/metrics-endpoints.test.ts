import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orchestrationGauges } from '../../services/coordinator/index.js';
import { InitMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { JobState, TrainingService } from '../../services/gen/ptune/v1/training_pb.js';
import { createClient, createGrpcTransport } from '../../services/grpc/index.js';
import { createMetrics, rpcMetricsObserver, startMetricsServer, type MetricsServer } from '../../services/observability/index.js';
import { allInOneModules } from '../../services/cli/commands/all-in-one.js';
import { startServer, type RunningServer } from '../../services/server/index.js';
import { uploadDataset } from '../orchestration/support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from '../orchestration/support/seed.js';

/** The value of one sample line, e.g. sample(text, 'ptune_trials{state="SUCCEEDED"}'); undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics of a server with the coordinator, registry and an in-process worker (PGlite)', () => {
  const metrics = createMetrics({ defaultMetrics: false });
  let dir: string;
  let server: RunningServer;
  let metricsServer: MetricsServer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-metrics-'));
    server = await startServer({
      dataDir: dir,
      port: 0,
      logger: pino({ level: 'warn' }),
      hooks: { observe: rpcMetricsObserver(metrics) },
      modules: allInOneModules({
        onCacheLookup: (result) => metrics.recordPromptCacheLookup(result),
        coordinator: { heartbeatIntervalMs: 300, maintenanceIntervalMs: 200, eventPollMs: 20 },
        sweeper: { intervalMs: 0, graceMs: 0 },
        workers: { count: 1, threads: 1, onStep: () => metrics.recordTrainingSteps() },
      }),
    });
    metrics.collectOrchestrationState(orchestrationGauges(server.context.prisma));
    metrics.collectChangeNotifications(() => server.context.promptChanges.live);
    metricsServer = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: metrics.registry });
  });
  afterAll(async () => {
    await metricsServer?.close();
    await server?.close(1000);
    await rm(dir, { recursive: true, force: true });
  });

  it('reports RPC latency, trial states, queue depth, leases, training steps and prompt cache lookups', async () => {
    const scrape = async (): Promise<string> => {
      const response = await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`);
      expect(response.status).toBe(200);
      return response.text();
    };
    const before = await scrape();
    expect(sample(before, 'ptune_queue_depth')).toBe(0);
    expect(sample(before, 'ptune_trials{state="SUCCEEDED"}')).toBe(0);

    const model = await seedTinyModel(server.context.prisma, server.context.blobs);
    const task = await seedTask(server.context.prisma);
    const transport = createGrpcTransport(server.address);
    const training = createClient(TrainingService, transport);
    const registry = createClient(PromptRegistryService, transport);
    try {
      const train = await uploadDataset(training, datasetText(8));
      const evalSet = await uploadDataset(training, datasetText(4, 5));
      const { job } = await training.trainPrompt({
        baseModel: model.name,
        tasks: [
          {
            task: { namespace: task.namespace, name: task.name },
            train: { source: { case: 'sha256', value: train } },
            eval: { source: { case: 'sha256', value: evalSet } },
          },
        ],
        method: { numVirtualTokens: 4, init: { method: InitMethod.SAMPLE_VOCAB } },
        optimizer: { steps: 3, batchSize: 4, seed: 1n, learningRate: 0.01 },
        alias: 'production',
      });
      let finished;
      for await (const { event } of training.watchJob({ jobId: job!.id })) {
        if (event?.kind.case === 'jobState') finished = event.kind.value.state;
      }
      expect(finished).toBe(JobState.SUCCEEDED);
      await registry.getPrompt({
        prompt: { task: { namespace: task.namespace, name: task.name }, selector: { case: 'alias', value: 'production' } },
      });
      await registry.getPrompt({
        prompt: { task: { namespace: task.namespace, name: task.name }, selector: { case: 'alias', value: 'production' } },
      });
    } finally {
      transport.close();
    }

    const text = await scrape();
    expect(sample(text, 'ptune_rpc_duration_seconds_count{method="ptune.v1.TrainingService/TrainPrompt",code="OK"}')).toBe(1);
    expect(sample(text, 'ptune_rpc_duration_seconds_bucket{le="+Inf",method="ptune.v1.PromptRegistryService/GetPrompt",code="OK"}')).toBe(
      2,
    );
    expect(
      sample(text, 'ptune_rpc_duration_seconds_count{method="ptune.v1.WorkerProtocolService/LeaseTrial",code="OK"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ptune_trials{state="SUCCEEDED"}')).toBe(1);
    expect(sample(text, 'ptune_trials{state="QUEUED"}')).toBe(0);
    expect(sample(text, 'ptune_trials{state="RUNNING"}')).toBe(0);
    expect(sample(text, 'ptune_queue_depth')).toBe(0);
    expect(sample(text, 'ptune_active_leases')).toBe(0);
    expect(sample(text, 'ptune_training_steps_total')).toBe(3);
    expect(sample(text, 'ptune_training_steps_per_second')).toBeGreaterThan(0);
    const hits = sample(text, 'ptune_prompt_cache_requests_total{result="hit"}') ?? 0;
    const misses = sample(text, 'ptune_prompt_cache_requests_total{result="miss"}') ?? 0;
    expect(hits + misses).toBeGreaterThanOrEqual(2);
    expect(hits).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ptune_prompt_cache_hit_ratio')).toBeCloseTo(hits / (hits + misses));
    // the embedded database has one writer, this process: its changes are always heard
    expect(sample(text, 'ptune_prompt_change_notifications_live')).toBe(1);
  }, 60_000);
});
