/** The --max-memory check of the engine commands: between opening a model and reading its weights. */
import { checkMemoryBudget, memoryLimit, type MemoryEstimate, type OpenedModel } from '../../../engine/index.js';
import type { RuntimeFlags } from './options.js';

/** Refuses (MemoryLimitError) a run estimated above --max-memory or, by default, the machine's memory. */
export async function checkRunMemory(
  model: OpenedModel,
  f: RuntimeFlags & { model: string },
  run: { mode: 'train' | 'forward'; batch: number; seqLen: number },
): Promise<MemoryEstimate> {
  return checkMemoryBudget(
    { spec: model.spec, weights: model.weights.list(), weightsDtype: f.weightsDtype, recompute: f.recompute === true, ...run },
    await memoryLimit(f.maxMemory),
    f.model,
  );
}
