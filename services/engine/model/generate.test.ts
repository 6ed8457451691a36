import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f16BitsToF32, roundToF16 } from '../formats/half.js';
import { generateLlama, parameterCount, presets, writeGeneratedModel } from './generate.js';
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { SpmTokenizer } from '../tokenizer/spm.js';
import { loadGguf } from './gguf.js';
import { writeGguf } from './gguf-write.js';
import { decoderModelFromLlama, pairsToHalves, type F32Tensor, type LlamaWeights } from './llama.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ptune-gen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function allTensors(w: LlamaWeights): F32Tensor[] {
  return [w.tokenEmbedding, w.outputNorm, w.output, ...w.layers.flatMap((l) => Object.values(l) as F32Tensor[])];
}

describe('generateLlama', () => {
  it('is deterministic per seed and has the configured shapes', () => {
    const c = presets.tiny.config;
    const a = generateLlama(c, 5, { tiedClassifier: false });
    const b = generateLlama(c, 5, { tiedClassifier: false });
    const other = generateLlama(c, 6, { tiedClassifier: false });
    expect(b).toEqual(a);
    expect(other.layers[0].wq.data).not.toEqual(a.layers[0].wq.data);
    expect(a.layers[1].wk.dims).toEqual([16, 32]);
    expect(a.layers[1].w2.dims).toEqual([32, 96]);
    expect(a.output).not.toBe(a.tokenEmbedding);
    for (const t of allTensors(a)) expect(t.data.every(Number.isFinite)).toBe(true);
  });

  it('ties the classifier by default', () => {
    const w = generateLlama(presets.tiny.config, 1);
    expect(w.output).toBe(w.tokenEmbedding);
    expect(parameterCount(w)).toBe(parameterCount(generateLlama(presets.tiny.config, 1, { tiedClassifier: false })) - 320 * 32);
  });

  it('rejects impossible configs with the reason', () => {
    expect(() => generateLlama({ ...presets.tiny.config, nKvHeads: 3 }, 0)).toThrow(/nHeads 4 must be a multiple of nKvHeads 3/);
    expect(() => generateLlama({ ...presets.tiny.config, dim: 36 }, 0)).toThrow(/head size 9 must be even/);
  });

  it('counts ~85M block parameters in the bench preset', () => {
    const c = presets.bench85m.config;
    const perLayer = 4 * c.dim * c.dim + 3 * c.dim * c.hiddenDim + 2 * c.dim;
    expect(perLayer * c.nLayers).toBeGreaterThan(84e6);
    expect(perLayer * c.nLayers).toBeLessThan(86e6);
  });
});

describe('GGUF writer round trip', () => {
  it('loads back identical f32 weights and tokenizer, with the written fingerprint', async () => {
    const path = join(dir, 'tiny.gguf');
    const file = await writeGeneratedModel('tiny', 11, path);
    const weights = generateLlama(presets.tiny.config, 11, { tiedClassifier: false });
    const loaded = await loadGguf(path);
    expect(loaded.fingerprint).toBe(file.fingerprint);
    expect(loaded.tensors).toEqual(decoderModelFromLlama(weights).tensors);
    expect(loaded.tokenizer).toBeInstanceOf(SpmTokenizer);
    expect((loaded.tokenizer as SpmTokenizer).toSpec()).toEqual(generatedTokenizerSpec(320));
    expect(file.parameterCount).toBe(parameterCount(weights));
    const text = 'The dog ran to the lake, and Zoë said "hi"!\n';
    const ids = loaded.tokenizer.encode(text, { addBos: true });
    expect(ids[0]).toBe(1);
    expect(loaded.tokenizer.decode(ids)).toBe(text);
  });

  it('keeps a tied classifier tied', async () => {
    const path = join(dir, 'tied.gguf');
    const w = generateLlama(presets.tiny.config, 2);
    await writeGguf(path, w, generatedTokenizerSpec(320));
    const loaded = await loadGguf(path);
    expect(loaded.spec.embedding.tied).toBe(true);
    expect(loaded.tensors).toEqual(decoderModelFromLlama(w).tensors);
  });

  it('stores matrices as f16 on request (norms stay f32)', async () => {
    const path = join(dir, 'half.gguf');
    const w = generateLlama(presets.tiny.config, 3, { tiedClassifier: false });
    const f32Size = (await writeGguf(join(dir, 'full.gguf'), w, generatedTokenizerSpec(320))).bytes;
    const { bytes } = await writeGguf(path, w, generatedTokenizerSpec(320), { dtype: 'f16' });
    expect(bytes).toBeLessThan(f32Size);
    const loaded = (await loadGguf(path)).tensors;
    const hs = presets.tiny.config.dim / presets.tiny.config.nHeads;
    expect(loaded.get('layers.0.q_proj.weight')?.data).toEqual(pairsToHalves(roundToF16(w.layers[0].wq.data), presets.tiny.config.dim, hs));
    expect(loaded.get('layers.0.v_proj.weight')?.data).not.toEqual(w.layers[0].wv.data);
    expect(loaded.get('layers.0.input_norm.weight')?.data).toEqual(w.layers[0].attnNorm.data);
  });

  it('writes byte-identical files for the same seed', async () => {
    const a = await writeGeneratedModel('tiny', 9, join(dir, 'a.gguf'));
    const b = await writeGeneratedModel('tiny', 9, join(dir, 'b.gguf'));
    const c = await writeGeneratedModel('tiny', 10, join(dir, 'c.gguf'));
    expect(await readFile(b.path)).toEqual(await readFile(a.path));
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('writes files an independent GGUF parser (@huggingface/gguf) reads the same way', async () => {
    const path = join(dir, 'independent.gguf');
    const w = generateLlama(presets.tiny.config, 4, { tiedClassifier: false });
    await writeGguf(path, w, generatedTokenizerSpec(320), { dtype: 'f16' });
    const parsed = await gguf(path, { allowLocalFile: true });
    const meta = parsed.metadata as Record<string, unknown>;
    expect(meta['general.architecture']).toBe('llama');
    expect(meta['llama.block_count']).toBe(2);
    expect(meta['llama.attention.head_count_kv']).toBe(2);
    expect((meta['tokenizer.ggml.tokens'] as string[]).length).toBe(320);
    const q = parsed.tensorInfos.find((t) => t.name === 'blk.1.attn_q.weight');
    expect(q?.shape.map(Number)).toEqual([32, 32]);
    expect(q?.dtype).toBe(1); // F16
    const raw = await readFile(path);
    const start = Number(parsed.tensorDataOffset) + Number(q?.offset);
    const halves = new Uint16Array(raw.buffer.slice(raw.byteOffset + start, raw.byteOffset + start + 32 * 32 * 2));
    expect(roundToF16(w.layers[1].wq.data)).toEqual(new Float32Array(Array.from(halves, (h) => f16BitsToF32(h))));
  });

  it('refuses a tokenizer that does not match the vocabulary size', async () => {
    await expect(writeGguf(join(dir, 'x.gguf'), generateLlama(presets.tiny.config, 1), generatedTokenizerSpec(400))).rejects.toThrow(
      /400 pieces but the model's vocabSize is 320/,
    );
  });
});
