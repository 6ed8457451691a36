/**
 * Workers that train nothing: real gRPC clients that register, lease, hold each trial a fixed time
 * and complete it with a prepared result. Every grant is recorded for the double-assignment check.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { createClient, createGrpcTransport, type GrpcTransport, type ServiceClient } from '../../services/grpc/index.js';

export interface Grant {
  trialId: string;
  epoch: bigint;
  worker: number;
  leasedAt: number;
  completedAt: number;
}

export interface SimulationResult {
  grants: Grant[];
  /** LeaseTrial latencies of calls that returned a lease, in ms */
  leaseLatencies: number[];
  wallMs: number;
}

export interface SimulatedFleet {
  /** runs the workers until `trials` trials are completed */
  run(): Promise<SimulationResult>;
}

/** Connects and registers the workers (outside the measured window); run() starts the lease loops. */
export async function prepareWorkers(options: {
  address: string;
  workers: number;
  holdMs: number;
  trials: number;
  resultSha256: string;
  label: string;
}): Promise<SimulatedFleet> {
  const transports = Array.from({ length: Math.min(options.workers, 10) }, () => createGrpcTransport(options.address));
  const clients = Array.from({ length: options.workers }, (_, i) => createClient(WorkerProtocolService, transports[i % transports.length]));
  const ids = await Promise.all(
    clients.map(async (client, i) => (await client.registerWorker({ name: `${options.label}-${i}` })).workerId),
  );
  return { run: () => runWorkers(options, clients, ids, transports) };
}

async function runWorkers(
  options: { workers: number; holdMs: number; trials: number; resultSha256: string },
  clients: ServiceClient<typeof WorkerProtocolService>[],
  ids: string[],
  transports: GrpcTransport[],
): Promise<SimulationResult> {
  const grants: Grant[] = [];
  const leaseLatencies: number[] = [];
  const started = performance.now();
  let completed = 0;
  const worker = async (index: number): Promise<void> => {
    const client = clients[index];
    const workerId = ids[index];
    while (completed < options.trials) {
      const t0 = performance.now();
      const { lease } = await client.leaseTrial({ workerId, waitTimeout: { nanos: 300_000_000 } });
      if (!lease) continue;
      const leasedAt = performance.now();
      leaseLatencies.push(leasedAt - t0);
      if (options.holdMs > 0) await sleep(options.holdMs);
      await client.completeTrial({
        lease: { leaseId: lease.leaseId, epoch: lease.epoch },
        resultBlobSha256: options.resultSha256,
        metrics: { eval_loss: 1 + Math.random() },
      });
      completed++;
      grants.push({ trialId: lease.leaseId, epoch: lease.epoch, worker: index, leasedAt, completedAt: performance.now() });
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, i) => worker(i)));
  const wallMs = performance.now() - started;
  for (const t of transports) t.close();
  return { grants, leaseLatencies, wallMs };
}
