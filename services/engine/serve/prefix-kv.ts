/**
 * A stored prompt as the keys and values of the positions it takes before the text. A prefix
 * (prefix tuning) already is keys/values: its rows are re-laid from PEFT's [P, layers·2·kvDim]
 * (../methods/prefix-layout.ts) into per-layer [nKvHeads, P, headDim]. Virtual tokens (prompt
 * tuning, P-tuning) depend on nothing before them, so their keys/values are computed once, by
 * running them alone through the step graph.
 */
import { prefixOffset } from '../methods/prefix-layout.js';
import type { StoredPrompt } from '../methods/serving.js';
import type { ModelSpec } from '../model/spec.js';
import type { InputRows } from './input-rows.js';
import { SlotCache, type SequenceKv } from './slot-cache.js';
import type { StepRunner } from './step-runner.js';

export function storedPrefixKv(stored: StoredPrompt, spec: ModelSpec): SequenceKv {
  const { nLayers, nKvHeads, headDim: hs } = spec;
  const P = stored.numVirtualTokens;
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < nLayers; l++) {
    for (const [kv, out] of [
      [0, keys],
      [1, values],
    ] as const) {
      const t = new Float32Array(nKvHeads * P * hs);
      for (let h = 0; h < nKvHeads; h++)
        for (let p = 0; p < P; p++) {
          const from = p * stored.width + prefixOffset(spec, l, kv, h, 0);
          t.set(stored.tensor.subarray(from, from + hs), (h * P + p) * hs);
        }
      out.push(t);
    }
  }
  return { length: P, keys, values };
}

export interface PrefillRun {
  slot: number;
  /** the first new position */
  start: number;
  count: number;
  chunk: number;
  writeRow(index: number, rows: Float32Array, row: number): void;
  /** checked between chunks: true stops early (an aborted request) */
  stopped?(): boolean;
}

/** Runs `count` input rows through the step graph in chunks into a slot of `cache`; the last chunk's logits. */
export async function prefill(runner: StepRunner, cache: SlotCache, p: PrefillRun): Promise<Float32Array> {
  let logits: Float32Array = new Float32Array(0);
  for (let done = 0; done < p.count && !p.stopped?.(); done += p.chunk) {
    const n = Math.min(p.chunk, p.count - done);
    const at = p.start + done;
    const out = await runner.run(cache, p.chunk, [{ start: at, count: n, writeRow: (i, rows, row) => p.writeRow(done + i, rows, row) }], {
      slot: p.slot,
    });
    cache.write(p.slot, at, out.newKeys, out.newValues, 0, p.chunk, n);
    logits = out.logits;
  }
  return logits;
}

export async function virtualTokensKv(
  stored: StoredPrompt,
  runner: StepRunner,
  rows: InputRows,
  cacheLength: number,
  chunk: number,
): Promise<SequenceKv> {
  const P = stored.numVirtualTokens;
  const scratch = new SlotCache(runner.model.spec, 1, cacheLength);
  await prefill(runner, scratch, {
    slot: 0,
    start: 0,
    count: P,
    chunk,
    writeRow: (i, out, row) => rows.virtual(stored.tensor, i, i, out, row),
  });
  return scratch.extract(0, P);
}
