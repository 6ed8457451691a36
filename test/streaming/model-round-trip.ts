/**
 * One model through the real processes: `ptune serve` (coordinator + registry, embedded storage) is
 * started as a child process; `ptune models add` uploads a generated HF folder (--dir) or GGUF file
 * (--file) to it; a worker-side process fetches every file back through GetBlob into a worker cache. Each process's
 * resident memory is read from /proc: idle before the transfer, peak (VmHWM, reset first) during it.
 * Used by the streaming test (bounds) and by bench/model-streaming.ts (figures).
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeGeneratedModel, type LlamaConfig } from '../../services/engine/index.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { createClient, createGrpcTransport } from '../../services/grpc/index.js';
import { startChild, waitFor, withDeadline, type Child } from '../fault/support/processes.js';
import { freePort } from '../support/free-port.js';
import { writeHfFolder, type HfFolderShape } from '../support/hf-folder.js';
import { readMemory, resetPeak } from './proc-memory.js';

export interface RoundTrip {
  modelBytes: number;
  files: number;
  /** wall time of `ptune models add` (process start to exit) */
  addMs: number;
  /** wall time of the worker-side fetch process */
  fetchMs: number;
  coordinator: { idleMiB: number; addPeakMiB: number; fetchPeakMiB: number };
  /** the `ptune models add` process: its last sampled peak before exit */
  cli: { peakMiB: number };
  worker: { idleMiB: number; peakMiB: number };
}

/** A generated model: an HF folder of f16 safetensors (sparse: its bytes are never looked at), or an f16 GGUF file. */
export type GeneratedSource = { kind: 'hf'; shape: HfFolderShape } | { kind: 'gguf'; config: LlamaConfig };

export async function modelRoundTrip(source: GeneratedSource, timeoutMs: number): Promise<RoundTrip> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ptune-streaming-'));
  const children: Child[] = [];
  const logs = (): string => children.map((c) => c.output()).join('\n---\n');
  try {
    const model = path.join(root, source.kind === 'hf' ? 'model' : 'model.gguf');
    let names: string[];
    if (source.kind === 'hf') {
      await mkdir(model);
      names = await writeHfFolder(model, source.shape, 'sparse');
    } else {
      await writeGeneratedModel(source.config, 1, model, { dtype: 'f16' });
      names = ['model.gguf'];
    }
    const sizeOf = (name: string): Promise<number> => stat(source.kind === 'hf' ? path.join(model, name) : model).then((s) => s.size);
    const sizes = await Promise.all(names.map(sizeOf));
    const modelBytes = sizes.reduce((a, b) => a + b, 0);

    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const server = startChild('ptune-cli.ts', [
      'serve',
      '--workers',
      '0',
      '--port',
      String(port),
      '--http-port',
      '0',
      '--data-dir',
      path.join(root, 'data'),
      '--sweep-interval-seconds',
      '0',
    ]);
    children.push(server);
    const transport = createGrpcTransport(address);
    try {
      const registry = createClient(PromptRegistryService, transport);
      await waitFor('ptune serve to answer', () => registry.listBaseModels({}), timeoutMs, logs);
    } finally {
      transport.close();
    }
    const serverPid = server.process.pid!;
    const idle = await readMemory(serverPid);

    await resetPeak(serverPid);
    let started = Date.now();
    const add = startChild('ptune-cli.ts', [
      'models',
      'add',
      '--name',
      'big',
      source.kind === 'hf' ? '--dir' : '--file',
      model,
      '--server',
      address,
      '--json',
    ]);
    children.push(add);
    const cliPeak = sampleUntilExit(add);
    const addCode = await withDeadline('ptune models add', add.exited, timeoutMs, logs);
    const addMs = Date.now() - started;
    if (addCode !== 0) throw new Error(`ptune models add exited with ${addCode}\n${logs()}`);
    const afterAdd = await readMemory(serverPid);

    await resetPeak(serverPid);
    started = Date.now();
    const fetch = startChild('../../streaming/fetch-model-child.ts', [address, 'big', path.join(root, 'cache')]);
    children.push(fetch);
    const fetchCode = await withDeadline('the worker-side fetch', fetch.exited, timeoutMs, logs);
    const fetchMs = Date.now() - started;
    if (fetchCode !== 0) throw new Error(`the worker-side fetch exited with ${fetchCode}\n${logs()}`);
    const afterFetch = await readMemory(serverPid);
    const fetched = JSON.parse(fetch.output().trim().split('\n').at(-1)!) as { idleKb: number; peakKb: number; folder: string };
    await checkSameFiles(fetched.folder, source.kind === 'hf' ? names : undefined, sizes);

    return {
      modelBytes,
      files: names.length,
      addMs,
      fetchMs,
      coordinator: { idleMiB: idle.rssKb / 1024, addPeakMiB: afterAdd.hwmKb / 1024, fetchPeakMiB: afterFetch.hwmKb / 1024 },
      cli: { peakMiB: (await cliPeak) / 1024 },
      worker: { idleMiB: fetched.idleKb / 1024, peakMiB: fetched.peakKb / 1024 },
    };
  } finally {
    for (const child of children) await child.kill9();
    await rm(root, { recursive: true, force: true });
  }
}

/** Polls a child's VmHWM until it exits; resolves to the last value read, in KiB. */
async function sampleUntilExit(child: Child): Promise<number> {
  let peak = 0;
  let done = false;
  void child.exited.then(() => (done = true));
  while (!done) {
    peak = await readMemory(child.process.pid!).then(
      (m) => Math.max(peak, m.hwmKb),
      () => peak,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
  return peak;
}

/**
 * The worker's copy has the uploaded sizes: a folder with the same file names, or one file (`names`
 * undefined). Their sha256 was checked as they arrived.
 */
async function checkSameFiles(fetched: string, names: string[] | undefined, sizes: number[]): Promise<void> {
  if (names !== undefined) {
    const got = (await readdir(fetched)).sort();
    if (JSON.stringify(got) !== JSON.stringify(names))
      throw new Error(`the worker's folder holds ${got.join(', ')}, not ${names.join(', ')}`);
  }
  const files = names === undefined ? [fetched] : names.map((n) => path.join(fetched, n));
  for (const [i, file] of files.entries()) {
    const size = (await stat(file)).size;
    if (size !== sizes[i]) throw new Error(`${file}: ${size} bytes at the worker, ${sizes[i]} uploaded`);
  }
}
