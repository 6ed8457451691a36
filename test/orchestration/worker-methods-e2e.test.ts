import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePromptFile } from '../../services/engine/index.js';
import { TuningMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { JobState, PromptEncoderType, type MethodSettingsSchema } from '../../services/gen/ptune/v1/training_pb.js';
import { createClient, createGrpcTransport, startGrpcServer, type GrpcServer } from '../../services/grpc/index.js';
import { createPromptRegistry, type PromptRegistry } from '../../services/registry/index.js';
import type { BaseModel } from '../../services/storage/index.js';
import { runWorker } from '../../services/worker/index.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { startCoordinatorHarness, type CoordinatorHarness } from './support/coordinator-harness.js';
import { uploadDataset } from './support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from './support/seed.js';

describe('P-tuning and prefix tuning jobs train, register and serve (PGlite, in-process worker)', () => {
  let h: CoordinatorHarness;
  let model: BaseModel;
  let dir: string;
  let registry: PromptRegistry;
  let registryServer: GrpcServer;
  let registryClient: ReturnType<typeof createClient<typeof PromptRegistryService>>;
  let closeTransport: () => void;

  beforeAll(async () => {
    h = await startCoordinatorHarness({ config: { heartbeatIntervalMs: 300, maintenanceIntervalMs: 200, eventPollMs: 20 } });
    model = await seedTinyModel(h.db.prisma, h.blobs);
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-methods-e2e-'));
    registry = createPromptRegistry({ prisma: h.db.prisma, blobs: h.blobs });
    registryServer = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [registry.service],
      logger: { error: (context, message) => console.error(message, context) },
    });
    const transport = createGrpcTransport(`127.0.0.1:${registryServer.port}`);
    closeTransport = () => transport.close();
    registryClient = createClient(PromptRegistryService, transport);
  });
  afterAll(async () => {
    closeTransport?.();
    await registryServer?.close(1000);
    await registry?.close();
    await h?.close();
  });

  const kvDim = (): number => model.headDim * model.numKvHeads;

  it.each([
    {
      name: 'P-tuning with an MLP encoder',
      method: { method: TuningMethod.P_TUNING, encoderType: PromptEncoderType.MLP, encoderHiddenSize: 16 },
      width: () => model.hiddenSize,
      metadata: 'p_tuning',
    },
    {
      name: 'prefix tuning',
      method: { method: TuningMethod.PREFIX_TUNING },
      width: () => model.numLayers * 2 * kvDim(),
      metadata: 'prefix_tuning',
    },
  ] satisfies { name: string; method: MessageInitShape<typeof MethodSettingsSchema>; width: () => number; metadata: string }[])(
    '$name runs to SUCCEEDED and the registered version has its method and shape',
    async ({ method, width, metadata }) => {
      const task = await seedTask(h.db.prisma);
      const train = await uploadDataset(h.training, datasetText(6));
      const evalSha = await uploadDataset(h.training, datasetText(2, 6));
      const { job } = await h.training.trainPrompt({
        baseModel: model.name,
        tasks: [
          {
            task: { namespace: task.namespace, name: task.name },
            train: { source: { case: 'sha256', value: train } },
            eval: { source: { case: 'sha256', value: evalSha } },
          },
        ],
        method: { ...method, numVirtualTokens: 3 },
        optimizer: { steps: 3, batchSize: 2, seed: 1n, learningRate: 0.01 },
        alias: 'production',
      });
      const stop = new AbortController();
      const worker = runWorker({
        coordinator: h.address,
        name: `e2e-${metadata}`,
        cacheDir: path.join(dir, 'cache'),
        signal: stop.signal,
        threads: 1,
        log: () => undefined,
      });
      let finished;
      for await (const { event } of h.training.watchJob({ jobId: job!.id })) {
        if (event?.kind.case === 'jobState') finished = event.kind.value.state;
      }
      stop.abort();
      await worker;
      expect(finished).toBe(JobState.SUCCEEDED);

      const row = await h.db.prisma.promptVersion.findFirstOrThrow({ where: { jobId: job!.id } });
      const stored = decodePromptFile(await h.blobs.get(row.blobKey), row.blobKey);
      expect([stored.virtualTokens, stored.dim]).toEqual([3, width()]);
      expect(stored.metadata.method).toBe(metadata);

      const served = await registryClient.getPrompt({
        prompt: { task: { namespace: task.namespace, name: task.name }, selector: { case: 'alias', value: 'production' } },
      });
      expect(served.version!.method).toBe(method.method);
      expect(served.version!.shape).toEqual([3n, BigInt(width())]);
      expect(served.version!.hyperparameters.num_virtual_tokens).toBe('3');
      if (method.method === TuningMethod.P_TUNING)
        expect(served.version!.hyperparameters).toMatchObject({ encoder_type: 'mlp', encoder_hidden_size: '16' });
      else expect(served.version!.hyperparameters).toMatchObject({ prefix_projection: 'false' });
      expect(served.safetensors.length).toBeGreaterThan(3 * width() * 4);
    },
    120_000,
  );
});
