/**
 * Checks a TrainPrompt request's settings (everything that needs no database) and fills in the
 * documented defaults. Refuses with INVALID_ARGUMENT naming the field and the allowed range; names
 * follow the registry's rules (services/domain/names.ts), so whatever registration would refuse is
 * refused here, before any trial runs.
 */
import { clone, create } from '@bufbuild/protobuf';
import { InitMethod, PromptInitSchema, TuningMethod, type PromptInit } from '../../gen/ptune/v1/common_pb.js';
import {
  MethodSettingsSchema,
  PromptEncoderType,
  OptimizerSettingsSchema,
  SelectionMetricSchema,
  TrainPromptRequestSchema,
  type MethodSettings,
  type OptimizerSettings,
  type TrainPromptRequest,
} from '../../gen/ptune/v1/training_pb.js';
import {
  checkAliasName,
  checkTaskRef,
  formatTaskName,
  invalidArgument,
  methodFromProto,
  methodProtoNames,
  sweepSize,
} from '../../domain/index.js';
import type { CoordinatorLimits } from '../context.js';
import { JOB_DEFAULTS, RANGES, SELECTION_METRICS } from './job-limits.js';

function inRange(field: string, value: number, [min, max]: readonly [number, number], why = ''): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(field, `${value} is out of range: use an integer in ${min}..${max}${why}`);
  }
}

/** Virtual tokens go up to the server's limit, which the operator sets. */
function checkVirtualTokens(field: string, value: number, max: number): void {
  inRange(field, value, [1, max], " (this server's limit, PTUNE_MAX_VIRTUAL_TOKENS)");
}

function checkLearningRate(field: string, lr: number): void {
  if (!Number.isFinite(lr) || lr <= 0 || lr > 10) throw invalidArgument(field, `${lr} is out of range: use 0 < lr <= 10`);
}

function checkMethod(field: string, method: TuningMethod): TuningMethod {
  const m = method === TuningMethod.UNSPECIFIED ? TuningMethod.PROMPT_TUNING : method;
  if (methodFromProto(m) === undefined) {
    throw invalidArgument(field, `${TuningMethod[m] ?? m} is not supported (use ${methodProtoNames.join(', ')})`);
  }
  return m;
}

/**
 * A projected prefix is a trained MLP's output, not token embeddings: it starts RANDOM (the
 * default when unset), and vocabulary or text inits are refused.
 */
function checkInit(field: string, init: PromptInit | undefined, projectedPrefix: boolean): PromptInit {
  const method = init?.method ?? InitMethod.UNSPECIFIED;
  if (projectedPrefix && (method === InitMethod.SAMPLE_VOCAB || method === InitMethod.TEXT)) {
    throw invalidArgument(field, `${InitMethod[method]} init does not apply to PREFIX_TUNING with prefix_projection: use RANDOM init`);
  }
  switch (method) {
    case InitMethod.UNSPECIFIED:
      return create(PromptInitSchema, { method: projectedPrefix ? InitMethod.RANDOM : InitMethod.SAMPLE_VOCAB });
    case InitMethod.SAMPLE_VOCAB:
      return create(PromptInitSchema, { method: InitMethod.SAMPLE_VOCAB });
    case InitMethod.RANDOM:
      return create(PromptInitSchema, { method });
    case InitMethod.TEXT:
      if (!init?.text.trim()) throw invalidArgument(`${field}.text`, 'TEXT init needs a non-empty text');
      return create(PromptInitSchema, { method, text: init.text });
    default:
      throw invalidArgument(
        field,
        `init ${InitMethod[method] ?? method} is not supported by this server yet (use RANDOM, SAMPLE_VOCAB or TEXT)`,
      );
  }
}

/** `sweptMethods` (already checked) replaces the base method in every trial when not empty. */
function normalizeMethod(m: MethodSettings | undefined, sweptMethods: readonly TuningMethod[], maxVirtualTokens: number): MethodSettings {
  const vt = m?.numVirtualTokens || JOB_DEFAULTS.virtualTokens;
  checkVirtualTokens('method.num_virtual_tokens', vt, maxVirtualTokens);
  const method = checkMethod('method.method', m?.method ?? TuningMethod.UNSPECIFIED);
  const used = sweptMethods.length > 0 ? sweptMethods : [method];
  const encoderType = m?.encoderType ?? PromptEncoderType.UNSPECIFIED;
  if (!(encoderType in PromptEncoderType)) throw invalidArgument('method.encoder_type', `${encoderType} is unknown (use MLP or LSTM)`);
  const prefixProjection = used.includes(TuningMethod.PREFIX_TUNING) && (m?.prefixProjection ?? false);
  return create(MethodSettingsSchema, {
    method,
    numVirtualTokens: vt,
    init: checkInit('method.init', m?.init, prefixProjection),
    encoderType: used.includes(TuningMethod.P_TUNING) ? encoderType || PromptEncoderType.MLP : PromptEncoderType.UNSPECIFIED,
    encoderHiddenSize: m?.encoderHiddenSize ?? 0,
    prefixProjection,
  });
}

function normalizeOptimizer(o: OptimizerSettings | undefined): OptimizerSettings {
  const lr = o?.learningRate || JOB_DEFAULTS.learningRate;
  checkLearningRate('optimizer.learning_rate', lr);
  const steps = o?.steps || JOB_DEFAULTS.steps;
  inRange('optimizer.steps', steps, RANGES.steps);
  const batchSize = o?.batchSize || JOB_DEFAULTS.batchSize;
  inRange('optimizer.batch_size', batchSize, RANGES.batchSize);
  const warmup = o?.warmupSteps ?? 0;
  if (warmup >= steps && warmup > 0) throw invalidArgument('optimizer.warmup_steps', `${warmup} must be less than steps (${steps})`);
  const weightDecay = o?.weightDecay ?? 0;
  if (!Number.isFinite(weightDecay) || weightDecay < 0 || weightDecay > 1) {
    throw invalidArgument('optimizer.weight_decay', `${weightDecay} is out of range: use 0..1`);
  }
  const clip = o?.maxGradNorm ?? 0;
  if (!Number.isFinite(clip) || clip < 0) throw invalidArgument('optimizer.max_grad_norm', `${clip} must be >= 0 (0 disables clipping)`);
  const seed = o?.seed ?? 0n;
  if (seed > BigInt(Number.MAX_SAFE_INTEGER))
    throw invalidArgument('optimizer.seed', `${seed} is too large (max ${Number.MAX_SAFE_INTEGER})`);
  return create(OptimizerSettingsSchema, {
    learningRate: lr,
    steps,
    batchSize,
    warmupSteps: warmup,
    weightDecay,
    maxGradNorm: clip,
    seed,
    evalEverySteps: o?.evalEverySteps ?? 0,
    checkpointEverySteps: o?.checkpointEverySteps || JOB_DEFAULTS.checkpointEverySteps,
  });
}

/** The request with defaults filled in, or an INVALID_ARGUMENT RpcError. */
export function normalizeRequest(
  request: TrainPromptRequest,
  limits: Pick<CoordinatorLimits, 'maxTrialsPerJob' | 'maxVirtualTokens'>,
): TrainPromptRequest {
  if (request.baseModel.trim() === '') throw invalidArgument('base_model', 'is required');
  if (request.tasks.length === 0) throw invalidArgument('tasks', 'give at least one task with train and eval data');
  const seen = new Set<string>();
  request.tasks.forEach((t, i) => {
    const field = `tasks[${i}]`;
    const key = formatTaskName(checkTaskRef(t.task, `${field}.task`));
    if (seen.has(key)) throw invalidArgument(`${field}.task`, `${key} is listed twice`);
    seen.add(key);
    for (const part of ['train', 'eval'] as const) {
      if (!t[part] || t[part].source.case === undefined || t[part].source.value === '') {
        throw invalidArgument(`${field}.${part}`, 'give a dataset sha256 (from UploadDataset) or a blob key');
      }
    }
  });
  const sweep = request.sweep;
  const sweptMethods = sweep?.methods.map((m, i) => checkMethod(`sweep.methods[${i}]`, m)) ?? [];
  const method = normalizeMethod(request.method, sweptMethods, limits.maxVirtualTokens);
  const optimizer = normalizeOptimizer(request.optimizer);
  sweep?.numVirtualTokens.forEach((vt, i) => checkVirtualTokens(`sweep.num_virtual_tokens[${i}]`, vt, limits.maxVirtualTokens));
  sweep?.learningRates.forEach((lr, i) => checkLearningRate(`sweep.learning_rates[${i}]`, lr));
  const inits = sweep?.inits.map((init, i) => checkInit(`sweep.inits[${i}]`, init, method.prefixProjection)) ?? [];
  const trials = request.tasks.length * sweepSize(sweep);
  if (trials > limits.maxTrialsPerJob) {
    throw invalidArgument(
      'sweep',
      `${request.tasks.length} task(s) × ${sweepSize(sweep)} sweep point(s) = ${trials} trials is more than this server's limit of ${limits.maxTrialsPerJob} per job`,
    );
  }
  const selectionName = request.selection?.name || JOB_DEFAULTS.selection;
  if (!(selectionName in SELECTION_METRICS)) {
    throw invalidArgument('selection.name', `unknown metric "${selectionName}" (use one of ${Object.keys(SELECTION_METRICS).join(', ')})`);
  }
  const higherIsBetter = request.selection?.name ? request.selection.higherIsBetter : SELECTION_METRICS[selectionName];
  if (request.alias !== '') checkAliasName(request.alias, 'alias');
  const maxAttempts = request.maxAttempts || JOB_DEFAULTS.maxAttempts;
  inRange('max_attempts', maxAttempts, RANGES.maxAttempts);

  const normalized = clone(TrainPromptRequestSchema, request);
  normalized.method = method;
  normalized.optimizer = optimizer;
  if (normalized.sweep) {
    normalized.sweep.inits = inits;
    normalized.sweep.methods = sweptMethods;
  }
  normalized.selection = create(SelectionMetricSchema, { name: selectionName, higherIsBetter });
  normalized.maxAttempts = maxAttempts;
  return normalized;
}
