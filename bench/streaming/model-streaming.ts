/**
 * Model upload and fetch through the real processes, with their memory: `ptune models add` of a
 * generated model to `ptune serve`, then a worker-side GetBlob fetch of every file (see
 * test/streaming/model-round-trip.ts). Prints time and peak RSS per process.
 * Usage: npx tsx bench/streaming/model-streaming.ts [hf-1g|hf-256m|gguf-1g]   (default hf-1g)
 *   hf-*: an HF folder of f16 safetensors (TinyLlama's width); gguf-1g: an f16 GGUF of the same
 *   shape, which `models add` checks with the engine's loadGguf (it reads the whole file).
 */
import os from 'node:os';
import { HF_1_GIB, HF_256_MIB } from '../../test/support/hf-folder.js';
import { modelRoundTrip, type GeneratedSource } from '../../test/streaming/model-round-trip.js';

const sources: Record<string, GeneratedSource> = {
  'hf-1g': { kind: 'hf', shape: HF_1_GIB },
  'hf-256m': { kind: 'hf', shape: HF_256_MIB },
  'gguf-1g': {
    kind: 'gguf',
    config: {
      dim: 2048,
      hiddenDim: 5632,
      nLayers: 11,
      nHeads: 32,
      nKvHeads: 4,
      vocabSize: 32000,
      contextLength: 2048,
      normEps: 1e-5,
      ropeTheta: 10000,
    },
  },
};
const choice = process.argv[2] ?? 'hf-1g';
const source = sources[choice];
if (source === undefined) throw new Error(`unknown model ${choice} (known: ${Object.keys(sources).join(', ')})`);
const r = await modelRoundTrip(source, 900_000);
const mb = (n: number): string => n.toFixed(0);
const load = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
process.stdout.write(
  [
    `model: ${choice}, ${r.files} file(s), ${(r.modelBytes / 1024 ** 3).toFixed(3)} GiB (${r.modelBytes} bytes); load average ${load}`,
    `ptune models add ${source.kind === 'hf' ? '--dir' : '--file'}: ${(r.addMs / 1000).toFixed(1)} s (${(r.modelBytes / 1024 ** 2 / (r.addMs / 1000)).toFixed(0)} MiB/s), CLI peak RSS ${mb(r.cli.peakMiB)} MiB`,
    `  coordinator (ptune serve): idle ${mb(r.coordinator.idleMiB)} MiB, peak during add ${mb(r.coordinator.addPeakMiB)} MiB (+${mb(r.coordinator.addPeakMiB - r.coordinator.idleMiB)})`,
    `worker fetch (GetBlob → cache → folder): ${(r.fetchMs / 1000).toFixed(1)} s (${(r.modelBytes / 1024 ** 2 / (r.fetchMs / 1000)).toFixed(0)} MiB/s)`,
    `  coordinator peak during fetch ${mb(r.coordinator.fetchPeakMiB)} MiB (+${mb(r.coordinator.fetchPeakMiB - r.coordinator.idleMiB)}); worker idle ${mb(r.worker.idleMiB)} MiB, peak ${mb(r.worker.peakMiB)} MiB (+${mb(r.worker.peakMiB - r.worker.idleMiB)})`,
    '',
  ].join('\n'),
);
