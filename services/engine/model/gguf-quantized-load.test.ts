/**
 * The GGUF loader on quantized files: a model written in each quantized type loads to exactly the
 * canonical weights of its "own dequantized" twin (the same file with every tensor replaced by the
 * f32 values its blocks decode to), through the loader's q/k un-permutation and fused-tensor splits.
 * Identical weights give identical logits, so the quantized path adds nothing beyond the rounding.
 */
import { describe, expect, it } from 'vitest';
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { tokenizerMetadata } from '../tokenizer/gguf-tokenizer.js';
import { loadGgufBytes } from './gguf.js';
import { parseGgufHeader } from './gguf-parse.js';
import { serializeGguf } from './gguf-serialize.js';
import { ggufArchitectureOf, ggufMetadataFromSpec } from './gguf-spec.js';
import { ggufTensorsFromCanonical } from './gguf-tensors.js';
import { storageTypeFor, tensorToWrite } from './gguf-write.js';
import { randomWeights } from './hf/generate-hf.js';
import { specFromHfConfig } from './hf/config.js';
import { hfFamilyPreset } from './hf/presets.js';
import { dequantize, quantize, quantizedDTypes, type StoredDType } from './quant/index.js';
import type { Family } from './spec.js';

/** rows of 256 and 512, so the K-quants are used as such where the family's shapes allow */
const wide: Record<string, Record<string, number>> = {
  llama: { hidden_size: 256, intermediate_size: 512, num_hidden_layers: 1 },
  phi3: { hidden_size: 256, intermediate_size: 512, num_hidden_layers: 1 },
  gpt2: { n_embd: 256, n_inner: 512, n_layer: 1 },
};

describe.each(['llama', 'phi3', 'gpt2'] as Family[])('%s GGUF in every quantized type', (family) => {
  const { spec } = specFromHfConfig({ ...hfFamilyPreset(family, 'tiny').config, ...wide[family] }, `${family} config`);
  const gguf = [...ggufTensorsFromCanonical(spec, ggufArchitectureOf(spec), randomWeights(spec, 21))];
  const { metadata, ropeFreqs } = ggufMetadataFromSpec(spec);
  const fileMetadata = new Map([...metadata, ...tokenizerMetadata(generatedTokenizerSpec(spec.vocabSize))]);
  const write = (dtype: StoredDType, twin: boolean): Uint8Array => {
    const tensors = gguf.map(([name, t]) => {
      if (!twin) return tensorToWrite(name, t, dtype);
      const type = storageTypeFor(dtype, t.dims);
      return tensorToWrite(name, { dims: t.dims, data: dequantize(type, quantize(type, t.data), t.data.length) }, 'f32');
    });
    if (ropeFreqs) tensors.push(tensorToWrite('rope_freqs.weight', { dims: [ropeFreqs.length], data: ropeFreqs }, 'f32'));
    return serializeGguf(fileMetadata, tensors);
  };

  it.each(quantizedDTypes)('%s loads to its own dequantized weights, bit for bit', (dtype) => {
    const bytes = write(dtype, false);
    expect(parseGgufHeader(bytes, 'x').tensors.some((t) => t.stored === dtype)).toBe(true);
    const quantized = loadGgufBytes(bytes, `${family}-${dtype}.gguf`);
    const twin = loadGgufBytes(write(dtype, true), `${family}-${dtype}-dequantized.gguf`);
    expect(quantized.spec).toEqual(twin.spec);
    expect([...quantized.tensors.keys()]).toEqual([...twin.tensors.keys()]);
    for (const [name, t] of quantized.tensors) {
      const want = twin.tensors.get(name)?.data ?? new Float32Array();
      expect([
        name,
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)),
      ]).toEqual([name, true]);
    }
  });
});
