import { failedPrecondition, invalidArgument, notFound } from '../domain/index.js';
import { InvalidBlobKeyError } from '../storage/index.js';
import { LeaseLostError } from './queue/lease-lost-error.js';

/** Domain errors → gRPC statuses (anything else propagates as INTERNAL through the adapter). */
export function toRpcError(err: unknown): unknown {
  if (err instanceof InvalidBlobKeyError) return invalidArgument('blob_key', err.message);
  if (err instanceof LeaseLostError) {
    return (err.current ? failedPrecondition : notFound)(err.message, { trial_id: err.trialId });
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
