import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_HF, writeHfFolder } from '../../../../test/support/hf-folder.js';
import { writeGeneratedModel } from '../../../engine/index.js';
import { loadModelSource, requireModelSource } from './load-model.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-cli-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--model', () => {
  it('loads a GGUF file', async () => {
    const file = path.join(dir, 'tiny.gguf');
    await writeGeneratedModel('tiny', 3, file);
    await requireModelSource(file);
    expect((await loadModelSource(file)).weights.config.dim).toBe(32);
  });

  it('refuses a missing path', async () => {
    await expect(requireModelSource(path.join(dir, 'nope.gguf'))).rejects.toThrow(/--model .*nope\.gguf does not exist/);
  });

  it("checks a folder with the registry's rules, naming the file and field", async () => {
    const folder = path.join(dir, 'hf');
    await mkdir(folder);
    await writeHfFolder(folder, SMALL_HF);
    await unlink(path.join(folder, 'model-00001-of-00002.safetensors'));
    await requireModelSource(folder);
    await expect(loadModelSource(folder)).rejects.toThrow(
      /--model .*hf: model\.safetensors\.index\.json \(weight_map\."[^"]+"\): names shard model-00001-of-00002\.safetensors, which is not in the folder/,
    );
  });
});
