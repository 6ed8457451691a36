/**
 * Model sources round-trip (#11 item 6): the same generated model, written as a Hugging Face folder
 * and loaded back through the engine's reader, gives the PyTorch reference logits through the
 * decoder graph; f16 and bf16 folders give what the graph computes on their own rounded weights;
 * the folder's weights written as a GGUF file (llama.cpp's names and layouts) give the folder's
 * logits: exactly in f32; in Q8_0 its weights are within one quantization step.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { f32FromBf16Bytes, f32ToBf16Bytes, roundToF16 } from '../../services/engine/formats/half.js';
import { buildInferenceGraph, GRAPH_IO } from '../../services/engine/graph/decoder-graph.js';
import { GraphSession } from '../../services/engine/graph/run.js';
import { writeHfModel } from '../../services/engine/model/hf/generate-hf.js';
import { loadGgufBytes } from '../../services/engine/model/gguf.js';
import { serializeGguf } from '../../services/engine/model/gguf-serialize.js';
import { ggufArchitectureOf, ggufMetadataFromSpec } from '../../services/engine/model/gguf-spec.js';
import { ggufTensorsFromCanonical } from '../../services/engine/model/gguf-tensors.js';
import { tensorToWrite } from '../../services/engine/model/gguf-write.js';
import { loadHfFolder } from '../../services/engine/model/hf/load-hf.js';
import type { StoredDType } from '../../services/engine/model/weights.js';
import { generatedTokenizerSpec } from '../../services/engine/tokenizer/generated-tokenizer.js';
import { tokenizerMetadata } from '../../services/engine/tokenizer/gguf-tokenizer.js';
import { families } from '../../services/engine/model/spec.js';
import { readAllWeights, type DecoderModel } from '../../services/engine/model/weights.js';
import { loadReferenceFixture } from './fixtures.js';

const work = await mkdtemp(join(tmpdir(), 'ptune-sources-'));
afterAll(() => rm(work, { recursive: true, force: true }));

async function logits(model: DecoderModel, ids: number[]): Promise<Float32Array> {
  const { graph } = buildInferenceGraph(model, { batch: 1, seqLen: ids.length });
  const session = await GraphSession.create(graph);
  try {
    const out = await session.run({ [GRAPH_IO.tokens]: { data: BigInt64Array.from(ids.map(BigInt)), dims: [1, ids.length] } }, [
      GRAPH_IO.logits,
    ]);
    return out[GRAPH_IO.logits].data as Float32Array;
  } finally {
    await session.release();
  }
}

async function loadFolder(dir: string): Promise<DecoderModel> {
  const folder = await loadHfFolder(dir);
  return { spec: folder.spec, tensors: await readAllWeights(folder.spec, folder.weights, dir) };
}

const maxAbs = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
};

describe('model sources: generated model → HF folder → loader → decoder graph', () => {
  it.each(families)('%s: an f32 folder in 2 shards gives the PyTorch reference logits', async (family) => {
    const f = loadReferenceFixture(family);
    const written = await writeHfModel(join(work, `${family}-f32`), { family, preset: f.preset, seed: f.seed, dtype: 'f32', shards: 2 });
    const got = await logits(await loadFolder(written.dir), f.ids);
    expect(maxAbs(got, f.logits.plain)).toBeLessThan(1e-4);
  });

  it.each(families)('%s: f16 and bf16 folders give the logits of their own rounded weights', async (family) => {
    const f = loadReferenceFixture(family);
    for (const dtype of ['f16', 'bf16'] as const) {
      const written = await writeHfModel(join(work, `${family}-${dtype}`), { family, preset: f.preset, seed: f.seed, dtype });
      const round = (x: Float32Array): Float32Array => (dtype === 'f16' ? roundToF16(x) : f32FromBf16Bytes(f32ToBf16Bytes(x)));
      const rounded = new Map([...written.weights].map(([name, t]) => [name, { dims: t.dims, data: round(t.data) }]));
      const loaded = await loadFolder(written.dir);
      for (const [name, t] of loaded.tensors) expect(t.data, name).toEqual(rounded.get(name)?.data);
      const got = await logits(loaded, f.ids);
      expect(maxAbs(got, await logits({ spec: written.spec, tensors: rounded }, f.ids))).toBeLessThan(1e-6);
      // rounding moved the logits a little (a layout error would move them by O(1))
      expect(maxAbs(got, f.logits.plain)).toBeLessThan(dtype === 'f16' ? 0.02 : 0.2);
    }
  });

  it.each(families)('%s: the folder written as GGUF gives the same logits (f32 exactly, Q8_0 closely)', async (family) => {
    const f = loadReferenceFixture(family);
    const written = await writeHfModel(join(work, `${family}-gguf`), { family, preset: f.preset, seed: f.seed, dtype: 'f32' });
    const folder = await loadFolder(written.dir);
    const fromFolder = await logits(folder, f.ids);
    const asGguf = (dtype: StoredDType): Uint8Array => {
      const { metadata, ropeFreqs } = ggufMetadataFromSpec(folder.spec);
      const tensors = [...ggufTensorsFromCanonical(folder.spec, ggufArchitectureOf(folder.spec), folder.tensors)].map(([name, t]) =>
        tensorToWrite(name, t, dtype),
      );
      if (ropeFreqs) tensors.push(tensorToWrite('rope_freqs.weight', { dims: [ropeFreqs.length], data: ropeFreqs }, 'f32'));
      return serializeGguf(new Map([...metadata, ...tokenizerMetadata(generatedTokenizerSpec(folder.spec.vocabSize))]), tensors);
    };
    const f32 = loadGgufBytes(asGguf('f32'), `${family}.gguf`);
    expect(maxAbs(await logits(f32, f.ids), fromFolder)).toBeLessThan(1e-5);
    // Q8_0: every weight within one quantization step (block max / 127) of the folder's, in the
    // canonical layout (a q/k permutation or fused-split error would be off by whole weights)
    const q8 = loadGgufBytes(asGguf('q8_0'), `${family}-q8_0.gguf`);
    // llama.cpp stores Gemma's (1 + w) norms with the 1 added, and reads them back as plain RMSNorm
    const plusOne = folder.spec.norm.kind === 'rms_one_plus' && q8.spec.norm.kind === 'rms';
    for (const [name, t] of folder.tensors) {
      const want = plusOne && /norm\.weight$/.test(name) ? t.data.map((x) => x + 1) : t.data;
      const step = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0) / 127;
      expect(maxAbs(q8.tensors.get(name)?.data ?? new Float32Array(), want), name).toBeLessThanOrEqual(step);
    }
    const drift = maxAbs(await logits(q8, f.ids), fromFolder);
    expect(drift).toBeGreaterThan(0);
    expect(drift).toBeLessThan(0.25);
  });
});
