/**
 * Model upload and fetch through the real processes, with their memory: `ptune models add --dir` of a
 * generated HF folder to `ptune serve`, then a worker-side GetBlob fetch of every file (see
 * test/streaming/model-round-trip.ts). Prints time and peak RSS per process.
 * Usage: npx tsx bench/streaming/model-streaming.ts [1g|256m]   (default 1g)
 */
import os from 'node:os';
import { HF_1_GIB, HF_256_MIB } from '../../test/support/hf-folder.js';
import { modelRoundTrip } from '../../test/streaming/model-round-trip.js';

const size = process.argv[2] ?? '1g';
const shape = size === '256m' ? HF_256_MIB : HF_1_GIB;
const r = await modelRoundTrip(shape, 900_000);
const mb = (n: number): string => n.toFixed(0);
const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
process.stdout.write(
  [
    `model: HF folder, ${r.files} files, ${(r.modelBytes / 1024 ** 3).toFixed(3)} GiB (${r.modelBytes} bytes); load average ${load}`,
    `ptune models add --dir: ${(r.addMs / 1000).toFixed(1)} s (${(r.modelBytes / 1024 ** 2 / (r.addMs / 1000)).toFixed(0)} MiB/s), CLI peak RSS ${mb(r.cli.peakMiB)} MiB`,
    `  coordinator (ptune serve): idle ${mb(r.coordinator.idleMiB)} MiB, peak during add ${mb(r.coordinator.addPeakMiB)} MiB (+${mb(r.coordinator.addPeakMiB - r.coordinator.idleMiB)})`,
    `worker fetch (GetBlob → cache → folder): ${(r.fetchMs / 1000).toFixed(1)} s (${(r.modelBytes / 1024 ** 2 / (r.fetchMs / 1000)).toFixed(0)} MiB/s)`,
    `  coordinator peak during fetch ${mb(r.coordinator.fetchPeakMiB)} MiB (+${mb(r.coordinator.fetchPeakMiB - r.coordinator.idleMiB)}); worker idle ${mb(r.worker.idleMiB)} MiB, peak ${mb(r.worker.peakMiB)} MiB (+${mb(r.worker.peakMiB - r.worker.idleMiB)})`,
    '',
  ].join('\n'),
);
