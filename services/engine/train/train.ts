/**
 * The prompt-tuning loop: batch → forward + backward on onnxruntime → clip → AdamW, repeated,
 * with eval, checkpoints, progress events and cancellation. The trainable set is a named set of
 * Float32Arrays (graph inputs) that the method (../methods: prompt tuning, P-tuning, prefix tuning)
 * declares; prompt tuning has one, `prompt_embeddings` [P, dim].
 */
import { ExampleSampler } from '../data/sampler.js';
import type { ExecutionProvider } from '../graph/run.js';
import type { LoadedModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import { adamwStep, createAdamWState, defaultAdamWConfig } from './adamw.js';
import { type ParameterSet } from '../prompt/vocabulary.js';
import { encodeCheckpoint, writeCheckpointFile } from './checkpoint-file.js';
import { assertSameRun, type RunIdentity } from '../prompt/run-identity.js';
import type { TrainCheckpoint } from './checkpoint.js';
import { clipGlobalNorm } from './clip.js';
import { TrainingAbortedError, TrainingDivergedError } from './errors.js';
import { evaluate } from './evaluate.js';
import { type EvalMetrics } from '../prompt/vocabulary.js';
import type { ExampleSet } from './example-set.js';
import { computeStoredTensor, createMethod, graphSource, methodSettings, type MethodOptions, type MethodSpec } from '../methods/index.js';
import { formatPromptInit, type PromptInit } from '../prompt/prompt-init.js';
import { PromptRunner } from './prompt-runner.js';
import type { WeightsDtype } from '../model/weights-dtype.js';
import { learningRateAt } from './schedule.js';
import { type ScheduleName } from '../prompt/vocabulary.js';
import { validateTrainOptions } from './validate.js';

export interface TrainOptions {
  model: LoadedModel;
  train: ExampleSet;
  /** held-out set: evaluated before and after training (and every `evalEvery` steps) */
  eval?: ExampleSet;
  virtualTokens: number;
  /** default prompt tuning */
  method?: MethodOptions;
  init: PromptInit;
  steps: number;
  lr: number;
  /** default 'constant' */
  schedule?: ScheduleName;
  /** default 0 */
  warmupSteps?: number;
  /** decoupled AdamW weight decay, default 0 */
  weightDecay?: number;
  /** maximum global gradient norm; 0 turns clipping off; default 1 */
  gradClip?: number;
  batchSize: number;
  seed: number;
  evalEvery?: number;
  /** write a checkpoint every N steps (and after the last one); default: only after the last */
  checkpointEvery?: number;
  /** where checkpoints are written (`checkpoint.safetensors`, replaced atomically) */
  checkpointDir?: string;
  /** continue from this checkpoint (it must come from a run with the same settings and data) */
  resume?: TrainCheckpoint;
  executionProvider?: ExecutionProvider;
  threads?: number;
  /** keep onnxruntime's idle threads spinning between kernels (faster on dedicated cores) */
  spinning?: boolean;
  /** the precision the frozen weights are held in (default auto: the loaded model's) */
  weightsDtype?: WeightsDtype;
  /** recompute each layer's forward in the backward instead of keeping its activations (gradient checkpointing) */
  recompute?: boolean;
}

export interface TrainProgress {
  /** optimizer steps completed, 1-based */
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  stepMs: number;
  epoch: number;
}

export interface CheckpointEvent {
  step: number;
  /** the encoded checkpoint (safetensors bytes; `decodeCheckpoint` reads it back) */
  bytes: Uint8Array;
  /** file written, when `checkpointDir` is set */
  path?: string;
}

export interface TrainHooks {
  onProgress?: (progress: TrainProgress) => void;
  onEval?: (step: number, metrics: EvalMetrics) => void;
  /** awaited before training continues, so a caller can store the checkpoint durably */
  onCheckpoint?: (checkpoint: CheckpointEvent) => void | Promise<void>;
  /** when it fires, training writes a checkpoint of the last completed step and throws TrainingAbortedError */
  signal?: AbortSignal;
}

export interface TrainResult {
  identity: RunIdentity;
  params: ParameterSet;
  /** the method, every setting resolved */
  method: MethodSpec;
  /**
   * What is stored and served (PEFT's `prompt_embeddings`), [virtualTokens, dim] row-major: the
   * prompt itself, P-tuning's encoder output, or the prefix [P, layers·2·kvDim] (projected, if so)
   */
  promptEmbeddings: Float32Array;
  /** width of a `promptEmbeddings` row: the model's dim for virtual tokens, layers·2·kvDim for a prefix */
  dim: number;
  steps: number;
  /** training loss of every step, including steps done before a resume */
  losses: number[];
  /** wall time of each step run by this call (excluding eval and checkpoints) */
  stepMs: number[];
  resumedFromStep?: number;
  evalBefore?: EvalMetrics;
  evalAfter?: EvalMetrics;
}

export async function train(o: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  validateTrainOptions(o);
  const schedule = o.schedule ?? 'constant';
  const warmupSteps = o.warmupSteps ?? 0;
  const weightDecay = o.weightDecay ?? 0;
  const gradClip = o.gradClip ?? 1;
  const method = createMethod(o.method ?? { method: 'prompt_tuning' }, o.model.spec, o.virtualTokens);
  const settings = methodSettings(method.spec);
  const identity: RunIdentity = {
    modelFingerprint: o.model.fingerprint,
    trainDigest: o.train.digest,
    method: method.spec.method,
    ...(settings === undefined ? {} : { methodSettings: settings }),
    virtualTokens: o.virtualTokens,
    init: formatPromptInit(o.init),
    seed: o.seed,
    steps: o.steps,
    lr: o.lr,
    schedule,
    warmupSteps,
    weightDecay,
    gradClip,
    batchSize: o.batchSize,
  };
  const runner = new PromptRunner(o.model, graphSource(method), {
    executionProvider: o.executionProvider,
    threads: o.threads,
    spinning: o.spinning,
    weightsDtype: o.weightsDtype,
    recompute: o.recompute,
  });
  const evalSet = o.eval;
  const runEval = (params: ParameterSet): Promise<EvalMetrics> => evaluate(runner, evalSet ? evalSet.batches(o.batchSize) : [], params);
  try {
    let state: TrainCheckpoint;
    if (o.resume) {
      assertSameRun(o.resume.identity, identity);
      state = structuredClone(o.resume);
    } else {
      const rng = Rng.fromSeed(o.seed);
      const params = await method.initialParameters(o.init, o.model, rng);
      state = {
        step: 0,
        identity,
        params,
        optimizer: createAdamWState(params),
        // the data order continues the same seeded stream after the init's draws
        data: { epoch: 0, index: 0, epochStartRng: rng.state() },
        losses: [],
        evalBefore: evalSet ? await runEval(params) : undefined,
      };
    }
    const resumedFromStep = o.resume ? state.step : undefined;
    let lastCheckpointStep = resumedFromStep;
    const sampler = ExampleSampler.restore(o.train.size, state.data);
    const adamw = { ...defaultAdamWConfig, weightDecay };
    const stepMs: number[] = [];

    const checkpoint = async (): Promise<void> => {
      const bytes = encodeCheckpoint(state);
      const path = o.checkpointDir ? await writeCheckpointFile(o.checkpointDir, bytes) : undefined;
      lastCheckpointStep = state.step;
      await hooks.onCheckpoint?.({ step: state.step, bytes, path });
    };

    while (state.step < o.steps) {
      if (hooks.signal?.aborted) {
        await checkpoint();
        throw new TrainingAbortedError(state.step);
      }
      const started = performance.now();
      const step = state.step + 1;
      const batch = o.train.batch(sampler.next(o.batchSize), o.batchSize);
      const out = await runner.train(batch, state.params);
      const gradNorm = clipGlobalNorm(out.grads, gradClip);
      if (!Number.isFinite(out.loss)) throw new TrainingDivergedError(step, `the loss is ${out.loss}`, lastCheckpointStep);
      if (!Number.isFinite(gradNorm)) throw new TrainingDivergedError(step, `the gradient norm is ${gradNorm}`, lastCheckpointStep);
      const lr = learningRateAt(state.step, { schedule, lr: o.lr, warmupSteps, totalSteps: o.steps });
      adamwStep(state.params, out.grads, state.optimizer, lr, adamw);
      const ms = performance.now() - started;
      stepMs.push(ms);
      state.step = step;
      state.data = sampler.state();
      state.losses.push(out.loss);
      hooks.onProgress?.({ step, totalSteps: o.steps, loss: out.loss, lr, gradNorm, stepMs: ms, epoch: state.data.epoch });
      if (evalSet && o.evalEvery && step % o.evalEvery === 0 && step < o.steps) hooks.onEval?.(step, await runEval(state.params));
      if ((o.checkpointEvery && step % o.checkpointEvery === 0) || step === o.steps) await checkpoint();
    }

    const evalAfter = evalSet ? await runEval(state.params) : undefined;
    if (evalAfter) hooks.onEval?.(state.step, evalAfter);
    return {
      identity,
      params: state.params,
      method: method.spec,
      promptEmbeddings: await computeStoredTensor(method, state.params, {
        executionProvider: o.executionProvider,
        threads: o.threads,
        spinning: o.spinning,
      }),
      dim: method.storedWidth,
      steps: state.step,
      losses: state.losses,
      stepMs,
      resumedFromStep,
      evalBefore: state.evalBefore,
      evalAfter,
    };
  } finally {
    await runner.release();
  }
}
