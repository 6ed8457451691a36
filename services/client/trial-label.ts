import type { Trial } from '../gen/ptune/v1/training_pb.js';

/** "feelings lr=0.03 vt=8": a trial named by its task and sweep point (the namespace only when not "default"). */
export function trialLabel(trial: Trial): string {
  const task =
    trial.task === undefined ? '?' : trial.task.namespace === 'default' ? trial.task.name : `${trial.task.namespace}/${trial.task.name}`;
  return `${task} lr=${trial.point?.optimizer?.learningRate ?? '?'} vt=${trial.point?.method?.numVirtualTokens ?? '?'}`;
}
