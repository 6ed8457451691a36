/**
 * Tests' inference server: a real registry (embedded PGlite, local blobs) and the InferenceService
 * with its OpenAI routes in one process, serving the generated `tiny` model (registered as "tiny");
 * a second model of the same shape but other weights ("tiny-other") stands for another base model.
 * `push` stores prompt versions through the registry's public API.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { connect, pushPrompt, weightsUpload, type InferenceClient, type PtuneClient } from '../client/index.js';
import { encodePromptFile, loadModel, writeGeneratedModel, type InferenceEngineOptions, type LoadedModel } from '../engine/index.js';
import { TuningMethod } from '../gen/ptune/v1/common_pb.js';
import { registryModule } from '../registry/server-module.js';
import { startServer, type RunningServer } from '../server/index.js';
import { createInferenceService, inferenceHandlers, type InferenceRuntime } from './inference-service.js';
import { openAiRoutes } from './openai-routes.js';
import { openInferenceRuntime } from './runtime.js';

export interface InferenceFixture {
  readonly server: RunningServer;
  readonly client: PtuneClient;
  readonly inference: InferenceClient;
  readonly model: LoadedModel;
  readonly runtime: InferenceRuntime;
  /** base URL of the OpenAI-compatible endpoint, e.g. http://127.0.0.1:41234/v1 */
  readonly openAiUrl: string;
  /** a new version of `task` holding `rows` seeded rows of the model's width for `method`; its number and tensor */
  push(
    task: string,
    rows: number,
    seed: number,
    options?: { method?: 'prompt_tuning' | 'prefix_tuning'; alias?: string; baseModel?: string },
  ): Promise<{ version: number; tensor: Float32Array }>;
  close(): Promise<void>;
}

export const NAMESPACE = 'team-a';

/** A chat template for the generated model (which has none): "<s>user: …\nassistant:". */
export const TEST_CHAT_TEMPLATE =
  '{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}';

export async function startInferenceFixture(
  engine: InferenceEngineOptions = {},
  options: { chatTemplate?: string } = {},
): Promise<InferenceFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-inference-'));
  const served = await writeGeneratedModel('tiny', 7, path.join(dir, 'tiny.gguf'));
  const other = await writeGeneratedModel('tiny', 8, path.join(dir, 'tiny-other.gguf'));
  const loaded = await loadModel(served.path);
  const model: LoadedModel = options.chatTemplate === undefined ? loaded : { ...loaded, chatTemplate: options.chatTemplate };
  let runtime: InferenceRuntime | undefined;
  const server = await startServer({
    dataDir: path.join(dir, 'data'),
    port: 0,
    httpPort: 0,
    logger: pino({ level: 'warn' }),
    modules: [
      registryModule(),
      {
        name: 'inference',
        create() {
          let registryAddress = '';
          let registryClient: PtuneClient | undefined;
          let opening: Promise<InferenceRuntime> | undefined;
          const registry = () => (registryClient ??= connect(registryAddress)).registry;
          const opened = () =>
            (opening ??= openInferenceRuntime({ model, modelName: 'tiny', registry, engine }).then((r) => (runtime = r)));
          const handlers = inferenceHandlers({ runtime: opened });
          return {
            services: [createInferenceService(handlers)],
            async start(address) {
              registryAddress = address;
              await opened();
            },
            http: openAiRoutes({ modelName: async () => 'tiny', registry, handlers }),
            async stop() {
              await runtime?.engine.close();
              registryClient?.close();
            },
          };
        },
      },
    ],
  });
  const client = connect(server.address);
  for (const [name, file] of [
    ['tiny', served.path],
    ['tiny-other', other.path],
  ] as const) {
    await client.registry.registerBaseModel(weightsUpload(name, file, (await stat(file)).size, 'test'));
  }
  const tasks = new Set<string>();
  return {
    server,
    client,
    inference: client.inference,
    model,
    runtime: runtime!,
    openAiUrl: `http://127.0.0.1:${server.httpPort}/v1`,
    async push(name, rows, seed, options = {}) {
      const task = { namespace: NAMESPACE, name };
      if (!tasks.has(name)) {
        await client.registry.createTask({ task, description: name });
        tasks.add(name);
      }
      const method = options.method ?? 'prompt_tuning';
      const c = model.spec;
      const width = method === 'prefix_tuning' ? c.nLayers * 2 * c.nKvHeads * (c.dim / c.nHeads) : c.dim;
      const tensor = promptTensor(rows, width, seed);
      const bytes = encodePromptFile(tensor, width, { method });
      const { version } = await pushPrompt(
        client.registry,
        {
          task,
          baseModel: options.baseModel ?? 'tiny',
          method: method === 'prefix_tuning' ? TuningMethod.PREFIX_TUNING : TuningMethod.PROMPT_TUNING,
          alias: options.alias ?? '',
        },
        { kind: 'safetensors', bytes },
      );
      return { version: version!.version, tensor };
    },
    async close() {
      client.close();
      await server.close(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Seeded values for a prompt tensor: `rows` rows of `width`, small like trained prompts. */
function promptTensor(rows: number, width: number, seed: number): Float32Array {
  const out = new Float32Array(rows * width);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = ((state >>> 0) / 2 ** 32 - 0.5) * 0.2;
  }
  return out;
}

/** Waits (polling every 10 ms) until `condition` holds; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
