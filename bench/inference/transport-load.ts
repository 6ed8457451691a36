/**
 * HTTP (OpenAI-compatible, streamed server-sent events) vs gRPC (InferenceService.Generate) tokens/s
 * at the same load: `streams` concurrent greedy requests with one prompt version, on one server
 * (registry + inference module, embedded database) in this process; alternating rounds, best of each.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { connect, pushPrompt, weightsUpload } from '../../services/client/index.js';
import { encodePromptFile, type LoadedModel } from '../../services/engine/index.js';
import { inferenceModule } from '../../services/inference/index.js';
import { registryModule } from '../../services/registry/server-module.js';
import { startServer } from '../../services/server/index.js';
import { INPUT, THREADS } from './engine-load.js';

export interface TransportResult {
  grpc: number;
  http: number;
}

export async function httpVsGrpc(
  model: LoadedModel,
  file: string,
  o: { streams: number; tokens: number; slots: number; rounds: number },
): Promise<TransportResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-bench-inference-'));
  const server = await startServer({
    dataDir: dir,
    port: 0,
    httpPort: 0,
    logger: pino({ level: 'warn' }),
    modules: [
      registryModule(),
      inferenceModule({ modelName: 'bench', loadModel: async () => model, engine: { maxSlots: o.slots, maxQueue: 64, threads: THREADS } }),
    ],
  });
  const client = connect(server.address);
  try {
    await client.registry.registerBaseModel(weightsUpload('bench', file, (await stat(file)).size, 'bench'));
    const task = { namespace: 'bench', name: 'transport' };
    await client.registry.createTask({ task });
    const tensor = new Float32Array(8 * model.spec.dim).map((_, i) => Math.sin(i) * 0.05);
    await pushPrompt(
      client.registry,
      { task, baseModel: 'bench', alias: 'production' },
      { kind: 'safetensors', bytes: encodePromptFile(tensor, model.spec.dim, {}) },
    );

    const viaGrpc = async (): Promise<number> => {
      let tokens = 0;
      const request = {
        prompt: { task, selector: { case: 'alias' as const, value: 'production' } },
        input: { kind: { case: 'text' as const, value: INPUT } },
        sampling: { maxTokens: o.tokens },
      };
      for await (const m of client.inference.generate(request)) if (m.part.case === 'summary') tokens += m.part.value.completionTokens;
      return tokens;
    };
    const viaHttp = async (): Promise<number> => {
      const response = await fetch(`http://127.0.0.1:${server.httpPort}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'bench/transport@production', prompt: INPUT, max_tokens: o.tokens, temperature: 0, stream: true }),
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      const events = (await response.text()).split('\n\n').filter((e) => e.startsWith('data: {'));
      const last = JSON.parse(events.at(-1)!.slice('data: '.length)) as { usage?: { completion_tokens: number } };
      return last.usage?.completion_tokens ?? 0;
    };
    const rate = async (one: () => Promise<number>): Promise<number> => {
      const started = performance.now();
      const counts = await Promise.all(Array.from({ length: o.streams }, one));
      return counts.reduce((a, b) => a + b, 0) / ((performance.now() - started) / 1000);
    };
    await rate(viaGrpc); // loads the model, fills the prefix cache
    let [grpc, http] = [0, 0];
    for (let r = 0; r < o.rounds; r++) {
      grpc = Math.max(grpc, await rate(viaGrpc));
      http = Math.max(http, await rate(viaHttp));
    }
    return { grpc, http };
  } finally {
    client.close();
    await server.close(1000);
    await rm(dir, { recursive: true, force: true });
  }
}
