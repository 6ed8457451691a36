/** Helpers that speak the worker protocol by hand (no engine): upload datasets, store blobs, complete trials. */
import { createHash } from 'node:crypto';
import { encodePromptFile } from '../../../services/engine/prompt/prompt-file.js';
import type { TrainingService } from '../../../services/gen/ptune/v1/training_pb.js';
import type { LeaseToken, WorkerProtocolService } from '../../../services/gen/ptune/v1/worker_pb.js';
import { RpcError, type ServiceClient } from '../../../services/grpc/index.js';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export async function uploadDataset(training: ServiceClient<typeof TrainingService>, text: string, name = 'data.jsonl'): Promise<string> {
  const bytes = Buffer.from(text);
  const response = await training.uploadDataset([
    { part: { case: 'header', value: { name, sizeBytes: BigInt(bytes.length) } } },
    { part: { case: 'chunk', value: bytes } },
  ]);
  return response.dataset!.sha256;
}

export async function putBlob(
  workers: ServiceClient<typeof WorkerProtocolService>,
  lease: LeaseToken | { leaseId: string; epoch: bigint },
  kind: 'checkpoint' | 'prompt',
  bytes: Uint8Array,
): Promise<string> {
  const sha256 = sha256Hex(bytes);
  const response = await workers.putBlob([
    {
      part: {
        case: 'header',
        value: { sha256, sizeBytes: BigInt(bytes.length), kind, lease: { leaseId: lease.leaseId, epoch: lease.epoch } },
      },
    },
    { part: { case: 'chunk', value: bytes } },
  ]);
  return response.key;
}

/** A valid [P, dim] prompt file whose values depend on `seed`. */
export function promptBytes(virtualTokens: number, dim: number, seed: number): Uint8Array {
  const data = Float32Array.from({ length: virtualTokens * dim }, (_, i) => Math.sin(seed * 1000 + i) * 0.1);
  return encodePromptFile(data, dim, { format: 'pt' });
}

export async function rpcError(promise: Promise<unknown>): Promise<RpcError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof RpcError)) throw new Error(`expected an RpcError, got ${String(outcome)}`);
  return outcome;
}
