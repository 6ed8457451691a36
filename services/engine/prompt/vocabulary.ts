/** The names a prompt's run is described by: its method and its learning-rate schedule. */
export type MethodName = 'prompt_tuning' | 'p_tuning' | 'prefix_tuning';
export const methodNames: readonly MethodName[] = ['prompt_tuning', 'p_tuning', 'prefix_tuning'];

export type ScheduleName = 'constant' | 'linear';
export const scheduleNames: readonly ScheduleName[] = ['constant', 'linear'];

/** Trainable tensors by graph input name (what a method declares and the optimizer updates). */
export type ParameterSet = Record<string, Float32Array>;

/** Held-out metrics of a prompt (train/evaluate.ts computes them; prompt files record them). */
export interface EvalMetrics {
  loss: number;
  firstTokenAccuracy: number;
  exactMatch: number;
  examples: number;
  outputTokens: number;
}
