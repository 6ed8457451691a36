/**
 * `ptune infer`: an inference server for one base model, without a database: the InferenceService
 * (gRPC) and the OpenAI-compatible endpoint (HTTP), prompts pulled from a registry through
 * GetPrompt with each caller's token (so the registry's access rules decide every call).
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { clientOptionsFromEnv, connect, type PtuneClient } from '../../client/index.js';
import { loadedPrecision } from '../../engine/index.js';
import { startGrpcServer } from '../../grpc/index.js';
import { createInferenceService, fetchBaseModel, inferenceHandlers, openAiRoutes, openInferenceRuntime } from '../../inference/index.js';
import {
  createLogger,
  createMetrics,
  logLevelFromEnv,
  onShutdownSignals,
  rpcMetricsObserver,
  startMetricsServer,
} from '../../observability/index.js';
import { startHttpHost } from '../../server/index.js';
import { defaultCacheDir } from '../../worker/index.js';
import { executionProviderOption, integerAtLeast, weightsDtypeOption } from './engine/options.js';
import { addInferenceOptions, engineOptions, generationMetrics, HTTP_PORT_OPTION, type InferenceFlags } from './inference-options.js';

interface InferFlags extends InferenceFlags {
  model: string;
  registry: string;
  modelPath?: string;
  cacheDir?: string;
  port: number;
  httpPort: number;
  host: string;
  metricsPort?: number;
}

export const DEFAULT_INFER_PORT = 50052;

export function registerInferCommands(program: Command): void {
  const command = program
    .command('infer')
    .description('serve one base model with every registered prompt: gRPC InferenceService and the OpenAI-compatible HTTP endpoint')
    .requiredOption('--model <name>', 'registered base model to serve')
    .addOption(new Option('--registry <host:port>', 'the ptune server holding the prompts').env('PTUNE_REGISTRY').makeOptionMandatory())
    .option(
      '--model-path <path>',
      'a local copy of the model (GGUF file or Hugging Face folder; its fingerprint must be the registered one); default: fetched from the registry with the worker token in PTUNE_WORKER_TOKEN',
    )
    .option('--cache-dir <dir>', 'where fetched model files are kept (default: PTUNE_CACHE_DIR or ~/.cache/ptune)')
    .addOption(
      new Option('--port <p>', 'gRPC port (0 picks a free one)').env('PTUNE_PORT').argParser(integerAtLeast(0)).default(DEFAULT_INFER_PORT),
    )
    .addOption(HTTP_PORT_OPTION())
    .option('--host <h>', 'interface to bind (0.0.0.0 to serve other machines)', '127.0.0.1')
    .option('--metrics-port <p>', 'serve Prometheus /metrics on this port', integerAtLeast(0))
    .addOption(weightsDtypeOption())
    .addOption(executionProviderOption());
  addInferenceOptions(command).action((flags: InferFlags) => infer(flags));
}

async function infer(flags: InferFlags): Promise<void> {
  const logger = createLogger({ component: 'inference', level: logLevelFromEnv(process.env) });
  const connection = clientOptionsFromEnv(process.env);
  const model = await fetchBaseModel({
    registry: flags.registry,
    connection,
    name: flags.model,
    cacheDir: flags.cacheDir ?? path.join(defaultCacheDir(process.env)),
    localPath: flags.modelPath,
    weightsDtype: flags.weightsDtype,
    workerToken: process.env.PTUNE_WORKER_TOKEN,
  });
  // calls on behalf of callers carry their token, never this process's own
  const forward: PtuneClient = connect(flags.registry, { ...connection, token: undefined });
  const runtime = await openInferenceRuntime({
    model,
    modelName: flags.model,
    registry: () => forward.registry,
    engine: engineOptions(flags),
  });
  const metrics = createMetrics();
  metrics.collectInferenceEngine(() => runtime.engine.stats());
  const handlers = inferenceHandlers({ runtime: async () => runtime, observer: generationMetrics(metrics) });
  const grpc = await startGrpcServer({
    port: flags.port,
    host: flags.host,
    services: [createInferenceService(handlers)],
    logger,
    observe: rpcMetricsObserver(metrics),
  });
  const local = flags.host === '0.0.0.0' || flags.host === '::' ? '127.0.0.1' : flags.host;
  const grpcAddress = `${local.includes(':') ? `[${local}]` : local}:${grpc.port}`;
  const http = await startHttpHost({
    port: flags.httpPort,
    host: flags.host,
    routes: [
      { name: 'inference', routes: openAiRoutes({ modelName: async () => flags.model, registry: () => forward.registry, handlers }) },
    ],
    grpcAddress,
    logger,
  }).catch(async (err: unknown) => {
    await grpc.close(0);
    throw err;
  });
  const metricsServer =
    flags.metricsPort === undefined
      ? undefined
      : await startMetricsServer({ port: flags.metricsPort, host: flags.host, registry: metrics.registry });
  onShutdownSignals(
    async () => {
      await http.close();
      await grpc.close();
      await metricsServer?.close();
      await runtime.engine.close();
      forward.close();
    },
    { logger },
  );
  process.stdout.write(
    `ptune infer: serving ${flags.model} (weights held ${loadedPrecision(model)}, prompts from ${flags.registry}) on ${flags.host}:${grpc.port} (gRPC) and http://${local}:${http.port}/v1 (OpenAI-compatible)\n`,
  );
}
