/**
 * Workers that train nothing but report like real ones, through the real worker protocol with a
 * worker token: each leases one trial, reports a falling loss every `reportEveryMs` (batches of
 * steps, as a real worker flushes its progress), heartbeats, and completes with a valid prompt of
 * the trial's shape. One worker per trial, so every curve of the sweep grows at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { clientsOver, openClientTransport, type WorkerProtocolClient } from '../../services/client/index.js';
import { writeSafetensors } from '../../services/engine/formats/safetensors.js';

export interface FleetOptions {
  readonly address: string;
  readonly token: string;
  readonly workers: number;
  /** steps of every trial (the job's optimizer.steps) */
  readonly steps: number;
  readonly stepsPerSecond: number;
  readonly reportEveryMs: number;
  /** the base model's hidden size (result prompt width) */
  readonly width: number;
}

export interface Fleet {
  /** step events the coordinator has accepted so far */
  readonly reported: () => number;
  /** resolves when every worker has completed its trial */
  readonly done: Promise<void>;
  close(): void;
}

/** Registers the workers and starts them; they lease as soon as the job's trials are queued. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const transports = Array.from({ length: Math.min(options.workers, 8) }, () =>
    openClientTransport(options.address, { token: options.token }),
  );
  const clients = Array.from({ length: options.workers }, (_, i) => clientsOver(transports[i % transports.length]!).workerProtocol);
  let reported = 0;
  const ids = await Promise.all(clients.map(async (c, i) => (await c.registerWorker({ name: `bench-sweep-${i}` })).workerId));
  const done = Promise.all(
    clients.map((client, i) =>
      runTrial(client, ids[i]!, options, (n) => {
        reported += n;
      }),
    ),
  ).then(() => undefined);
  return { reported: () => reported, done, close: () => transports.forEach((t) => t.close()) };
}

async function runTrial(
  client: WorkerProtocolClient,
  workerId: string,
  options: FleetOptions,
  onReported: (steps: number) => void,
): Promise<void> {
  let lease;
  while (lease === undefined) lease = (await client.leaseTrial({ workerId, waitTimeout: { seconds: 1n } })).lease;
  const token = { leaseId: lease.leaseId, epoch: lease.epoch };
  const lr = lease.trial?.point?.optimizer?.learningRate ?? 0.03;
  const rows = lease.trial?.point?.method?.numVirtualTokens ?? 8;
  const ttlMs = Number(lease.ttl?.seconds ?? 30n) * 1000;
  let lastBeat = Date.now();
  const perReport = Math.max(1, Math.round((options.stepsPerSecond * options.reportEveryMs) / 1000));
  for (let step = 1; step <= options.steps;) {
    const batch = [];
    for (let k = 0; k < perReport && step <= options.steps; k++, step++) {
      // a noisy exponential decay whose speed depends on the trial's learning rate
      const loss = 1.5 + 5 * Math.exp((-step * lr) / 2) + 0.15 * Math.sin(step * 1.7 + lr * 100);
      batch.push({ step, loss, learningRate: lr, gradNorm: 1, tokensPerSecond: 0 });
    }
    await sleep(options.reportEveryMs);
    await client.reportProgress({ lease: token, steps: batch });
    onReported(batch.length);
    if (Date.now() - lastBeat > ttlMs / 3) {
      await client.heartbeat({ workerId, lease: token, step: step - 1 });
      lastBeat = Date.now();
    }
  }
  const result = writeSafetensors({
    prompt_embeddings: {
      dtype: 'F32',
      shape: [rows, options.width],
      data: Float32Array.from({ length: rows * options.width }, (_, i) => Math.sin(i * lr) / 10),
    },
  });
  const sha256 = createHash('sha256').update(result).digest('hex');
  await client.putBlob([
    { part: { case: 'header', value: { sha256, sizeBytes: BigInt(result.length), kind: 'prompt', lease: token } } },
    { part: { case: 'chunk', value: result } },
  ]);
  await client.completeTrial({
    lease: token,
    resultBlobSha256: sha256,
    metrics: { eval_loss: 1.5 + 5 * Math.exp((-options.steps * lr) / 2) },
  });
}
