import { describe, expect, it } from 'vitest';
import { loadReferenceFixture, type ReferenceFixture } from '../../../test/reference/fixtures.js';
import { randomWeights } from '../model/hf/generate-hf.js';
import { specFromHfConfig } from '../model/hf/config.js';
import { hfFamilyPreset } from '../model/hf/presets.js';
import { families, type Family } from '../model/spec.js';
import type { DecoderModel } from '../model/weights.js';
import { compareWithFiniteDifferences } from './gradient-check.js';
import { buildTrainingGraph, GRAPH_IO, promptTuning } from './decoder-graph.js';
import { referenceLogitError, referencePrefix, referenceTokens } from './reference-parity.js';
import { GraphSession, type HostTensor } from './run.js';

/**
 * Every family's decoder graph against the committed PyTorch references (test/reference): the
 * generated tiny model (spec from its config.json, weights from the seeded generator), logits at
 * every position for the ids alone, with the reference's soft prompt, and with its prefix.
 * Then the whole model's gradient w.r.t. the prompt and the prefix, float64, vs finite differences.
 */
const LOGIT_TOLERANCE = 1e-4;

function modelOf(f: ReferenceFixture): DecoderModel {
  const { spec } = specFromHfConfig(hfFamilyPreset(f.family, f.preset).config, `${f.family} tiny`);
  return { spec, tensors: randomWeights(spec, f.seed) };
}

describe.each(families.map((f) => [f] as [Family]))('%s: decoder graph vs the PyTorch reference', (family) => {
  const fixture = loadReferenceFixture(family);
  const model = modelOf(fixture);

  it.each(['plain', 'prompt', 'prefix'] as const)(`logits within ${LOGIT_TOLERANCE} at every position (%s)`, async (mode) => {
    expect(model.spec.family).toBe(family);
    expect(await referenceLogitError(model, fixture, mode)).toBeLessThan(LOGIT_TOLERANCE);
  });

  it('whole-model gradient w.r.t. a prompt and a prefix matches central finite differences (float64)', async () => {
    const T = fixture.ids.length;
    const p = referencePrefix(fixture, 'float64');
    const { graph, trainable } = buildTrainingGraph(model, {
      batch: 1,
      seqLen: T,
      dtype: 'float64',
      virtualTokens: promptTuning(fixture.prompt.length),
      pastKeyValues: p.source,
    });
    const session = await GraphSession.create(graph);
    const feeds: Record<string, HostTensor> = {
      ...p.feeds,
      [GRAPH_IO.tokens]: referenceTokens(fixture),
      [GRAPH_IO.lossMask]: { data: Float64Array.from({ length: T }, (_, t) => (t > 0 ? 1 : 0)), dims: [1, T] },
      prompt_embeddings: { data: Float64Array.from(fixture.prompt.data), dims: [fixture.prompt.length, fixture.dim] },
    };
    const gradOutputs = Object.fromEntries(trainable.map((t) => [t.name, `${GRAPH_IO.gradPrefix}${t.name}`]));
    const { maxError, checked } = await compareWithFiniteDifferences(session, GRAPH_IO.loss, gradOutputs, feeds, { entries: 6 });
    await session.release();
    expect(checked).toBe(6 * trainable.length);
    expect(maxError).toBeLessThan(1e-6);
  });
});
