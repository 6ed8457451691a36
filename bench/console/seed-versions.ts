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

/** The n-th version's eval_loss: a deterministic spread over [1, 2), distinct values, not in creation order. */
function evalLossOf(n: number, count: number): number {
  return 1 + ((n * 7919 + 1234) % count) / count;
}

export interface SeededVersions {
  readonly seconds: number;
  /** eval_loss of each version number */
  readonly evalLoss: ReadonlyMap<number, number>;
}

/** Creates `count` versions of an existing task, one at a time (concurrent creates only queue on the task's row lock). */
export async function seedVersions(server: RunningServer, options: SeedVersionsOptions): Promise<SeededVersions> {
  const stores = { prisma: server.context.prisma, blobs: server.context.blobs };
  const started = performance.now();
  const evalLoss = new Map<number, number>();
  for (let n = 1; n <= options.count; n++) {
    const data = Float32Array.from({ length: ROWS * options.width }, (_, i) => Math.sin(i + n) / 10); // a distinct blob per version
    const loss = evalLossOf(n, options.count);
    const { version } = await createPromptVersion(
      stores,
      create(PromptVersionSpecSchema, {
        task: { namespace: options.namespace, name: options.task },
        baseModel: options.baseModel,
        init: { method: InitMethod.SAMPLE_VOCAB },
        metrics: { eval_loss: loss, eval_accuracy: 1 / (1 + loss) },
        hyperparameters: { learning_rate: String(0.01 * (1 + (n % 10))), num_virtual_tokens: String(ROWS) },
        createdBy: 'bench',
      }),
      {
        kind: 'safetensors',
        bytes: writeSafetensors({ prompt_embeddings: { dtype: 'F32', shape: [ROWS, options.width], data } }),
        field: 'safetensors',
      },
    );
    evalLoss.set(version.version, loss);
    if (n % 1000 === 0) options.onProgress?.(n, performance.now() - started);
  }
  return { seconds: (performance.now() - started) / 1000, evalLoss };
}
