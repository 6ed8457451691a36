import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

export type { ServingStatus };

/**
 * Standard grpc.health.v1.Health, SERVING for the whole server ("") and for every named service.
 * Kubernetes gRPC probes and grpc_health_probe work against it.
 */
export function createHealth(serviceNames: readonly string[]): HealthImplementation {
  return new HealthImplementation(Object.fromEntries(['', ...serviceNames].map((name) => [name, 'SERVING' as const])));
}
