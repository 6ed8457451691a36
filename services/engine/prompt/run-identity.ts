/**
 * What identifies a training run: the settings a resumed run must share with the run that wrote
 * its checkpoint, also recorded in the prompt file it produces.
 */
import type { MethodName, ScheduleName } from './vocabulary.js';

/** Settings a resumed run must share with the run that wrote the checkpoint. */
export interface RunIdentity {
  modelFingerprint: string;
  trainDigest: string;
  method: MethodName;
  /** the method's own settings (encoder, hidden size, projection) as canonical JSON; absent for prompt tuning */
  methodSettings?: string;
  virtualTokens: number;
  init: string;
  seed: number;
  steps: number;
  lr: number;
  schedule: ScheduleName;
  warmupSteps: number;
  weightDecay: number;
  gradClip: number;
  batchSize: number;
}

/** Throws, naming every differing field, when a checkpoint belongs to another run. */
export function assertSameRun(checkpoint: RunIdentity, current: RunIdentity): void {
  const diffs = (Object.keys(current) as (keyof RunIdentity)[])
    .filter((k) => checkpoint[k] !== current[k])
    .map((k) => `${k}: checkpoint ${JSON.stringify(checkpoint[k])}, now ${JSON.stringify(current[k])}`);
  if (diffs.length > 0) throw new Error(`the checkpoint belongs to a different run (${diffs.join('; ')})`);
}
