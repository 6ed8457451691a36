import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { writeHfModel } from '../../services/engine/model/hf/generate-hf.js';
import { loadHfFolder } from '../../services/engine/model/hf/load-hf.js';
import { HfTokenizer } from '../../services/engine/tokenizer/hf-tokenizer.js';
import { families } from '../../services/engine/model/spec.js';
import { loadReferenceFixture } from './fixtures.js';

const work = await mkdtemp(join(tmpdir(), 'ptune-reference-'));
afterAll(() => rm(work, { recursive: true, force: true }));

describe('committed PyTorch reference outputs', () => {
  it.each(families)('%s: the generator rebuilds the exact model, and the reference agreed with transformers', async (family) => {
    const f = loadReferenceFixture(family);
    const written = await writeHfModel(join(work, family), { family, preset: f.preset, seed: f.seed, dtype: f.dtype });
    const hash = createHash('sha256');
    for (const file of written.files.filter((n) => n.endsWith('.safetensors')).sort()) hash.update(await readFile(join(written.dir, file)));
    expect(hash.digest('hex')).toBe(f.weightsSha256);
    // the folder's tokenizer.json, read by the engine, gives the ids transformers gave
    const tokenizer = new HfTokenizer((await loadHfFolder(written.dir)).tokenizerFiles);
    expect(tokenizer.encode(f.text)).toEqual(f.ids);
    expect(tokenizer.decode(f.ids)).toBe(f.text);
    expect([written.spec.dim, written.spec.vocabSize, written.spec.nLayers, written.spec.nKvHeads, written.spec.headDim]).toEqual([
      f.dim,
      f.vocabSize,
      f.nLayers,
      f.nKvHeads,
      f.headDim,
    ]);
    for (const err of Object.values(f.crossCheck)) expect(err).toBeLessThan(1e-5);
    for (const logits of Object.values(f.logits)) expect(logits.every(Number.isFinite)).toBe(true);
    // the three cases really differ at the first token (which sees the whole prompt or prefix even
    // through a sliding window): a prompt or prefix that changed nothing would test nothing
    const row = (a: Float32Array, r: number): Float32Array => a.subarray(r * f.vocabSize, (r + 1) * f.vocabSize);
    const diff = (a: Float32Array, b: Float32Array): number => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    expect(diff(row(f.logits.plain, 0), row(f.logits.prompt, f.prompt.length))).toBeGreaterThan(1e-3);
    expect(diff(row(f.logits.plain, 0), row(f.logits.prefix, 0))).toBeGreaterThan(1e-3);
  });
});
