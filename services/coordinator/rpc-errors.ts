import * as grpc from '@grpc/grpc-js';
import { RpcError } from '../grpc/index.js';
import { InvalidBlobKeyError } from '../storage/index.js';
import { LeaseLostError } from './queue/lease-lost-error.js';

/** Domain errors → gRPC statuses (anything else propagates as INTERNAL through the adapter). */
export function toRpcError(err: unknown): unknown {
  if (err instanceof InvalidBlobKeyError) return new RpcError(grpc.status.INVALID_ARGUMENT, err.message, { field: 'blob_key' });
  if (err instanceof LeaseLostError) {
    return new RpcError(err.current ? grpc.status.FAILED_PRECONDITION : grpc.status.NOT_FOUND, err.message, { trial_id: err.trialId });
  }
  return err;
}

/** Runs a handler body and converts domain errors. */
export async function mapErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw toRpcError(err);
  }
}
