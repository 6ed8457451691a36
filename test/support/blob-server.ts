/** A coordinator on loopback that answers only GetBlob (what a worker's blob cache calls), and a transport to it. */
import { status } from '@grpc/grpc-js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import {
  createGrpcTransport,
  implement,
  RpcError,
  startGrpcServer,
  type GrpcTransport,
  type ServiceHandlers,
} from '../../services/grpc/index.js';

export interface BlobServer {
  readonly transport: GrpcTransport;
  close(): Promise<void>;
}

export async function startBlobServer(getBlob: ServiceHandlers<typeof WorkerProtocolService>['getBlob']): Promise<BlobServer> {
  const unimplemented = (): never => {
    throw new RpcError(status.UNIMPLEMENTED, 'not part of this test');
  };
  const coordinator = implement(WorkerProtocolService, {
    registerWorker: unimplemented,
    leaseTrial: unimplemented,
    heartbeat: unimplemented,
    reportProgress: unimplemented,
    reportCheckpoint: unimplemented,
    completeTrial: unimplemented,
    failTrial: unimplemented,
    releaseLease: unimplemented,
    getBlob,
    putBlob: unimplemented,
  });
  const server = await startGrpcServer({ port: 0, host: '127.0.0.1', services: [coordinator] });
  const transport = createGrpcTransport(`127.0.0.1:${server.port}`);
  return {
    transport,
    async close() {
      transport.close();
      await server.close(100);
    },
  };
}
