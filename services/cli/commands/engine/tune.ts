/** `ptune tune`: train a soft prompt (prompt tuning, P-tuning or prefix tuning) on a local model (GGUF file or Hugging Face folder) and write it as safetensors. */
import { SingleBar } from 'cli-progress';
import { Option, type Command } from 'commander';
import {
  defaultInitFor,
  loadExampleSet,
  methodFromFlags,
  largestSeqLen,
  openModel,
  readModelWeights,
  parsePromptInit,
  readCheckpointFile,
  scheduleNames,
  train,
  writePromptOutputs,
  type EvalMetrics,
  type ScheduleName,
  type TrainResult,
} from '../../../engine/index.js';
import {
  integerAtLeast,
  methodOptions,
  nonNegativeNumber,
  positiveNumber,
  requireFile,
  requireModel,
  requireWritableTarget,
  runtimeOptions,
  runtimeSettings,
  withOptions,
  type MethodFlags,
  type RuntimeFlags,
} from './options.js';
import { checkRunMemory } from './memory-check.js';
import { sparkline } from './sparkline.js';

interface TuneFlags extends MethodFlags, RuntimeFlags {
  model: string;
  train: string;
  eval?: string;
  out: string;
  init?: string;
  steps: number;
  lr: number;
  batchSize: number;
  seed: number;
  schedule: ScheduleName;
  warmupSteps: number;
  weightDecay: number;
  gradClip: number;
  evalEvery?: number;
  checkpointDir?: string;
  checkpointEvery?: number;
  resume?: boolean;
  peftDir?: string;
  json?: boolean;
}

export function registerTune(program: Command): void {
  const command = withOptions(
    program
      .command('tune')
      .description('train a soft prompt (prompt tuning, P-tuning or prefix tuning) for a frozen model')
      .requiredOption('--model <path>', 'GGUF model file or Hugging Face checkpoint folder')
      .requiredOption('--train <file>', 'training examples (JSONL: {"input", "output"} per line)')
      .option('--eval <file>', 'held-out examples, evaluated before and after training')
      .requiredOption('--out <file>', 'prompt file to write (safetensors, prompt_embeddings [P, dim])'),
    methodOptions(),
  )
    .option(
      '--init <init>',
      'random | sample-vocab | text:<string> | from:<prompt file> (default: sample-vocab; random for --prefix-projection)',
    )
    .option('--steps <n>', 'optimizer steps', integerAtLeast(1), 300)
    .option('--lr <x>', 'peak learning rate (AdamW)', positiveNumber, 0.03)
    .option('--batch-size <n>', 'examples per step', integerAtLeast(1), 16)
    .option('--seed <n>', 'seed for init and data order', integerAtLeast(0), 0)
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices(scheduleNames).default('constant'))
    .option('--warmup-steps <n>', 'linear warmup steps', integerAtLeast(0), 0)
    .option('--weight-decay <x>', 'decoupled weight decay', nonNegativeNumber, 0)
    .option('--grad-clip <x>', 'maximum global gradient norm (0: off)', nonNegativeNumber, 1)
    .option('--eval-every <n>', 'also evaluate every n steps', integerAtLeast(1))
    .option('--checkpoint-dir <dir>', 'write checkpoints here')
    .option('--checkpoint-every <n>', 'steps between checkpoints (default: a tenth of the steps)', integerAtLeast(1))
    .option('--resume', 'continue from the checkpoint in --checkpoint-dir, if there is one')
    .option('--peft-dir <dir>', 'also write a PEFT adapter folder')
    .option('--json', 'print one JSON object with the results as the last line');
  for (const o of runtimeOptions()) command.addOption(o);
  command.action((flags: TuneFlags) => tune(flags));
}

async function tune(f: TuneFlags): Promise<void> {
  await requireModel(f.model);
  await requireFile(f.train, '--train');
  if (f.eval) await requireFile(f.eval, '--eval');
  await requireWritableTarget(f.out, '--out');
  if (f.resume && !f.checkpointDir) throw new Error('--resume needs --checkpoint-dir');
  if (f.warmupSteps > f.steps) throw new Error(`--warmup-steps ${f.warmupSteps} exceeds --steps ${f.steps}`);
  const method = methodFromFlags(f);
  const init = parsePromptInit(f.init ?? defaultInitFor(method));
  if (init.kind === 'from') await requireFile(init.path, '--init from:');

  const opened = await openModel(f.model);
  const trainSet = await loadExampleSet(f.train, opened, f.virtualTokens);
  const evalSet = f.eval ? await loadExampleSet(f.eval, opened, f.virtualTokens) : undefined;
  const seqLen = largestSeqLen([trainSet, evalSet], f.virtualTokens, opened.spec.contextLength);
  await checkRunMemory(opened, f, { mode: 'train', batch: f.batchSize, seqLen });
  const model = await readModelWeights(opened, f.weightsDtype);
  const resume = f.resume && f.checkpointDir ? await readCheckpointFile(f.checkpointDir) : undefined;
  if (f.resume && !resume && !f.json) process.stderr.write(`no checkpoint in ${f.checkpointDir}: starting from step 0\n`);

  const bar = f.json
    ? undefined
    : new SingleBar({
        format: 'tune {bar} {value}/{total} | loss {loss} | eval {evalLoss} | lr {lr} | {ms} ms/step | eta {eta_formatted}',
        hideCursor: true,
      });
  bar?.start(f.steps, resume?.step ?? 0, { loss: '-', evalLoss: '-', lr: '-', ms: '-' });
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let result: TrainResult;
  try {
    result = await train(
      {
        model,
        train: trainSet,
        eval: evalSet,
        virtualTokens: f.virtualTokens,
        method,
        init,
        steps: f.steps,
        lr: f.lr,
        schedule: f.schedule,
        warmupSteps: f.warmupSteps,
        weightDecay: f.weightDecay,
        gradClip: f.gradClip,
        batchSize: f.batchSize,
        seed: f.seed,
        evalEvery: f.evalEvery,
        checkpointDir: f.checkpointDir,
        checkpointEvery: f.checkpointDir ? (f.checkpointEvery ?? Math.max(1, Math.round(f.steps / 10))) : undefined,
        resume,
        ...runtimeSettings(f),
      },
      {
        signal: controller.signal,
        onProgress: (p) => bar?.update(p.step, { loss: p.loss.toFixed(4), lr: p.lr.toPrecision(3), ms: p.stepMs.toFixed(1) }),
        onEval: (_step, m) => bar?.update({ evalLoss: m.loss.toFixed(4) }),
      },
    );
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar?.stop();
  }
  const outputs = await writePromptOutputs(result, model, { out: f.out, peftDir: f.peftDir });
  process.stdout.write(
    f.json ? JSON.stringify(summaryJson(result, outputs.promptPath, outputs.peftDir)) + '\n' : summaryText(result, f.out),
  );
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function summaryJson(r: TrainResult, out: string, peftDir?: string): Record<string, unknown> {
  const m = (e: EvalMetrics | undefined, k: keyof EvalMetrics): number | null => e?.[k] ?? null;
  return {
    eval_loss_before: m(r.evalBefore, 'loss'),
    eval_loss_after: m(r.evalAfter, 'loss'),
    first_token_accuracy_before: m(r.evalBefore, 'firstTokenAccuracy'),
    first_token_accuracy_after: m(r.evalAfter, 'firstTokenAccuracy'),
    exact_match_before: m(r.evalBefore, 'exactMatch'),
    exact_match_after: m(r.evalAfter, 'exactMatch'),
    eval_examples: m(r.evalAfter, 'examples'),
    train_loss_first: r.losses[0] ?? null,
    train_loss_last: r.losses.at(-1) ?? null,
    step_ms_median: median(r.stepMs),
    steps: r.steps,
    resumed_from_step: r.resumedFromStep ?? null,
    virtual_tokens: r.identity.virtualTokens,
    method: r.identity.method,
    method_settings: r.identity.methodSettings ?? null,
    trainable_parameters: Object.values(r.params).reduce((n, p) => n + p.length, 0),
    stored_shape: [r.identity.virtualTokens, r.dim],
    init: r.identity.init,
    seed: r.identity.seed,
    model_fingerprint: r.identity.modelFingerprint,
    out,
    peft_dir: peftDir ?? null,
  };
}

function summaryText(r: TrainResult, out: string): string {
  const lines = [
    `trained ${r.steps} steps of ${r.identity.method} (median ${median(r.stepMs)?.toFixed(1) ?? '-'} ms/step); [${r.identity.virtualTokens}, ${r.dim}] written to ${out}`,
    `train loss ${r.losses[0]?.toFixed(4)} ${sparkline(r.losses)} ${r.losses.at(-1)?.toFixed(4)}`,
  ];
  if (r.evalBefore && r.evalAfter) {
    const pair = (a: number, b: number, digits: number): string => `${a.toFixed(digits)} → ${b.toFixed(digits)}`;
    lines.push(
      `eval loss ${pair(r.evalBefore.loss, r.evalAfter.loss, 4)} · first-token accuracy ` +
        `${pair(r.evalBefore.firstTokenAccuracy, r.evalAfter.firstTokenAccuracy, 3)} · exact match ` +
        `${pair(r.evalBefore.exactMatch, r.evalAfter.exactMatch, 3)} (${r.evalAfter.examples} examples)`,
    );
  }
  return lines.join('\n') + '\n';
}
