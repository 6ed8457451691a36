/** The worker loop: register, lease, run, repeat, until stopped. */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { memoryLimit, type ExecutionProvider, type WeightsDtype } from '../engine/index.js';
import { ExecutionProvider as WireExecutionProvider, WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import { openClientTransport, type ClientTransportOptions } from '../client/index.js';
import { createClient } from '../grpc/index.js';
import { BlobCache } from './blob-cache.js';
import { runTrial, type TrialRunner } from './run-trial.js';
import { isTransient, withRetry } from './with-retry.js';

export interface WorkerOptions {
  /** coordinator address, "host:port" */
  coordinator: string;
  /** stable worker name (re-registering replaces the old entry); default host-pid */
  name?: string;
  threads?: number;
  executionProvider?: ExecutionProvider;
  /** keep onnxruntime's idle threads spinning between kernels: for dedicated cores only */
  spinning?: boolean;
  /** precision the frozen weights are held in (default auto: the file's) */
  weightsDtype?: WeightsDtype;
  /** recompute each layer's forward in the backward pass (long sequences) */
  recompute?: boolean;
  /** bytes a trial may use (default: the machine's memory, or the cgroup limit); a trial estimated above it fails before loading */
  maxMemory?: number;
  /** where fetched blobs are kept (`ptune worker`: --cache-dir, PTUNE_CACHE_DIR, else ~/.cache/ptune) */
  cacheDir: string;
  /** stop: finish with a checkpoint, release the lease, return */
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** return after this many trials (tests); default: run until stopped */
  maxTrials?: number;
  /** API token (role worker), TLS files and call deadline for the coordinator connection */
  connection?: ClientTransportOptions;
  /** told after every optimizer step (metrics) */
  onStep?: () => void;
}

// short enough that an in-process worker does not hold a closing server up for long
const LEASE_WAIT_SECONDS = 2n;

export async function runWorker(options: WorkerOptions): Promise<void> {
  const transport = openClientTransport(options.coordinator, options.connection);
  const client = createClient(WorkerProtocolService, transport);
  const stop = options.signal ?? new AbortController().signal;
  const log = options.log ?? ((message: string) => console.error(`[worker] ${message}`));
  const limit = await memoryLimit(options.maxMemory);
  try {
    const registered = await withRetry(
      () =>
        client.registerWorker({
          name: options.name ?? `${os.hostname()}-${process.pid}`,
          version: '0.1.0',
          capabilities: {
            executionProvider: options.executionProvider === 'cuda' ? WireExecutionProvider.CUDA : WireExecutionProvider.CPU,
            threads: options.threads ?? 0,
            maxMemoryBytes: BigInt(limit.bytes),
            directBlobAccess: false,
          },
        }),
      { signal: stop },
    );
    const heartbeatMs = Number(registered.heartbeatInterval?.seconds ?? 5n) * 1000 + (registered.heartbeatInterval?.nanos ?? 0) / 1e6;
    const runner: TrialRunner = {
      client,
      cache: new BlobCache(client, options.cacheDir),
      workerId: registered.workerId,
      heartbeatMs,
      threads: options.threads,
      executionProvider: options.executionProvider,
      spinning: options.spinning,
      memory: { weightsDtype: options.weightsDtype ?? 'auto', recompute: options.recompute === true, limit },
      log,
      onStep: options.onStep,
    };
    log(`registered as ${registered.workerId} with ${options.coordinator}`);
    let trials = 0;
    while (!stop.aborted && (options.maxTrials === undefined || trials < options.maxTrials)) {
      let lease;
      try {
        lease = (await client.leaseTrial({ workerId: registered.workerId, waitTimeout: { seconds: LEASE_WAIT_SECONDS } }, { signal: stop }))
          .lease;
      } catch (err) {
        if (stop.aborted) break;
        if (!isTransient(err)) throw err;
        await sleep(1000);
        continue;
      }
      if (!lease) continue;
      await runTrial(runner, lease, stop);
      trials++;
    }
  } finally {
    transport.close();
  }
}
