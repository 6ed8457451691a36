/** The engine flags `ptune infer` and `ptune serve` share, and the metrics hooks of an inference server. */
import { Option, type Command } from 'commander';
import type { InferenceEngineOptions } from '../../engine/index.js';
import type { InferenceObserver } from '../../inference/index.js';
import type { PtuneMetrics } from '../../observability/index.js';
import type { WeightsDtype } from '../../engine/model/weights-dtype.js';
import { integerAtLeast } from './engine/options.js';

export interface InferenceFlags {
  /** how the served model's weights are held (`--weights-dtype`): passed to its load, not to the engine */
  weightsDtype: WeightsDtype;
  executionProvider?: 'cpu' | 'cuda';
  slots: number;
  queue: number;
  prefixCacheMb: number;
  inferThreads?: number;
}

export const HTTP_PORT_OPTION = (): Option =>
  new Option('--http-port <p>', 'HTTP port for the web console and the OpenAI-compatible endpoint (0 picks a free one)')
    .env('PTUNE_HTTP_PORT')
    .argParser(integerAtLeast(0))
    .default(8080);

export function addInferenceOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--slots <n>', 'sequences decoded together in one batch').env('PTUNE_INFER_SLOTS').argParser(integerAtLeast(1)).default(8),
    )
    .addOption(
      new Option('--queue <n>', 'requests waiting for a slot beyond which calls get RESOURCE_EXHAUSTED (429)')
        .env('PTUNE_INFER_QUEUE')
        .argParser(integerAtLeast(0))
        .default(64),
    )
    .addOption(
      new Option('--prefix-cache-mb <n>', "memory for prompt versions' virtual-token keys/values (LRU)")
        .env('PTUNE_PREFIX_CACHE_MB')
        .argParser(integerAtLeast(0))
        .default(256),
    )
    .option(
      '--infer-threads <n>',
      'onnxruntime intra-op threads of the inference engine (default: onnxruntime decides)',
      integerAtLeast(1),
    );
}

export const engineOptions = (f: InferenceFlags): InferenceEngineOptions => ({
  maxSlots: f.slots,
  maxQueue: f.queue,
  prefixCacheBytes: f.prefixCacheMb * 1024 * 1024,
  threads: f.inferThreads,
  executionProvider: f.executionProvider,
});

export const generationMetrics = (metrics: PtuneMetrics): InferenceObserver => ({
  generated: (summary) => metrics.recordGeneration(summary),
});
