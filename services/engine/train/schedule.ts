/**
 * Learning-rate schedules, as a pure function of the 0-based optimizer step index.
 * Warmup ramps linearly to the base rate over `warmupSteps` steps, reaching it on step
 * warmupSteps-1 (so no step is spent at lr 0). `linear` then decays linearly so that the
 * rate would be 0 at step `totalSteps` (the step after the last one); `constant` stays flat.
 */
import type { ScheduleName } from '../prompt/vocabulary.js';

export interface ScheduleConfig {
  schedule: ScheduleName;
  lr: number;
  warmupSteps: number;
  totalSteps: number;
}

export function learningRateAt(step: number, c: ScheduleConfig): number {
  if (step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  if (c.schedule === 'constant') return c.lr;
  const decaySteps = Math.max(1, c.totalSteps - c.warmupSteps);
  return (c.lr * Math.max(0, c.totalSteps - step)) / decaySteps;
}
