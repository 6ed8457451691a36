import { describe, expect, it } from 'vitest';
import { loadReferenceFixture } from '../../../test/reference/fixtures.js';
import { f32ToF32Bytes } from '../formats/half.js';
import { referenceLogitError } from '../graph/reference-parity.js';
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { tokenizerMetadata } from '../tokenizer/gguf-tokenizer.js';
import { loadGgufBytes } from './gguf.js';
import { serializeGguf, type GgufTensorToWrite } from './gguf-serialize.js';
import { ggufArchitectureOf, ggufMetadataFromSpec } from './gguf-spec.js';
import { ggufTensorsFromCanonical } from './gguf-tensors.js';
import { GgmlType, type GgufValue } from './gguf-types.js';
import { dequantize, ggmlCodeOf, quantize } from './quant/index.js';
import { specFromHfConfig } from './hf/config.js';
import { randomWeights } from './hf/generate-hf.js';
import { hfFamilyPreset } from './hf/presets.js';
import { families, type Family, type ModelSpec } from './spec.js';
import type { F32Tensor } from './weights.js';

/** A family's tiny reference model written as llama.cpp lays it out (f32), and its GGUF bytes. */
function ggufOf(
  family: Family,
  edit: (md: Map<string, GgufValue>, tensors: GgufTensorToWrite[]) => void = () => {},
  matrices: 'f32' | 'q8_0' = 'f32',
): { bytes: Uint8Array; spec: ModelSpec; seed: number } {
  const fixture = loadReferenceFixture(family);
  const { spec } = specFromHfConfig(hfFamilyPreset(family, 'tiny').config, family);
  const arch = ggufArchitectureOf(spec);
  const { metadata, ropeFreqs } = ggufMetadataFromSpec(spec);
  const tensors: GgufTensorToWrite[] = [...ggufTensorsFromCanonical(spec, arch, randomWeights(spec, fixture.seed))].map(([name, t]) => {
    // Q8_0 blocks hold 32 values of a row
    const quantized = matrices === 'q8_0' && t.dims.length === 2 && t.dims[1] % 32 === 0;
    const data = quantized ? quantize('q8_0', t.data) : f32ToF32Bytes(t.data);
    return { name, dims: [...t.dims].reverse(), typeCode: quantized ? ggmlCodeOf('q8_0') : GgmlType.F32, data };
  });
  if (ropeFreqs)
    tensors.push({ name: 'rope_freqs.weight', dims: [ropeFreqs.length], typeCode: GgmlType.F32, data: f32ToF32Bytes(ropeFreqs) });
  const md = new Map([...metadata, ...tokenizerMetadata(generatedTokenizerSpec(spec.vocabSize))]);
  edit(md, tensors);
  return { bytes: serializeGguf(md, tensors), spec, seed: fixture.seed };
}

/** The real loader on the bytes (tokenizer, spec, canonical weights). */
async function readGguf(bytes: Uint8Array, path = 'model.gguf'): Promise<{ spec: ModelSpec; tensors: ReadonlyMap<string, F32Tensor> }> {
  return Promise.resolve().then(() => loadGgufBytes(bytes, path));
}

describe.each(families.map((f) => [f] as [Family]))('%s as GGUF (llama.cpp names, keys and layouts)', (family) => {
  it('reads back a spec with the same math and logits within 1e-4 of the PyTorch reference', async () => {
    const { bytes, spec } = ggufOf(family);
    const read = await readGguf(bytes);
    // Gemma's (1 + w) comes back as plain RMSNorm over 1 + w (llama.cpp's converter adds the 1); Mistral is "llama"
    const { family: _f, norm: _n, ...rest } = read.spec;
    const { family: _f2, norm: _n2, ...want } = spec;
    expect(rest.positions.kind === 'rope' && rest.positions.scaling?.type === 'factors').toBe(family === 'llama');
    // GGUF stores floats as f32
    const asF32 = (x: unknown): unknown => JSON.parse(JSON.stringify(x), (_k, v: unknown) => (typeof v === 'number' ? Math.fround(v) : v));
    if (family !== 'llama') expect(asF32(rest)).toEqual(asF32({ ...want, norm: undefined }));
    expect(await referenceLogitError(read, loadReferenceFixture(family), 'plain')).toBeLessThan(1e-4);
  });

  it('reads Q8_0 matrices: each canonical tensor is the dequantized Q8_0 of the original rows', async () => {
    const { bytes, spec, seed } = ggufOf(family, () => {}, 'q8_0');
    const read = loadGgufBytes(bytes, 'q8.gguf');
    expect(read.weights.list().filter((w) => w.stored === 'q8_0').length).toBeGreaterThan(spec.nLayers * 4);
    // quantization works on rows; un-permuting, splitting and Gemma's +1 move or touch whole rows or 1-D norms
    for (const [name, t] of randomWeights(spec, seed)) {
      const quantized = t.dims.length === 2 && t.dims[1] % 32 === 0;
      const want = quantized ? dequantize('q8_0', quantize('q8_0', t.data), t.data.length) : t.data;
      const got = read.tensors.get(name)?.data;
      if (spec.norm.kind === 'rms_one_plus' && /norm\.weight$/.test(name)) expect(got).toEqual(want.map((v) => Math.fround(1 + v)));
      else expect(got).toEqual(want);
    }
    expect(await referenceLogitError(read, loadReferenceFixture(family), 'plain')).toBeLessThan(0.25);
  });
});

describe('GGUF refusals name the key or tensor', () => {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const str = (value: string): GgufValue => ({ type: 'string', value });
  const cases: { name: string; family: Family; edit: (md: Map<string, GgufValue>, t: GgufTensorToWrite[]) => void; error: RegExp }[] = [
    {
      name: 'unknown architecture',
      family: 'llama',
      edit: (md) => md.set('general.architecture', str('mamba')),
      error: /general\.architecture "mamba" is not supported \(supported: llama, qwen2/,
    },
    {
      name: 'mixture of experts',
      family: 'llama',
      edit: (md) => md.set('llama.expert_count', u32(8)),
      error: /metadata "llama\.expert_count" changes the model/,
    },
    {
      name: 'logit scale',
      family: 'qwen2',
      edit: (md) => md.set('qwen2.logit_scale', { type: 'f32', value: 0.5 }),
      error: /metadata "qwen2\.logit_scale"/,
    },
    {
      name: 'non-causal attention',
      family: 'gemma3',
      edit: (md) => md.set('gemma3.attention.causal', { type: 'bool', value: false }),
      error: /metadata "gemma3\.attention\.causal"/,
    },
    {
      name: 'RoPE scaling type',
      family: 'phi3',
      edit: (md) => md.set('phi3.rope.scaling.type', str('longrope')),
      error: /metadata "phi3\.rope\.scaling\.type" "longrope" is not supported \(supported: none, linear, yarn/,
    },
    {
      name: 'LongRoPE factor tensors',
      family: 'phi3',
      edit: (_md, t) => t.push({ name: 'rope_factors_long.weight', dims: [4], typeCode: GgmlType.F32, data: new Uint8Array(16) }),
      error: /tensor "rope_factors_long\.weight": LongRoPE/,
    },
    {
      name: 'value length ≠ key length',
      family: 'gemma2',
      edit: (md) => md.set('gemma2.attention.value_length', u32(8)),
      error: /"gemma2\.attention\.value_length" 8 ≠ key_length 16/,
    },
    {
      name: 'softcap on another architecture',
      family: 'qwen3',
      edit: (md) => md.set('qwen3.final_logit_softcapping', { type: 'f32', value: 30 }),
      error: /"qwen3\.final_logit_softcapping" is not read for architecture "qwen3"/,
    },
    {
      name: 'an extra tensor (MoE router)',
      family: 'llama',
      edit: (_md, t) => t.push({ name: 'blk.0.ffn_gate_inp.weight', dims: [32, 4], typeCode: GgmlType.F32, data: new Uint8Array(512) }),
      error: /tensors the model spec does not use: blk\.0\.ffn_gate_inp\.weight/,
    },
    {
      name: 'a missing tensor',
      family: 'gpt2',
      edit: (_md, t) =>
        t.splice(
          t.findIndex((x) => x.name === 'blk.1.ffn_up.bias'),
          1,
        ),
      error: /tensor "blk\.1\.ffn_up\.bias" is missing/,
    },
  ];
  it.each(cases)('$name', async ({ family, edit, error }) => {
    const { bytes } = ggufOf(family, edit);
    await expect(readGguf(bytes, 'bad.gguf')).rejects.toThrow(error);
    await expect(readGguf(bytes, 'bad.gguf')).rejects.toThrow(/^bad\.gguf: /);
  });

  it('the writer refuses what GGUF cannot say (a non-repeating sliding-layer pattern)', () => {
    const { spec } = specFromHfConfig(hfFamilyPreset('gemma2', 'tiny').config, 'gemma2');
    const odd = { ...spec, attention: { ...spec.attention, slidingLayers: [false, true] } };
    expect(() => ggufMetadataFromSpec(odd)).toThrow(/attention\.slidingLayers cannot be written to GGUF/);
  });
});
