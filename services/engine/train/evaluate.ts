/**
 * Held-out metrics of a prompt, from one teacher-forced forward pass per batch:
 *  - loss: mean next-token cross-entropy over all output tokens of the dataset (token-weighted,
 *    not a mean of per-example means);
 *  - firstTokenAccuracy: share of examples whose first output token is the argmax prediction;
 *  - exactMatch: share of examples whose every output token is the argmax prediction given the
 *    reference prefix. That is the same as "greedy decoding reproduces the output exactly": if every
 *    argmax along the reference equals the reference token, greedy decoding walks exactly that path,
 *    and at the first position where they differ greedy decoding leaves it.
 */
import type { EvalMetrics } from '../prompt/vocabulary.js';
import { servedTensor } from '../methods/serving.js';
import type { LoadedModel } from '../model/load-model.js';
import type { ParameterSet } from '../prompt/vocabulary.js';
import type { ExampleSet } from './example-set.js';
import { PromptRunner, type RunnerOptions, type TokenBatch } from './prompt-runner.js';

/** The batches of an eval set; rows with an all-zero loss mask are padding and are not counted. */
export type EvalBatches = Iterable<TokenBatch>;

export async function evaluate(runner: PromptRunner, batches: EvalBatches, params: ParameterSet): Promise<EvalMetrics> {
  let nll = 0;
  let outputTokens = 0;
  let examples = 0;
  let firstCorrect = 0;
  let exact = 0;
  for (const batch of batches) {
    const out = await runner.score(batch, params);
    const { seqLen: T } = batch;
    for (let b = 0; b < batch.batch; b++) {
      if (out.exampleTokens[b] === 0) continue;
      examples++;
      nll += out.exampleNll[b];
      outputTokens += out.exampleTokens[b];
      let first = true;
      let allCorrect = true;
      for (let t = 1; t < T; t++) {
        if (batch.lossMask[b * T + t] === 0) continue;
        const correct = out.predictions[b * (T - 1) + t - 1] === batch.tokens[b * T + t];
        if (first) firstCorrect += correct ? 1 : 0;
        first = false;
        allCorrect &&= correct;
      }
      exact += allCorrect ? 1 : 0;
    }
  }
  if (examples === 0) throw new Error('eval: the dataset has no example with output tokens');
  return { loss: nll / outputTokens, firstTokenAccuracy: firstCorrect / examples, exactMatch: exact / examples, examples, outputTokens };
}

export interface EvaluatePromptOptions extends RunnerOptions {
  /** [P, dim] virtual tokens; the bare model when absent */
  prompt?: Float32Array;
  /** [P, layers·2·kvDim] key/value prefix (prefix tuning, ../methods/prefix-layout.ts) */
  prefix?: Float32Array;
  /** examples per forward pass, default 16 */
  batchSize?: number;
}

/** Metrics of a stored prompt (or of the bare model) on a dataset, with its own short-lived sessions. */
export async function evaluatePrompt(model: LoadedModel, data: ExampleSet, o: EvaluatePromptOptions = {}): Promise<EvalMetrics> {
  const config = model.spec;
  const prompt = o.prompt && servedTensor('virtual-tokens', o.prompt, config);
  const prefix = o.prefix && servedTensor('past-key-values', o.prefix, config);
  const runner = new PromptRunner(model, { virtualTokens: prompt?.virtualTokens, pastKeyValues: prefix?.pastKeyValues }, o);
  const params: ParameterSet = {};
  for (const s of [prompt, prefix]) if (s) params[s.name] = s.data;
  try {
    return await evaluate(runner, data.batches(o.batchSize ?? 16), params);
  } finally {
    await runner.release();
  }
}
