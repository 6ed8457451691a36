import { describe, expect, it } from 'vitest';
import { loadReferenceFixture, type ReferenceFixture } from '../../../test/reference/fixtures.js';
import { randomWeights } from '../model/hf/generate-hf.js';
import { specFromHfConfig } from '../model/hf/config.js';
import { hfFamilyPreset } from '../model/hf/presets.js';
import { families, type Family } from '../model/spec.js';
import type { DecoderModel } from '../model/weights.js';
import type { FloatDType } from './dtype.js';
import { compareWithFiniteDifferences } from './gradient-check.js';
import { buildInferenceGraph, buildTrainingGraph, GRAPH_IO, type PastKeyValues, promptTuning } from './decoder-graph.js';
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

/** The reference prefix as constant graph inputs prefix_key_<l> / prefix_value_<l> [nKv, P, hd]. */
function prefixInputs(f: ReferenceFixture, dtype: FloatDType): { source: PastKeyValues; feeds: Record<string, HostTensor> } {
  const dims = [f.nKvHeads, f.prefix.length, f.headDim];
  const feeds: Record<string, HostTensor> = {};
  f.prefix.layers.forEach((l, i) => {
    feeds[`prefix_key_${i}`] = { data: dtype === 'float32' ? l.keys : Float64Array.from(l.keys), dims };
    feeds[`prefix_value_${i}`] = { data: dtype === 'float32' ? l.values : Float64Array.from(l.values), dims };
  });
  const source: PastKeyValues = {
    length: f.prefix.length,
    build(g) {
      const layers = f.prefix.layers.map((_, i) => ({ key: g.input(`prefix_key_${i}`, dtype, dims), value: g.input(`prefix_value_${i}`, dtype, dims) }));
      return { layers, trainable: layers.flatMap((l) => [l.key, l.value]) };
    },
  };
  return { source, feeds };
}

const tokens = (ids: number[]): HostTensor => ({ data: BigInt64Array.from(ids.map(BigInt)), dims: [1, ids.length] });

async function logitsOf(model: DecoderModel, f: ReferenceFixture, mode: 'plain' | 'prompt' | 'prefix'): Promise<Float32Array> {
  const feeds: Record<string, HostTensor> = { [GRAPH_IO.tokens]: tokens(f.ids) };
  let extra = {};
  if (mode === 'prompt') {
    extra = { virtualTokens: promptTuning(f.prompt.length) };
    feeds.prompt_embeddings = { data: f.prompt.data, dims: [f.prompt.length, f.dim] };
  } else if (mode === 'prefix') {
    const p = prefixInputs(f, 'float32');
    extra = { pastKeyValues: p.source };
    Object.assign(feeds, p.feeds);
  }
  const { graph } = buildInferenceGraph(model, { batch: 1, seqLen: f.ids.length, ...extra });
  const session = await GraphSession.create(graph);
  try {
    return (await session.run(feeds, [GRAPH_IO.logits]))[GRAPH_IO.logits].data as Float32Array;
  } finally {
    await session.release();
  }
}

const maxAbsError = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe.each(families.map((f) => [f] as [Family]))('%s: decoder graph vs the PyTorch reference', (family) => {
  const fixture = loadReferenceFixture(family);
  const model = modelOf(fixture);

  it.each(['plain', 'prompt', 'prefix'] as const)(`logits within ${LOGIT_TOLERANCE} at every position (%s)`, async (mode) => {
    expect(model.spec.family).toBe(family);
    const got = await logitsOf(model, fixture, mode);
    expect(maxAbsError(got, fixture.logits[mode])).toBeLessThan(LOGIT_TOLERANCE);
  });

  it('whole-model gradient w.r.t. a prompt and a prefix matches central finite differences (float64)', async () => {
    const T = fixture.ids.length;
    const p = prefixInputs(fixture, 'float64');
    const { graph, trainable } = buildTrainingGraph(model, {
      batch: 1, seqLen: T, dtype: 'float64', virtualTokens: promptTuning(fixture.prompt.length), pastKeyValues: p.source,
    });
    const session = await GraphSession.create(graph);
    const feeds: Record<string, HostTensor> = {
      ...p.feeds,
      [GRAPH_IO.tokens]: tokens(fixture.ids),
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
