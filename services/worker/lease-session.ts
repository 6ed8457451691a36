/**
 * One held lease: fenced calls carry its token; a heartbeat timer extends it and turns a revoked or
 * cancelled verdict (or a fenced-out call) into an abort of the training run.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { StepMetrics } from '../gen/ptune/v1/training_pb.js';
import { LeaseStatus, type TrialLease, type WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import { RpcError, type ServiceClient } from '../grpc/index.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { StepMetricsSchema } from '../gen/ptune/v1/training_pb.js';
import { withRetry } from './with-retry.js';

export type LeaseEnd = 'revoked' | 'cancelled';

const PROGRESS_FLUSH_MS = 1000;

export class LeaseSession {
  readonly token: { leaseId: string; epoch: bigint };
  /** aborted when the lease is lost or the job cancelled (see `ended`) */
  readonly lost = new AbortController();
  ended: LeaseEnd | undefined;
  private readonly timer: NodeJS.Timeout;
  private pending: MessageInitShape<typeof StepMetricsSchema>[] = [];
  private lastFlush = Date.now();
  /** reports are sent one after another, so the job log keeps the steps in order */
  private reporting: Promise<void> = Promise.resolve();
  private step = 0;

  constructor(
    private readonly client: ServiceClient<typeof WorkerProtocolService>,
    private readonly workerId: string,
    lease: TrialLease,
    heartbeatMs: number,
    /** when it fires (the worker is stopping), calls no longer retry transient failures */
    private readonly stopping: AbortSignal,
  ) {
    this.token = { leaseId: lease.leaseId, epoch: lease.epoch };
    this.timer = setInterval(() => void this.heartbeat(), heartbeatMs);
  }

  private end(reason: LeaseEnd): void {
    if (this.ended) return;
    this.ended = reason;
    this.lost.abort(new Error(`lease ${reason}`));
  }

  private async heartbeat(): Promise<void> {
    try {
      const verdict = await this.client.heartbeat({ workerId: this.workerId, lease: this.token, step: this.step }, { timeoutMs: 10_000 });
      if (verdict.status === LeaseStatus.REVOKED) this.end('revoked');
      if (verdict.status === LeaseStatus.CANCELLED) this.end('cancelled');
    } catch (err) {
      this.noteFenced(err);
      // transient failures: the next tick tries again; the lease TTL leaves room for several
    }
  }

  /** A fenced-out call means the lease was taken over. */
  noteFenced(err: unknown): void {
    if (err instanceof RpcError && err.code === grpc.status.FAILED_PRECONDITION) this.end('revoked');
  }

  /** Runs a fenced call with transient retries; a fence refusal ends the session and rethrows. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(fn, { signal: this.stopping });
    } catch (err) {
      this.noteFenced(err);
      throw err;
    }
  }

  progress(step: StepMetrics | MessageInitShape<typeof StepMetricsSchema>): void {
    this.step = step.step ?? this.step;
    this.pending.push(step);
    if (Date.now() - this.lastFlush >= PROGRESS_FLUSH_MS) void this.flush().catch(() => undefined);
  }

  flush(evals: { step: number; metrics: Record<string, number> }[] = []): Promise<void> {
    const steps = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    if (steps.length === 0 && evals.length === 0) return this.reporting;
    const report = this.reporting.then(() => this.call(() => this.client.reportProgress({ lease: this.token, steps, evals })));
    this.reporting = report.then(
      () => undefined,
      () => undefined,
    );
    return report.then(() => undefined);
  }

  async putBlob(kind: 'checkpoint' | 'prompt', bytes: Uint8Array): Promise<{ key: string; sha256: string }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { key } = await this.call(() =>
      this.client.putBlob([
        { part: { case: 'header', value: { sha256, sizeBytes: BigInt(bytes.length), kind, lease: this.token } } },
        ...chunks(bytes).map((chunk) => ({ part: { case: 'chunk' as const, value: chunk } })),
      ]),
    );
    return { key, sha256 };
  }

  close(): void {
    clearInterval(this.timer);
  }
}

function chunks(bytes: Uint8Array, size = 1024 * 1024): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) out.push(bytes.subarray(offset, offset + size));
  if (out.length === 0) out.push(new Uint8Array(0));
  return out;
}
