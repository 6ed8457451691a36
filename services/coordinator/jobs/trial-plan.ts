import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { TrialPointSchema, type TrialPoint } from '../../gen/ptune/v1/training_pb.js';

/** What trial.sweep_point holds: the trial's effective settings and the blob keys of its data. */
export interface TrialPlan {
  point: TrialPoint;
  trainKey: string;
  evalKey: string;
}

export function encodeTrialPlan(plan: TrialPlan): JsonValue {
  return { point: toJson(TrialPointSchema, plan.point), trainKey: plan.trainKey, evalKey: plan.evalKey };
}

export function decodeTrialPlan(json: unknown): TrialPlan {
  const raw = json as { point: JsonValue; trainKey: string; evalKey: string };
  return { point: fromJson(TrialPointSchema, raw.point), trainKey: raw.trainKey, evalKey: raw.evalKey };
}
