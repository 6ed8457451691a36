/**
 * The GGUF loader reads a file by byte ranges, never whole: the header from its first bytes, each
 * tensor from its own range into a buffer of its size (issue #15 item 4). Checked structurally, by
 * every read the loader makes on the file handle, and by the result being the in-memory loader's.
 * Also: each weight at its stored precision (readStored) is, widened, exactly what readF32 gives.
 */
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { f32FromBf16Bytes, f32FromF16Bytes } from '../formats/half.js';
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { tokenizerMetadata } from '../tokenizer/gguf-tokenizer.js';
import { writeGeneratedModel } from './generate.js';
import { loadGguf, loadGgufBytes } from './gguf.js';
import { GgufNeedMoreBytes, parseGgufHeader } from './gguf-parse.js';
import { serializeGguf } from './gguf-serialize.js';
import { ggufArchitectureOf, ggufMetadataFromSpec } from './gguf-spec.js';
import { ggufTensorsFromCanonical } from './gguf-tensors.js';
import { tensorToWrite } from './gguf-write.js';
import { specFromHfConfig } from './hf/config.js';
import { randomWeights, writeHfModel } from './hf/generate-hf.js';
import { loadHfFolder } from './hf/load-hf.js';
import { hfFamilyPreset } from './hf/presets.js';
import { dequantize } from './quant/index.js';
import type { StoredDType, StoredTensor, WeightSource } from './weights.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-gguf-read-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** float32 values of a stored tensor, widened or dequantized */
function widen(t: StoredTensor): Float32Array {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  switch (t.dtype) {
    case 'f32':
      return t.data;
    case 'f16':
      return f32FromF16Bytes(bytes);
    case 'bf16':
      return f32FromBf16Bytes(bytes);
    default:
      return dequantize(
        t.dtype,
        t.data,
        t.dims.reduce((a, b) => a * b, 1),
      );
  }
}

async function expectStoredMatchesF32(weights: WeightSource, dtypes: StoredDType[]): Promise<void> {
  const seen = new Set<string>();
  for (const info of weights.list()) {
    const stored = await weights.readStored(info.name);
    expect([info.name, stored.dims]).toEqual([info.name, info.dims]);
    expect([info.name, Buffer.from(widen(stored).buffer).equals(Buffer.from((await weights.readF32(info.name)).slice().buffer))]).toEqual([
      info.name,
      true,
    ]);
    seen.add(stored.dtype);
  }
  for (const dtype of dtypes) expect(seen).toContain(dtype);
}

/** ≈ 6M parameters: the 1 MiB first header read is a small part of the file in every dtype */
const MEDIUM = {
  dim: 256,
  hiddenDim: 768,
  nLayers: 4,
  nHeads: 8,
  nKvHeads: 4,
  vocabSize: 1024,
  contextLength: 256,
  normEps: 1e-5,
  ropeTheta: 10000,
};

/** a phi3 GGUF (fused qkv and gate/up tensors, split at load) with every matrix in `dtype` */
function phi3Gguf(dtype: StoredDType): Uint8Array {
  const config = { ...hfFamilyPreset('phi3', 'tiny').config, hidden_size: 64, intermediate_size: 128 };
  const { spec } = specFromHfConfig(config, 'phi3 config');
  const tensors = [...ggufTensorsFromCanonical(spec, ggufArchitectureOf(spec), randomWeights(spec, 5))].map(([name, t]) =>
    tensorToWrite(name, t, dtype),
  );
  const { metadata, ropeFreqs } = ggufMetadataFromSpec(spec);
  if (ropeFreqs) tensors.push(tensorToWrite('rope_freqs.weight', { dims: [ropeFreqs.length], data: ropeFreqs }, 'f32'));
  return serializeGguf(new Map([...metadata, ...tokenizerMetadata(generatedTokenizerSpec(spec.vocabSize))]), tensors);
}

describe('loadGguf reads a file by byte ranges', () => {
  it.each(['f32', 'f16', 'q8_0'] as const)(
    '%s: no read is larger than a tensor or the header, and the model is the in-memory one',
    async (dtype) => {
      const file = path.join(dir, `demo-${dtype}.gguf`);
      await writeGeneratedModel(MEDIUM, 3, file, { dtype });
      const bytes = new Uint8Array(await readFile(file));
      const header = parseGgufHeader(bytes, file);

      const probe = await open(file, 'r');
      const handleProto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
      await probe.close();
      const reads: number[] = [];
      const original = handleProto.read;
      vi.spyOn(handleProto, 'read').mockImplementation(function (this: unknown, ...args: unknown[]) {
        reads.push(args[2] as number); // (buffer, offset, length, position)
        return original.apply(this, args);
      });
      const model = await loadGguf(file);
      vi.restoreAllMocks();

      const largestTensor = Math.max(...header.tensors.map((t) => t.byteLength));
      expect(reads.length).toBeGreaterThan(header.tensors.length); // the header, then tensor by tensor
      expect(Math.max(...reads)).toBeLessThanOrEqual(Math.max(largestTensor, Math.min(bytes.length, 1 << 20)));
      expect(Math.max(...reads)).toBeLessThan(bytes.length / 3);

      const inMemory = loadGgufBytes(bytes, file);
      expect(model.fingerprint).toBe(inMemory.fingerprint);
      expect(model.spec).toEqual(inMemory.spec);
      expect([...model.tensors.keys()]).toEqual([...inMemory.tensors.keys()]);
      for (const [name, t] of model.tensors) expect([name, t.data]).toEqual([name, inMemory.tensors.get(name)?.data]);
    },
  );

  it('reads a header longer than the first attempt by asking for the bytes it needs', () => {
    const bytes = phi3Gguf('f32');
    const whole = parseGgufHeader(bytes, 'p.gguf');
    let length = 64;
    let rounds = 0;
    for (;;) {
      try {
        expect(parseGgufHeader(bytes.subarray(0, length), 'p.gguf', bytes.length)).toEqual(whole);
        break;
      } catch (e) {
        expect(e).toBeInstanceOf(GgufNeedMoreBytes);
        expect((e as GgufNeedMoreBytes).needed).toBeGreaterThan(length);
        length = (e as GgufNeedMoreBytes).needed;
        rounds++;
      }
    }
    expect(rounds).toBeGreaterThan(2);
    expect(length).toBeLessThanOrEqual(whole.dataOffset);
    // a prefix is not a truncated file: the file's real end still is
    expect(() => parseGgufHeader(bytes.subarray(0, 64), 'p.gguf', 64)).toThrow(/p\.gguf: invalid GGUF.*truncated/);
  });
});

describe('readStored: each weight at its stored precision, in canonical layout', () => {
  it('GGUF f16 (llama q/k un-permuted as 16-bit rows)', async () => {
    const file = path.join(dir, 'tiny-f16.gguf');
    await writeGeneratedModel('tiny', 4, file, { dtype: 'f16' });
    await expectStoredMatchesF32((await loadGguf(file)).weights, ['f16', 'f32']);
  });

  it.each(['q8_0', 'q4_0', 'bf16'] as const)('GGUF phi3 %s (fused qkv and gate/up split as whole rows of blocks)', async (dtype) => {
    const file = path.join(dir, `phi3-${dtype}.gguf`);
    await writeFile(file, phi3Gguf(dtype));
    await expectStoredMatchesF32((await loadGguf(file)).weights, [dtype, 'f32']);
  });

  it.each(['bf16', 'f16'] as const)('Hugging Face gpt2 %s (Conv1D transposed, c_attn split, as 16-bit words)', async (dtype) => {
    const written = await writeHfModel(path.join(dir, `gpt2-${dtype}`), { family: 'gpt2', preset: 'tiny', seed: 3, dtype });
    await expectStoredMatchesF32((await loadHfFolder(written.dir)).weights, [dtype]);
  });
});
