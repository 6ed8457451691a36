/**
 * The quick-start job `ptune serve --quickstart` (`npm start`) runs against its own server, through
 * the public gRPC API like any client: register a base model, train the two example tasks with a
 * small sweep, point their `production` aliases at the best trials, and say what to try next. Tasks
 * whose alias already exists are not trained again, so a second start only prints what is there; a
 * start interrupted mid-training resubmits the same job (idempotency key) and resumes it.
 */
import { performance } from 'node:perf_hooks';
import { connect, uploadDataset, type ClientTransportOptions, type RegistryClient, type TrainingClient } from '../client/index.js';
import { InitMethod } from '../gen/ptune/v1/common_pb.js';
import type { PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import { JobState, type Job } from '../gen/ptune/v1/training_pb.js';
import { GENERATED_PRESET, registerQuickstartModel, type QuickstartModel } from './base-model.js';
import { followJob, type ProgressOutput } from './follow-job.js';
import { QUICKSTART_NAMESPACE, quickstartPlan, type QuickstartPlan, type QuickstartTask } from './plan.js';
import { aliasedVersion } from './production-prompts.js';
import { formatNextSteps, formatVersions } from './report.js';

export interface QuickstartOptions {
  /** the server to use, "host:port" */
  readonly server: string;
  /** token / TLS settings for that connection */
  readonly connection?: ClientTransportOptions;
  /** the server's data directory (the generated model is written under it) */
  readonly dataDir: string;
  /** a GGUF model to train on instead of a generated one (PTUNE_MODEL) */
  readonly modelFile?: string;
  /** replaces the plan the model kind implies (tests train fewer steps) */
  readonly plan?: (kind: QuickstartModel['kind']) => QuickstartPlan;
  readonly out?: ProgressOutput;
  /** stops following the job (the server's shutdown); training itself goes on in the workers */
  readonly signal?: AbortSignal;
}

export interface QuickstartResult {
  /** the job trained now; undefined when every task already had its alias */
  readonly job?: Job;
  /** the aliased version of every task */
  readonly versions: readonly PromptVersion[];
  readonly model: QuickstartModel;
}

/** Runs the quick-start; resolves undefined when the signal aborted it. */
export async function runQuickstart(options: QuickstartOptions): Promise<QuickstartResult | undefined> {
  const out = options.out ?? process.stdout;
  const client = connect(options.server, options.connection);
  const { registry, training } = client;
  try {
    const model = await registerQuickstartModel(registry, options.dataDir, options.modelFile);
    const plan = (options.plan ?? ((kind) => quickstartPlan(kind)))(model.kind);
    const existing = await aliasedVersions(registry, plan);
    const missing = plan.tasks.filter((t) => existing.get(t.name) === undefined);
    let job: Job | undefined;
    if (missing.length === 0) {
      out.write(
        `quick start: ${plan.tasks.map((t) => `${QUICKSTART_NAMESPACE}/${t.name}`).join(' and ')} already have "${plan.alias}" prompts in ${options.dataDir}; not training again (start on an empty data directory to retrain)\n`,
      );
    } else {
      const started = performance.now();
      out.write(describeStart(model, plan, missing));
      const submitted = await submit(registry, training, model, plan, missing);
      job = submitted.job;
      // the job's state says nothing here (in-process workers lease it at once); whether it is new does
      out.write(
        `  job ${job.id}: ${job.trials.length} trials (${submitted.created ? 'submitted' : 'resuming the job of an earlier start'}; follow it with: npx ptune jobs watch ${job.id})\n`,
      );
      await followJob(training, job, out, options.signal);
      if (options.signal?.aborted) return undefined;
      job = (await training.getJob({ jobId: job.id })).job!;
      if (job.state !== JobState.SUCCEEDED) {
        throw new Error(
          `quick-start job ${job.id} ${JobState[job.state].toLowerCase()}: ${job.error || 'see `npx ptune jobs watch ' + job.id + '`'}; delete ${options.dataDir} to start over`,
        );
      }
      out.write(`quick start: trained in ${formatSeconds(performance.now() - started)}\n`);
      for (const task of missing) existing.set(task.name, await aliasedVersion(registry, task.name, plan.alias));
    }
    const versions = plan.tasks.map((t) => existing.get(t.name)).filter((v): v is PromptVersion => v !== undefined);
    if (versions.length !== plan.tasks.length)
      throw new Error(
        `quick-start job ${job?.id} succeeded but some "${plan.alias}" aliases are missing; see \`npx ptune jobs watch ${job?.id}\``,
      );
    out.write(formatVersions(versions, plan.alias));
    const modelFiles = new Map([[model.model.name, model.file]]);
    out.write(formatNextSteps({ plan, versions, server: options.server, modelFiles, generated: model.kind === 'generated' }));
    return { job, versions, model };
  } catch (err) {
    if (options.signal?.aborted) return undefined;
    throw err;
  } finally {
    client.close();
  }
}

async function aliasedVersions(registry: RegistryClient, plan: QuickstartPlan): Promise<Map<string, PromptVersion | undefined>> {
  const found = new Map<string, PromptVersion | undefined>();
  for (const task of plan.tasks) found.set(task.name, await aliasedVersion(registry, task.name, plan.alias));
  return found;
}

function describeStart(model: QuickstartModel, plan: QuickstartPlan, tasks: readonly QuickstartTask[]): string {
  const a = model.model.architecture;
  const weights = model.kind === 'generated' ? `generated, random weights (preset ${GENERATED_PRESET})` : 'from PTUNE_MODEL';
  return [
    `quick start: training "${plan.alias}" prompts for ${tasks.map((t) => `${QUICKSTART_NAMESPACE}/${t.name}`).join(' and ')} (a few minutes on 2 cores)`,
    `  base model ${model.model.name}: ${a?.family} ${a?.numLayers} layers × ${a?.hiddenSize}, vocab ${a?.vocabSize}, ${weights}; ${model.file}`,
    `  data       ${tasks.map((t) => `examples/${t.name}/{train,eval}.jsonl`).join(', ')}`,
    `  sweep      lr ${plan.learningRates.join(', ')} × ${plan.virtualTokens} virtual tokens, ${plan.steps} steps of ${plan.batchSize}: ${tasks.length * plan.learningRates.length} trials, best eval_loss per task wins`,
    '',
  ].join('\n');
}

async function submit(
  registry: RegistryClient,
  training: TrainingClient,
  model: QuickstartModel,
  plan: QuickstartPlan,
  tasks: readonly QuickstartTask[],
): Promise<{ job: Job; created: boolean }> {
  const data = [];
  for (const task of tasks) {
    const ref = { namespace: QUICKSTART_NAMESPACE, name: task.name };
    await registry.createTask({ task: ref, description: `quick-start example (examples/${task.name})`, createdBy: 'quickstart' });
    data.push({
      task: ref,
      train: { source: { case: 'sha256' as const, value: await uploadDataset(training, task.train) } },
      eval: { source: { case: 'sha256' as const, value: await uploadDataset(training, task.eval) } },
    });
  }
  const { job, created } = await training.trainPrompt({
    baseModel: model.model.name,
    tasks: data,
    method: { numVirtualTokens: plan.virtualTokens, init: { method: InitMethod.SAMPLE_VOCAB } },
    optimizer: {
      steps: plan.steps,
      learningRate: plan.learningRates[0],
      batchSize: plan.batchSize,
      seed: 0n,
      maxGradNorm: 1,
      checkpointEverySteps: plan.checkpointEverySteps,
    },
    sweep: { learningRates: [...plan.learningRates] },
    selection: { name: 'eval_loss', higherIsBetter: false },
    alias: plan.alias,
    // the same start resubmitted (after an interrupted run) finds the job it started
    idempotencyKey: `quickstart:${model.model.fingerprintSha256.slice(0, 16)}:${tasks.map((t) => t.name).join(',')}:${plan.steps}`,
    createdBy: 'quickstart',
  });
  return { job: job!, created };
}

function formatSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
