/**
 * A worker-side process for the streaming test: fetches every file of a registered model into a
 * worker blob cache through GetBlob (the worker's own code), then prints one JSON line with its idle
 * RSS (after start-up, before the fetch), its peak RSS during the fetch, and the model's path.
 * Usage: fetch-model-child.ts <host:port> <model name> <cache dir>
 */
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { createClient, createGrpcTransport } from '../../services/grpc/index.js';
import { BlobCache } from '../../services/worker/blob-cache.js';
import { modelPath } from '../../services/worker/model-files.js';
import { readMemory, resetPeak } from './proc-memory.js';

const [address, name, cacheDir] = process.argv.slice(2);
const transport = createGrpcTransport(address);
const registry = createClient(PromptRegistryService, transport);
const worker = createClient(WorkerProtocolService, transport);
const { baseModel } = await registry.getBaseModel({ name });
const idle = await readMemory(process.pid);
await resetPeak(process.pid);
const folder = await modelPath(new BlobCache(worker, cacheDir), baseModel!);
const peak = await readMemory(process.pid);
process.stdout.write(`${JSON.stringify({ idleKb: idle.rssKb, peakKb: peak.hwmKb, folder })}\n`);
transport.close();
