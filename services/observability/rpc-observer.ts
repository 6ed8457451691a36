import * as grpc from '@grpc/grpc-js';
import type { CallObserver } from '../grpc/index.js';
import type { PtuneMetrics } from './metrics.js';

/**
 * The gRPC adapter's per-call hook, recording ptune_rpc_duration_seconds:
 * `startGrpcServer({ ..., observe: rpcMetricsObserver(metrics) })`.
 */
export function rpcMetricsObserver(metrics: Pick<PtuneMetrics, 'observeRpc'>): CallObserver {
  return (outcome) =>
    metrics.observeRpc(outcome.methodPath.replace(/^\//, ''), grpc.status[outcome.code] ?? String(outcome.code), outcome.durationSeconds);
}
