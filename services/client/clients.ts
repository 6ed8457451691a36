/**
 * Typed clients for every ptune service over one connection. `connect` opens the channel (token,
 * TLS, default deadline from ClientTransportOptions); `close` ends it.
 */
import { AccessService } from '../gen/ptune/v1/access_pb.js';
import { InferenceService } from '../gen/ptune/v1/inference_pb.js';
import { PromptRegistryService } from '../gen/ptune/v1/registry_pb.js';
import { TrainingService } from '../gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import { createClient, type GrpcTransport, type ServiceClient } from '../grpc/index.js';
import { openClientTransport, type ClientTransportOptions } from './transport.js';

/** Where `ptune serve` listens unless told otherwise. */
export const DEFAULT_SERVER = '127.0.0.1:50051';

export type RegistryClient = ServiceClient<typeof PromptRegistryService>;
export type TrainingClient = ServiceClient<typeof TrainingService>;
export type AccessClient = ServiceClient<typeof AccessService>;
export type WorkerProtocolClient = ServiceClient<typeof WorkerProtocolService>;
export type InferenceClient = ServiceClient<typeof InferenceService>;

export interface PtuneClient {
  readonly registry: RegistryClient;
  readonly training: TrainingClient;
  readonly access: AccessClient;
  readonly workerProtocol: WorkerProtocolClient;
  readonly inference: InferenceClient;
  readonly transport: GrpcTransport;
  close(): void;
}

/** Clients of every service at `address` (host:port), sharing one channel. */
export function connect(address: string, options: ClientTransportOptions = {}): PtuneClient {
  const transport = openClientTransport(address, options);
  return clientsOver(transport);
}

/** Clients of every service over an open transport (closing them closes it). */
export function clientsOver(transport: GrpcTransport): PtuneClient {
  return {
    registry: createClient(PromptRegistryService, transport),
    training: createClient(TrainingService, transport),
    access: createClient(AccessService, transport),
    workerProtocol: createClient(WorkerProtocolService, transport),
    inference: createClient(InferenceService, transport),
    transport,
    close: () => transport.close(),
  };
}
