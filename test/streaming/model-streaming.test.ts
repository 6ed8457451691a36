/**
 * Streaming blobs end to end (issue #14 item 4): a ≈256 MiB HF folder goes up through `ptune models
 * add` to a real `ptune serve` process and back down to a worker-side process through GetBlob,
 * while each process's peak RSS stays within 150 MiB of its idle size. Were any path to buffer a
 * whole file, the largest shard (≈130 MiB) alone would break the bound on that process; the 1 GiB
 * run is `npx tsx bench/model-streaming.ts` (figures in bench/streaming/README.md).
 */
import { describe, expect, it } from 'vitest';
import { HF_256_MIB } from '../support/hf-folder.js';
import { modelRoundTrip } from './model-round-trip.js';

const BOUND_MIB = 150;

describe.skipIf(process.platform !== 'linux')('model streaming (reads /proc)', () => {
  it('uploads and fetches a 256 MiB model with every process under idle + 150 MiB', async () => {
    const r = await modelRoundTrip({ kind: 'hf', shape: HF_256_MIB }, 240_000);
    expect(r.modelBytes).toBeGreaterThan(240 * 1024 * 1024);
    expect(r.coordinator.addPeakMiB - r.coordinator.idleMiB).toBeLessThan(BOUND_MIB);
    expect(r.coordinator.fetchPeakMiB - r.coordinator.idleMiB).toBeLessThan(BOUND_MIB);
    expect(r.worker.peakMiB - r.worker.idleMiB).toBeLessThan(BOUND_MIB);
  }, 600_000);
});
