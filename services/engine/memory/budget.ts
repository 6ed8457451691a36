/**
 * The check before loading: a run whose estimated memory (estimate.ts) is above the limit
 * (limit.ts) is refused with the figures and what would bring it down.
 */
import { estimateMemory, type MemoryEstimate, type MemoryPlan } from './estimate.js';
import { formatBytes, type MemoryLimit } from './limit.js';

/**
 * The longest sequence a run's batches will have, virtual tokens included: the longest example
 * rounded up to the batches' bucket of 8 tokens, within the model's context.
 */
export function largestSeqLen(sets: readonly ({ maxLength: number } | undefined)[], virtualTokens: number, contextLength: number): number {
  const longest = Math.max(1, ...sets.map((s) => s?.maxLength ?? 0));
  return Math.min(Math.ceil(longest / BUCKET) * BUCKET, contextLength - virtualTokens) + virtualTokens;
}
/** ../data/batch.ts's default padding bucket */
const BUCKET = 8;

/** The run would not fit the memory it may use: a precondition, not a crash. */
export class MemoryLimitError extends Error {}

/** The estimate of `plan`, or a MemoryLimitError naming `model`, the figures and the changes that would fit. */
export function checkMemoryBudget(plan: MemoryPlan, limit: MemoryLimit, model: string): MemoryEstimate {
  const estimate = estimateMemory(plan);
  if (estimate.total <= limit.bytes) return estimate;
  const alternatives: { change: string; plan: MemoryPlan }[] = [];
  if (plan.mode === 'train' && !plan.recompute) alternatives.push({ change: '--recompute', plan: { ...plan, recompute: true } });
  if (plan.weightsDtype !== 'q4') alternatives.push({ change: '--weights-dtype q4', plan: { ...plan, weightsDtype: 'q4' } });
  if (plan.batch > 1) {
    const batch = Math.floor(plan.batch / 2);
    alternatives.push({ change: `--batch-size ${batch}`, plan: { ...plan, batch } });
  }
  const advice = alternatives.map((a) => {
    const total = estimateMemory(a.plan).total;
    return `${a.change} → ${formatBytes(total)}${total <= limit.bytes ? ' (fits)' : ''}`;
  });
  throw new MemoryLimitError(
    `${model}: this run needs an estimated ${formatBytes(estimate.total)} — weights ${formatBytes(estimate.weights)} held as ${estimate.held}` +
      (estimate.widened > 0 ? ` (+${formatBytes(estimate.widened)} widened to float32 while in use)` : '') +
      `, activations ${formatBytes(estimate.activations)} for ${plan.batch} × ${plan.seqLen} tokens${plan.recompute ? ' with recomputation' : ''}` +
      `, logits ${formatBytes(estimate.logits)}, runtime ${formatBytes(estimate.runtime)} — more than the ${formatBytes(limit.bytes)} allowed by ${limit.origin}.` +
      (advice.length > 0 ? ` Estimated with ${advice.join(', ')}.` : '') +
      ' Or raise --max-memory if the machine has the memory.',
  );
}
