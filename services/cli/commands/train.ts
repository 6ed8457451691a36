/** `ptune train`: upload datasets, submit a (multi-task, optionally swept) job, optionally follow it. */
import type { MessageInitShape } from '@bufbuild/protobuf';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { encoderToProto, initFromEngine, methodToProto } from '../../domain/index.js';
// the engine's flag and init parsers only: its index loads onnxruntime, which a client command never needs
import { defaultInitFor, methodFromFlags } from '../../engine/methods/method-flags.js';
import type { MethodOptions } from '../../engine/index.js';
import { parsePromptInit } from '../../engine/prompt/prompt-init.js';
import type { PromptInitSchema } from '../../gen/ptune/v1/common_pb.js';
import { JobSchema, JobState, type MethodSettingsSchema, type SweepSchema, type TaskDataSchema } from '../../gen/ptune/v1/training_pb.js';
import { jobEvents, uploadDataset, type TrainingClient } from '../../client/index.js';
import { integerAtLeast, methodOptions, positiveNumber, withOptions, type MethodFlags } from './engine/options.js';
import { describeEvent, printJobResults, shortId, trialStateName } from './jobs.js';
import { checkTrainInputs, ensureTask } from './train-preflight.js';
import { clientCommand, printJson, taskRef, withClient, type ClientFlags } from './registry/client.js';

interface TrainFlags extends ClientFlags, MethodFlags {
  model: string;
  task: string[];
  train: string[];
  eval: string[];
  init?: string;
  steps: number;
  lr: number;
  batchSize: number;
  seed: number;
  checkpointEvery?: number;
  maxGradNorm: number;
  sweep?: string;
  alias?: string;
  selection: string;
  maxAttempts?: number;
  idempotencyKey?: string;
  createdBy: string;
  wait?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `--init` in the engine's spelling → the wire form; a prompt file (`from:`) has no wire form yet. */
export function parseInit(spec: string): MessageInitShape<typeof PromptInitSchema> {
  const init = parsePromptInit(spec);
  if (init.kind === 'from')
    throw new Error(`--init ${spec}: use random, sample-vocab or text:<words> (a prompt file cannot be sent to the server)`);
  return { method: initFromEngine(init.kind), text: init.kind === 'text' ? init.text : '' };
}

/** The engine's method options → the proto settings (0 hidden size = the server's default). */
export function methodSettingsOf(
  m: MethodOptions,
  numVirtualTokens: number,
  init: MessageInitShape<typeof PromptInitSchema>,
): MessageInitShape<typeof MethodSettingsSchema> {
  const method = methodToProto(m.method);
  switch (m.method) {
    case 'prompt_tuning':
      return { method, numVirtualTokens, init };
    case 'p_tuning':
      return { method, numVirtualTokens, init, encoderType: encoderToProto(m.encoder), encoderHiddenSize: m.encoderHiddenSize ?? 0 };
    case 'prefix_tuning':
      return { method, numVirtualTokens, init, prefixProjection: m.prefixProjection ?? false, encoderHiddenSize: m.encoderHiddenSize ?? 0 };
  }
}

/** "virtual_tokens=4,8;lr=0.01,0.03;init=random,sample-vocab" → Sweep. */
export function parseSweep(text: string): MessageInitShape<typeof SweepSchema> {
  const sweep = {
    numVirtualTokens: [] as number[],
    learningRates: [] as number[],
    inits: [] as MessageInitShape<typeof PromptInitSchema>[],
  };
  for (const part of text
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const [key, list] = part.split('=', 2);
    const values = (list ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (values.length === 0) throw new Error(`--sweep "${part}": give key=value1,value2`);
    const numbers = (): number[] =>
      values.map((v) => {
        const n = Number(v);
        if (!Number.isFinite(n)) throw new Error(`--sweep ${key}: "${v}" is not a number`);
        return n;
      });
    if (key === 'virtual_tokens') sweep.numVirtualTokens = numbers();
    else if (key === 'lr') sweep.learningRates = numbers();
    else if (key === 'init') sweep.inits = values.map(parseInit);
    else throw new Error(`--sweep: unknown key "${key}" (use virtual_tokens, lr, init)`);
  }
  return sweep;
}

export function registerTrainCommands(program: Command): void {
  withOptions(
    clientCommand(program, 'train', 'train soft prompts on the server: one trial per task × sweep point, the best of each task registered')
      .requiredOption('--model <name>', 'registered base model')
      .requiredOption('--task <task>', 'task (namespace/name); repeat with --train/--eval for a multi-task job', collect, [])
      .requiredOption('--train <file.jsonl>', 'training data of the task at the same position', collect, [])
      .requiredOption('--eval <file.jsonl>', 'evaluation data of the task at the same position', collect, []),
    methodOptions(),
  )
    .option('--init <init>', 'random | sample-vocab | text:<words> (default: sample-vocab; random for --prefix-projection)')
    .option('--steps <n>', 'optimisation steps', integerAtLeast(1), 300)
    .option('--lr <lr>', 'learning rate', positiveNumber, 0.03)
    .option('--batch-size <n>', 'examples per step', integerAtLeast(1), 16)
    .option('--seed <n>', 'seed of init and data order', integerAtLeast(0), 0)
    .option('--checkpoint-every <n>', 'checkpoint every N steps (server default 50)', integerAtLeast(1))
    .option('--max-grad-norm <x>', 'clip the gradient norm (0 disables)', Number, 1)
    .option('--sweep <grid>', 'grid, e.g. "virtual_tokens=4,8;lr=0.01,0.03"')
    .option('--alias <alias>', 'point this alias of each task at its new version')
    .option('--selection <metric>', 'eval metric picking the best trial (eval_loss, eval_accuracy, eval_exact_match)', 'eval_loss')
    .option('--max-attempts <n>', 'attempts per trial', integerAtLeast(1))
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the same job')
    .option('--created-by <who>', 'identity recorded on the job', process.env.USER ?? '')
    .option(
      '--wait',
      'follow the job with a progress bar per trial, then print the results; exit status 1 when the job ends FAILED or CANCELLED',
    )
    .action(async (flags: TrainFlags) => {
      if (flags.task.length === 0)
        throw new Error('give at least one --task with its --train and --eval files (examples: ptune train --help)');
      if (flags.task.length !== flags.train.length || flags.task.length !== flags.eval.length) {
        throw new Error(
          `give one --train and one --eval per --task (got ${flags.task.length} tasks, ${flags.train.length} train, ${flags.eval.length} eval)`,
        );
      }
      const method = methodFromFlags(flags);
      const init = parseInit(flags.init ?? defaultInitFor(method));
      const higherIsBetter = flags.selection !== 'eval_loss';
      await withClient(flags, async ({ registry, training: client }) => {
        // nothing is created before the files and the model are known to be good
        const files = [...flags.train.map((path) => ({ flag: '--train', path })), ...flags.eval.map((path) => ({ flag: '--eval', path }))];
        await checkTrainInputs(registry, flags.model, files);
        const tasks: MessageInitShape<typeof TaskDataSchema>[] = [];
        for (const [i, name] of flags.task.entries()) {
          const task = taskRef(name);
          await ensureTask(registry, task, flags.createdBy); // the job needs the task to exist
          const train = await uploadDataset(client, flags.train[i]);
          const evalSha = await uploadDataset(client, flags.eval[i]);
          tasks.push({ task, train: { source: { case: 'sha256', value: train } }, eval: { source: { case: 'sha256', value: evalSha } } });
        }
        const { job, created } = await client.trainPrompt({
          baseModel: flags.model,
          tasks,
          method: methodSettingsOf(method, flags.virtualTokens, init),
          optimizer: {
            steps: flags.steps,
            learningRate: flags.lr,
            batchSize: flags.batchSize,
            seed: BigInt(flags.seed),
            maxGradNorm: flags.maxGradNorm,
            checkpointEverySteps: flags.checkpointEvery ?? 0,
          },
          sweep: flags.sweep ? parseSweep(flags.sweep) : undefined,
          selection: { name: flags.selection, higherIsBetter },
          alias: flags.alias ?? '',
          idempotencyKey: flags.idempotencyKey ?? '',
          createdBy: flags.createdBy,
          maxAttempts: flags.maxAttempts ?? 0,
        });
        if (!flags.wait) {
          if (flags.json) return printJson(JobSchema, job!);
          process.stdout.write(`${created ? 'submitted' : 'already submitted:'} job ${job!.id} with ${job!.trials.length} trial(s)\n`);
          return;
        }
        if (!flags.json) process.stdout.write(`job ${job!.id}: ${job!.trials.length} trial(s)\n`);
        await follow(client, job!.id, !flags.json);
        const final = (await client.getJob({ jobId: job!.id })).job!;
        if (flags.json) printJson(JobSchema, final);
        else printJobResults(final);
        // for scripts: a job that ends FAILED or CANCELLED is a failed command
        if (final.state !== JobState.SUCCEEDED) process.exitCode = 1;
      });
    });
}

/**
 * Follows the job's events: on a terminal, one progress bar per trial (steps, loss, state) with
 * notable events above; otherwise (piped output) one line per notable event.
 */
async function follow(client: TrainingClient, jobId: string, show: boolean): Promise<void> {
  const job = (await client.getJob({ jobId })).job!;
  const bars =
    show && process.stdout.isTTY
      ? new cliProgress.MultiBar(
          { format: '{trial} {task} [{bar}] {value}/{total} loss {loss} {state}', hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const byTrial = new Map(
    job.trials.map((t) => [
      t.id,
      bars?.create(t.totalSteps, t.step, { trial: shortId(t.id), task: `${t.task?.name}`, loss: '-', state: trialStateName(t.state) }),
    ]),
  );
  try {
    for await (const event of jobEvents(client, jobId)) {
      const bar = byTrial.get(event.trialId);
      if (event.kind.case === 'step') bar?.update(event.kind.value.step, { loss: event.kind.value.loss.toFixed(4) });
      else if (event.kind.case === 'trialState') bar?.update({ state: trialStateName(event.kind.value.state) });
      const notable = bars ? event.kind.case !== 'step' && event.kind.case !== 'trialState' : event.kind.case !== 'step';
      if (show && notable) {
        if (bars) bars.log(`${describeEvent(event)}\n`);
        else process.stdout.write(`${describeEvent(event)}\n`);
      }
    }
  } finally {
    bars?.stop();
  }
}
