import { scheduleNames } from '../prompt/vocabulary.js';
import type { TrainOptions } from './train.js';

/** Checks every numeric option and the sequence lengths; the message names the option and what to fix. */
export function validateTrainOptions(o: TrainOptions): void {
  const problems: string[] = [];
  const int = (name: string, v: number | undefined, min: number): void => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) problems.push(`${name} must be an integer ≥ ${min} (got ${v})`);
  };
  const nonNegative = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) problems.push(`${name} must be a finite number ≥ 0 (got ${v})`);
  };
  int('virtual tokens', o.virtualTokens, 1);
  int('steps', o.steps, 1);
  int('batch size', o.batchSize, 1);
  int('seed', o.seed, 0);
  int('warmup steps', o.warmupSteps, 0);
  int('eval every', o.evalEvery, 1);
  int('checkpoint every', o.checkpointEvery, 1);
  int('threads', o.threads, 1);
  if (!(Number.isFinite(o.lr) && o.lr > 0)) problems.push(`learning rate must be a finite number > 0 (got ${o.lr})`);
  nonNegative('weight decay', o.weightDecay);
  nonNegative('gradient clip', o.gradClip);
  if (o.schedule !== undefined && !scheduleNames.includes(o.schedule)) {
    problems.push(`schedule must be one of ${scheduleNames.join(', ')} (got ${o.schedule})`);
  }
  if ((o.warmupSteps ?? 0) > o.steps) problems.push(`warmup steps (${o.warmupSteps}) exceed steps (${o.steps})`);
  const context = o.model.spec.contextLength;
  for (const [name, set] of [
    ['training', o.train],
    ['eval', o.eval],
  ] as const) {
    if (set && set.size === 0) problems.push(`the ${name} set is empty`);
    if (set && o.virtualTokens + set.maxLength > context) {
      problems.push(
        `the ${name} set's longest example has ${set.maxLength} tokens; with ${o.virtualTokens} virtual tokens that exceeds the model's context of ${context}`,
      );
    }
  }
  if (problems.length > 0) throw new Error(`invalid training options: ${problems.join('; ')}`);
}
