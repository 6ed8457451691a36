import { describe, expect, it } from 'vitest';
import { loadReferenceFixture, type ReferenceFixture } from '../../../test/reference/fixtures.js';
import { randomWeights } from '../model/hf/generate-hf.js';
import { specFromHfConfig } from '../model/hf/config.js';
import { hfFamilyPreset } from '../model/hf/presets.js';
import { families, type Family } from '../model/spec.js';
import type { DecoderModel } from '../model/weights.js';
import { cacheBuckets } from '../serve/batch-engine.js';
import { InputRows } from '../serve/input-rows.js';
import { virtualTokensKv } from '../serve/prefix-kv.js';
import { SlotCache, type SequenceKv } from '../serve/slot-cache.js';
import { StepRunner } from '../serve/step-runner.js';

/**
 * Every family's step graph against the committed PyTorch references (test/reference), as the
 * engine drives it: the prompt's keys/values computed alone (or the reference prefix loaded as
 * is), the first tokens prefilled in chunks of 3 by a one-sequence graph reading its slot in place,
 * the rest decoded one token per step by a two-slot graph beside an idle slot. Logits at every
 * position the steps return match the reference within the full-sequence graph's tolerance.
 */
const LOGIT_TOLERANCE = 1e-4;

function modelOf(f: ReferenceFixture): DecoderModel {
  const { spec } = specFromHfConfig(hfFamilyPreset(f.family, f.preset).config, `${f.family} tiny`);
  return { spec, tensors: randomWeights(spec, f.seed) };
}

describe.each(families.map((f) => [f] as [Family]))('%s: KV-cache steps vs the PyTorch reference', (family) => {
  const fixture = loadReferenceFixture(family);
  const model = modelOf(fixture);

  it.each(['plain', 'prompt', 'prefix'] as const)(`logits within ${LOGIT_TOLERANCE} (%s)`, async (mode) => {
    const { spec } = model;
    const runner = new StepRunner(model, { threads: 1 });
    const rows = new InputRows(model);
    try {
      let prefix: SequenceKv | undefined;
      let virtual = 0;
      if (mode === 'prompt') {
        const stored = {
          method: 'prompt_tuning',
          placement: 'virtual-tokens',
          numVirtualTokens: fixture.prompt.length,
          tensor: fixture.prompt.data,
          width: spec.dim,
          metadata: {},
        } as const;
        prefix = await virtualTokensKv(stored, runner, rows, 64, 3);
        virtual = fixture.prompt.length;
      } else if (mode === 'prefix') {
        const layers = fixture.prefix.layers;
        prefix = { length: fixture.prefix.length, keys: layers.map((l) => l.keys), values: layers.map((l) => l.values) };
      }
      const P = prefix?.length ?? 0;
      const ids = fixture.ids;
      const cache = new SlotCache(
        spec,
        2,
        cacheBuckets(spec.contextLength).find((b) => b >= P + ids.length)!,
      );
      if (prefix) cache.load(1, prefix);
      const ref = fixture.logits[mode];
      const V = spec.vocabSize;
      let worst = 0;
      let compared = 0;
      // reference rows cover the virtual tokens too ('prompt'); real token t is row virtual + t
      const compare = (logits: Float32Array, t: number): void => {
        for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(logits[v] - ref[(virtual + t) * V + v]));
        compared++;
      };
      const token = (t: number) => (i: number, out: Float32Array, row: number) => rows.token(ids[t + i], P + t + i, out, row);
      const head = Math.min(5, ids.length - 1);
      for (let t = 0; t < head; t += 3) {
        const count = Math.min(3, head - t);
        const out = await runner.run(cache, 3, [{ start: P + t, count, writeRow: token(t) }], { slot: 1 });
        cache.write(1, P + t, out.newKeys, out.newValues, 0, 3, count);
        compare(out.logits, t + count - 1);
      }
      for (let t = head; t < ids.length; t++) {
        const out = await runner.run(cache, 1, [undefined, { start: P + t, count: 1, writeRow: token(t) }]);
        cache.write(1, P + t, out.newKeys, out.newValues, 1, 1, 1);
        compare(out.logits.subarray(V, 2 * V), t);
      }
      expect(compared).toBeGreaterThan(2);
      expect(worst).toBeLessThan(LOGIT_TOLERANCE);
    } finally {
      await runner.release();
    }
  });
});
