/**
 * readTokenEmbedding against the full model loader on the same files (GGUF plain and quantized,
 * HF folders single-file and sharded, bf16), read through tiny stream chunks so byte ranges span
 * chunk boundaries; nearestTokens against a float64 brute force.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGeneratedModel } from './generate.js';
import { writeHfModel } from './hf/generate-hf.js';
import { loadModel } from './load-model.js';
import { Rng } from './rng.js';
import { nearestTokens, readTokenEmbedding, type ModelFileStream } from './token-embedding.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-token-embedding-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function streams(files: string[], root: string): Promise<ModelFileStream[]> {
  return Promise.all(
    files.map(async (file) => ({
      path: file,
      size: (await stat(path.join(root, file))).size,
      open: async () => createReadStream(path.join(root, file), { highWaterMark: 997 }),
    })),
  );
}

async function expectSameAsLoader(modelPath: string, files: ModelFileStream[]): Promise<void> {
  const table = await readTokenEmbedding(files);
  // f32: the file's own values (auto would hold a quantized file in the engine's q8/q4 blocks)
  const model = await loadModel(modelPath, 'f32');
  const embedding = model.tensors.get('embed_tokens.weight')!;
  expect([table.vocabSize, table.dim]).toEqual(embedding.dims);
  expect(table.rows).toEqual(embedding.data);
  expect(table.tokens).toEqual(Array.from({ length: table.vocabSize }, (_, id) => model.tokenizer.tokenText(id)));
}

describe('readTokenEmbedding', () => {
  for (const dtype of ['f32', 'f16', 'q8_0', 'q4_k'] as const) {
    it(`reads token_embd from a ${dtype} GGUF exactly as the model loader does`, async () => {
      const file = path.join(dir, `tiny-${dtype}.gguf`);
      await writeGeneratedModel('tiny', 3, file, { dtype });
      await expectSameAsLoader(file, await streams([path.basename(file)], dir));
    });
  }

  for (const shards of [1, 2]) {
    it(`reads the embedding of a bf16 Hugging Face folder in ${shards} shard(s) with tokenizer.json's vocabulary`, async () => {
      const folder = path.join(dir, `hf-${shards}`);
      await writeHfModel(folder, { family: 'llama', preset: 'tiny', seed: 5, dtype: 'bf16', shards });
      await expectSameAsLoader(folder, await streams(await readdir(folder), folder));
    });
  }

  it('names the file at fault: a GGUF shorter than its header says, a folder without tokenizer.json', async () => {
    const [gguf] = await streams(['tiny-f32.gguf'], dir);
    await expect(readTokenEmbedding([{ ...gguf!, size: gguf!.size - 100 }])).rejects.toThrow(/tiny-f32\.gguf/);
    await expect(readTokenEmbedding(await streams(['config.json', 'model.safetensors'], path.join(dir, 'hf-1')))).rejects.toThrow(
      /no tokenizer\.json/,
    );
  });
});

describe('nearestTokens', () => {
  it('ranks the vocabulary by cosine similarity as a float64 brute force does', () => {
    const rng = Rng.fromSeed(11);
    const random = (): number => rng.nextFloat();
    const vocabSize = 300;
    const dim = 24;
    const rows = Float32Array.from({ length: vocabSize * dim }, () => random() - 0.5);
    const tokens = Array.from({ length: vocabSize }, (_, i) => `t${i}`);
    const vectors = Float32Array.from({ length: 3 * dim }, () => random() - 0.5);
    vectors.set(rows.subarray(7 * dim, 8 * dim), dim); // row 1 is token 7's embedding: its own nearest, cosine 1
    const got = nearestTokens({ vocabSize, dim, rows, tokens }, vectors, 4);
    expect(got[1]![0]!.id).toBe(7);
    expect(got[1]![0]!.cosine).toBeCloseTo(1, 12);
    for (let r = 0; r < 3; r++) {
      const v = vectors.subarray(r * dim, (r + 1) * dim);
      const reference = Array.from({ length: vocabSize }, (_, t) => {
        let dot = 0;
        let a = 0;
        let b = 0;
        for (let j = 0; j < dim; j++) {
          dot += v[j]! * rows[t * dim + j]!;
          a += v[j]! * v[j]!;
          b += rows[t * dim + j]! * rows[t * dim + j]!;
        }
        return { id: t, cosine: dot / Math.sqrt(a * b) };
      }).sort((x, y) => y.cosine - x.cosine);
      expect(got[r]!.map((n) => n.id)).toEqual(reference.slice(0, 4).map((n) => n.id));
      got[r]!.forEach((n, i) => expect(n.cosine).toBeCloseTo(reference[i]!.cosine, 10));
      expect(got[r]!.map((n) => n.text)).toEqual(got[r]!.map((n) => `t${n.id}`));
    }
  });

  it('refuses vectors that are not whole rows of the model width', () => {
    const table = { vocabSize: 2, dim: 4, rows: new Float32Array(8), tokens: ['a', 'b'] };
    expect(() => nearestTokens(table, new Float32Array(6), 1)).toThrow(/width 4/);
  });
});
