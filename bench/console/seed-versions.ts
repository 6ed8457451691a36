/**
 * A task with many versions for the console benchmark, created through the registry's one create
 * path (`createPromptVersion`, the function CreatePromptVersion calls after its access check) in the
 * server's own process: 10,000 gRPC round trips would only add transport time to the set-up.
 * Every version has its own small prompt blob, metrics and hyperparameters, so sorting by a metric
 * reads real, distinct values.
 */
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import { writeSafetensors } from '../../services/engine/formats/safetensors.js';
import { InitMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { PromptVersionSpecSchema } from '../../services/gen/ptune/v1/registry_pb.js';
import { createPromptVersion } from '../../services/registry/index.js';
import type { RunningServer } from '../../services/server/index.js';

export interface SeedVersionsOptions {
  readonly namespace: string;
  readonly task: string;
  readonly baseModel: string;
  /** the base model's hidden size (the prompt's row width) */
  readonly width: number;
  readonly count: number;
  /** called every 1000 versions */
  readonly onProgress?: (created: number, elapsedMs: number) => void;
}

const ROWS = 4;
const CONCURRENCY = 8;

/** Version n's eval_loss: a deterministic spread over [1, 2) that is not the creation order. */
export function evalLossOf(n: number, count: number): number {
  return 1 + ((n * 7919 + 1234) % count) / count;
}

/** Creates versions 1..count of an existing task; returns the seconds it took. */
export async function seedVersions(server: RunningServer, options: SeedVersionsOptions): Promise<number> {
  const stores = { prisma: server.context.prisma, blobs: server.context.blobs };
  const started = performance.now();
  let next = 1;
  let created = 0;
  const createOne = async (n: number): Promise<void> => {
    const data = Float32Array.from({ length: ROWS * options.width }, (_, i) => Math.sin(i + n) / 10); // a distinct blob per version
    const evalLoss = evalLossOf(n, options.count);
    await createPromptVersion(
      stores,
      create(PromptVersionSpecSchema, {
        task: { namespace: options.namespace, name: options.task },
        baseModel: options.baseModel,
        init: { method: InitMethod.SAMPLE_VOCAB },
        metrics: { eval_loss: evalLoss, eval_accuracy: 1 / (1 + evalLoss) },
        hyperparameters: { learning_rate: String(0.01 * (1 + (n % 10))), num_virtual_tokens: String(ROWS) },
        createdBy: 'bench',
      }),
      {
        kind: 'safetensors',
        bytes: writeSafetensors({ prompt_embeddings: { dtype: 'F32', shape: [ROWS, options.width], data } }),
        field: 'safetensors',
      },
    );
    if (++created % 1000 === 0) options.onProgress?.(created, performance.now() - started);
  };
  // Several creates in flight overlap their blob writes (each fsyncs); the version numbers are still
  // allocated one at a time by the task's row lock.
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next <= options.count) await createOne(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}
