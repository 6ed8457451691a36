/**
 * What the quick-start trains: the two example tasks, a two-point learning-rate sweep, and step
 * counts sized so that the whole job finishes in about two minutes on a 2-core machine.
 */
import path from 'node:path';
import { findRepoRoot } from './repo-root.js';

export interface QuickstartTask {
  /** task name in the `default` namespace; also the folder under examples/ */
  readonly name: string;
  readonly train: string;
  readonly eval: string;
  /** an input from the eval file, to show the trained prompt in use */
  readonly sample: string;
}

export interface QuickstartPlan {
  readonly tasks: readonly QuickstartTask[];
  readonly virtualTokens: number;
  readonly learningRates: readonly number[];
  readonly steps: number;
  readonly batchSize: number;
  readonly checkpointEverySteps: number;
  readonly alias: string;
}

export const QUICKSTART_NAMESPACE = 'default';
export const QUICKSTART_ALIAS = 'production';

const SAMPLES: Readonly<Record<string, string>> = {
  feelings: 'Tom lost the red ball. He felt',
  names: 'Lily had a dog. She saw a big tree. "What is your name?" asked the dog. "My name is',
};

/**
 * A generated model has random weights: it learns the examples' fixed output tokens from the prompt
 * alone within 150 steps (measured: feelings first-token accuracy 0.00 → 0.82); stories260K knows
 * English, so it gets the 300 steps of examples/README.md and learns both tasks.
 */
export function quickstartPlan(model: 'generated' | 'gguf', repoRoot = findRepoRoot()): QuickstartPlan {
  const steps = model === 'generated' ? 150 : 300;
  return {
    tasks: Object.entries(SAMPLES).map(([name, sample]) => ({
      name,
      train: path.join(repoRoot, 'examples', name, 'train.jsonl'),
      eval: path.join(repoRoot, 'examples', name, 'eval.jsonl'),
      sample,
    })),
    virtualTokens: 8,
    learningRates: model === 'generated' ? [0.03, 0.1] : [0.01, 0.03],
    steps,
    batchSize: 16,
    checkpointEverySteps: 50,
    alias: QUICKSTART_ALIAS,
  };
}
