/**
 * A TrainPrompt sweep: its size (the trial count the coordinator and the access guard limit) and its
 * grid of trial points.
 */
import { create } from '@bufbuild/protobuf';
import {
  MethodSettingsSchema,
  OptimizerSettingsSchema,
  TrialPointSchema,
  type MethodSettings,
  type OptimizerSettings,
  type Sweep,
  type TrialPoint,
} from '../gen/ptune/v1/training_pb.js';

/** Number of grid points of a sweep (1 for no sweep). */
export function sweepSize(sweep: Sweep | undefined): number {
  if (!sweep) return 1;
  return [sweep.numVirtualTokens, sweep.learningRates, sweep.inits, sweep.methods].reduce((n, values) => n * Math.max(1, values.length), 1);
}

/**
 * The grid of a sweep applied to the base settings, in a fixed order (methods, inits, virtual
 * tokens, learning rates; the last varies fastest). An empty list keeps the base value.
 */
export function expandSweep(method: MethodSettings, optimizer: OptimizerSettings, sweep: Sweep | undefined): TrialPoint[] {
  const axis = <T>(values: readonly T[] | undefined, base: T): T[] => (values && values.length > 0 ? [...values] : [base]);
  const points: TrialPoint[] = [];
  for (const m of axis(sweep?.methods, method.method)) {
    for (const init of axis(sweep?.inits, method.init)) {
      for (const vt of axis(sweep?.numVirtualTokens, method.numVirtualTokens)) {
        for (const lr of axis(sweep?.learningRates, optimizer.learningRate)) {
          points.push(
            create(TrialPointSchema, {
              method: create(MethodSettingsSchema, { ...method, method: m, init, numVirtualTokens: vt }),
              optimizer: create(OptimizerSettingsSchema, { ...optimizer, learningRate: lr }),
            }),
          );
        }
      }
    }
  }
  return points;
}
