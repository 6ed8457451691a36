/**
 * One model through the real processes: `ptune serve` (coordinator + registry, embedded storage) is
 * started as a child process; `ptune models add --dir` uploads a generated HF folder to it; a
 * worker-side process fetches every file back through GetBlob into a worker cache. Each process's
 * resident memory is read from /proc: idle before the transfer, peak (VmHWM, reset first) during it.
 * Used by the streaming test (bounds) and by bench/model-streaming.ts (figures).
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

export async function modelRoundTrip(shape: HfFolderShape, timeoutMs: number): Promise<RoundTrip> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ptune-streaming-'));
  const children: Child[] = [];
  const logs = (): string => children.map((c) => c.output()).join('\n---\n');
  try {
    const folder = path.join(root, 'model');
    await mkdir(folder);
    const names = await writeHfFolder(folder, shape, 'sparse');
    const modelBytes = (await Promise.all(names.map(async (n) => (await stat(path.join(folder, n))).size))).reduce((a, b) => a + b, 0);

    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const server = startChild('ptune-cli.ts', ['serve', '--workers', '0', '--port', String(port), '--data-dir', path.join(root, 'data'), '--sweep-interval-seconds', '0']);
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
    const add = startChild('ptune-cli.ts', ['models', 'add', '--name', 'big', '--dir', folder, '--server', address, '--json']);
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
    await checkSameFiles(folder, fetched.folder, names);

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
    peak = await readMemory(child.process.pid!).then((m) => Math.max(peak, m.hwmKb), () => peak);
    await new Promise((r) => setTimeout(r, 50));
  }
  return peak;
}

/** The worker's folder holds the same file names with the same sizes (their sha256 was checked as they arrived). */
async function checkSameFiles(source: string, fetched: string, names: string[]): Promise<void> {
  const got = (await readdir(fetched)).sort();
  if (JSON.stringify(got) !== JSON.stringify(names)) throw new Error(`the worker's folder holds ${got.join(', ')}, not ${names.join(', ')}`);
  for (const name of names) {
    const [a, b] = await Promise.all([stat(path.join(source, name)), stat(path.join(fetched, name))]);
    if (a.size !== b.size) throw new Error(`${name}: ${b.size} bytes at the worker, ${a.size} uploaded`);
  }
}
