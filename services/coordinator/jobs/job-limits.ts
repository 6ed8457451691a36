/** Defaults and ranges of TrainPrompt (the proto documents the defaults); server limits are in services/config. */
export const JOB_DEFAULTS = {
  virtualTokens: 8,
  learningRate: 0.03,
  steps: 300,
  batchSize: 16,
  checkpointEverySteps: 50,
  maxAttempts: 3,
  selection: 'eval_loss',
} as const;

/** Fixed ranges; the most virtual tokens is the server's limit (PTUNE_MAX_VIRTUAL_TOKENS). */
export const RANGES = {
  steps: [1, 1_000_000],
  batchSize: [1, 1024],
  maxAttempts: [1, 10],
} as const;

/** Selection metrics a trial reports on the eval set, and whether higher is better. */
export const SELECTION_METRICS: Readonly<Record<string, boolean>> = {
  eval_loss: false,
  eval_first_token_accuracy: true,
  eval_accuracy: true,
  eval_exact_match: true,
};
