import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReferenceFixture } from '../../../test/reference/fixtures.js';
import { referenceLogitError } from '../graph/reference-parity.js';
import { writeGeneratedModel } from './generate.js';
import { writeHfModel } from './hf/generate-hf.js';
import { loadModel } from './load-model.js';
import { families, type Family } from './spec.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ptune-load-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(families.map((f) => [f] as [Family]))('loadModel on a generated %s Hugging Face folder', (family) => {
  it('gives the spec, tokenizer and weights whose logits match the PyTorch reference', async () => {
    const fixture = loadReferenceFixture(family);
    const folder = join(dir, family);
    await writeHfModel(folder, { family, preset: fixture.preset, seed: fixture.seed, dtype: fixture.dtype });
    const model = await loadModel(folder);
    expect(model.source).toEqual({ kind: 'hf', dir: folder });
    expect(model.spec.family).toBe(family);
    expect(model.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(model.tokenizer.encode(fixture.text)).toEqual(fixture.ids);
    expect(await referenceLogitError(model, fixture, 'plain')).toBeLessThan(1e-4);
  });
});

describe('loadModel picks the reader by what the path is', () => {
  it('reads a GGUF file', async () => {
    const file = await writeGeneratedModel('tiny', 3, join(dir, 'tiny.gguf'));
    const model = await loadModel(file.path);
    expect(model.source).toEqual({ kind: 'gguf', path: file.path });
    expect(model.fingerprint).toBe(file.fingerprint);
    expect(model.spec.dim).toBe(file.config.dim);
  });

  it('refuses a folder whose config.json asks for math ptune does not implement, naming the field', async () => {
    const folder = join(dir, 'dynamic');
    await writeHfModel(folder, { family: 'llama', preset: 'tiny', seed: 1 });
    const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(folder, 'config.json'), JSON.stringify({ ...config, rope_scaling: { rope_type: 'dynamic', factor: 2 } }));
    await expect(loadModel(folder)).rejects.toThrow(/config\.json: rope_scaling.*"dynamic".*not supported/);
  });

  it('names a path that is neither a file nor a folder', async () => {
    await expect(loadModel(join(dir, 'nothing-here'))).rejects.toThrow(/nothing-here/);
  });
});
