import { describe, expect, it } from 'vitest';
import { loadGguf } from '../model/gguf.js';
import { stories260K } from '../model/stories260k-fixture.js';
import { buildInferenceGraph, GRAPH_IO } from './decoder-graph.js';
import { GraphSession } from './run.js';

/** Logits of the real stories260K model against the float64 reference (atol 1e-3, as its README says). */
describe.skipIf(!stories260K.available)('stories260K parity', () => {
  it('matches reference logits at every position for BOS + "Once upon a time"', async () => {
    const model = await loadGguf(stories260K.ggufPath);
    const ref = stories260K.reference().prompt_logits;
    const ids = ref.prompt_ids;
    const { graph } = buildInferenceGraph(model, { batch: 1, seqLen: ids.length });
    const session = await GraphSession.create(graph, { threads: 2 });
    const out = await session.run({ [GRAPH_IO.tokens]: { data: BigInt64Array.from(ids.map(BigInt)), dims: [1, ids.length] } });
    await session.release();
    const logits = out[GRAPH_IO.logits].data as Float32Array;
    const V = model.spec.vocabSize;
    let maxAbs = 0;
    ref.all_position_logits.forEach((row, t) => row.forEach((v, j) => (maxAbs = Math.max(maxAbs, Math.abs(logits[t * V + j] - v)))));
    expect(ref.all_position_logits).toHaveLength(ids.length);
    expect(maxAbs).toBeLessThan(1e-3);
    const argmax = ref.all_position_logits.map((_, t) => {
      const row = logits.subarray(t * V, (t + 1) * V);
      return row.indexOf(Math.max(...row));
    });
    expect(argmax).toEqual(ref.argmax_per_position);
  });
});

if (!stories260K.available) console.warn(`llama-graph parity skipped: ${stories260K.skipReason}`);
