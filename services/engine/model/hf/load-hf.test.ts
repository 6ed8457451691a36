import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { f32FromBf16Bytes, f32ToBf16Bytes, roundToF16 } from '../../formats/half.js';
import { readSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../../formats/safetensors.js';
import { families, type Family } from '../spec.js';
import { writeHfModel, type WrittenHfModel } from './generate-hf.js';
import { hfFolderFingerprint } from './fingerprint.js';
import { loadHfFolder } from './load-hf.js';

const work = await mkdtemp(join(tmpdir(), 'ptune-hf-'));
afterAll(() => rm(work, { recursive: true, force: true }));
let n = 0;
const fresh = (family: Family, options: { shards?: number; dtype?: 'f32' | 'f16' | 'bf16' } = {}): Promise<WrittenHfModel> =>
  writeHfModel(join(work, `${family}-${n++}`), { family, preset: 'tiny', seed: 11, ...options });

async function editJson(path: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(json);
  await writeFile(path, JSON.stringify(json));
}

/** rewrites a safetensors file through `edit` on its float32 tensors (keeps the dtype F32) */
async function editTensors(path: string, edit: (t: Record<string, TensorToWrite>) => void): Promise<void> {
  const file = readSafetensors(await readFile(path));
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, t] of Object.entries(file.tensors)) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.bytes.slice() };
  edit(tensors);
  await writeFile(path, writeSafetensors(tensors, file.metadata));
}

describe('Hugging Face folders: generated → loaded', () => {
  it.each(families)('%s: spec and every canonical weight round-trip exactly (f32, 2 shards)', async (family) => {
    const written = await fresh(family, { shards: 2 });
    expect(written.files).toContain('model.safetensors.index.json');
    const loaded = await loadHfFolder(written.dir);
    expect(loaded.spec).toEqual(written.spec);
    const listed = loaded.weights.list();
    expect(listed.map((w) => w.name).sort()).toEqual([...written.weights.keys()].sort());
    for (const info of listed) {
      expect(info.stored).toBe('f32');
      const expected = written.weights.get(info.name);
      expect(info.dims).toEqual(expected?.dims);
      expect(await loaded.weights.readF32(info.name)).toEqual(expected?.data);
    }
    expect(loaded.files).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'tokenizer_config.json']));
  });

  it('f16 and bf16 folders widen to the rounded values', async () => {
    for (const dtype of ['f16', 'bf16'] as const) {
      const written = await fresh('qwen2', { dtype });
      const loaded = await loadHfFolder(written.dir);
      const name = 'layers.1.k_proj.bias';
      const exact = written.weights.get(name)?.data as Float32Array;
      const rounded = dtype === 'f16' ? roundToF16(exact) : f32FromBf16Bytes(f32ToBf16Bytes(exact));
      expect(await loaded.weights.readF32(name)).toEqual(rounded);
      expect(loaded.weights.list().find((w) => w.name === name)?.stored).toBe(dtype);
    }
  });

  it('splits Phi-3 fused qkv / gate_up and un-transposes GPT-2 Conv1D against the stored bytes', async () => {
    const phi = await fresh('phi3');
    const stored = readSafetensors(await readFile(join(phi.dir, 'model.safetensors')));
    expect(stored.tensors['model.layers.0.self_attn.qkv_proj.weight'].shape).toEqual([4 * 8 + 2 * 2 * 8, 32]);
    expect(stored.tensors['model.layers.0.mlp.gate_up_proj.weight'].shape).toEqual([128, 32]);
    const loaded = await loadHfFolder(phi.dir);
    const fused = tensorToFloat32(stored.tensors['model.layers.0.mlp.gate_up_proj.weight']);
    expect(await loaded.weights.readF32('layers.0.up_proj.weight')).toEqual(fused.slice(64 * 32));
    // parts of a fused tensor in any order, twice, and interleaved with other tensors
    for (const name of [
      'layers.0.v_proj.weight',
      'layers.1.q_proj.weight',
      'layers.0.q_proj.weight',
      'layers.0.v_proj.weight',
      'layers.0.k_proj.weight',
      'layers.0.gate_proj.weight',
    ]) {
      expect(await loaded.weights.readF32(name), name).toEqual(phi.weights.get(name)?.data);
    }

    const gpt = await fresh('gpt2');
    const g = readSafetensors(await readFile(join(gpt.dir, 'model.safetensors')));
    const cFc = g.tensors['transformer.h.1.mlp.c_fc.weight'];
    expect(cFc.shape).toEqual([32, 64]); // Conv1D: [in, out]
    const conv = tensorToFloat32(cFc);
    const up = await (await loadHfFolder(gpt.dir)).weights.readF32('layers.1.up_proj.weight');
    expect(up[5 * 32 + 7]).toBe(conv[7 * 64 + 5]); // canonical [out, in]
  });

  it('fingerprints the folder as the registry does: sha256 of the sorted sha256sum manifest', async () => {
    const w = await fresh('qwen2', { shards: 2 });
    const loaded = await loadHfFolder(w.dir);
    const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
    let manifest = '';
    for (const f of [...loaded.files].sort()) manifest += `${sha(await readFile(join(w.dir, f)))}  ${f}\n`;
    expect(loaded.files).toContain('model-00002-of-00002.safetensors');
    expect(await hfFolderFingerprint(w.dir, loaded.files)).toBe(sha(manifest));
  });

  it('reads the chat template and tokenizer files', async () => {
    const written = await fresh('llama');
    await editJson(join(written.dir, 'tokenizer_config.json'), (j) => {
      j.chat_template = '{{ messages[0].content }}';
    });
    const loaded = await loadHfFolder(written.dir);
    expect(loaded.chatTemplate).toBe('{{ messages[0].content }}');
    expect((loaded.tokenizerFiles.config as { add_bos_token: boolean }).add_bos_token).toBe(true);
  });
});

describe('Hugging Face folders: other checkpoint namings', () => {
  /** renames every tensor through `rename` (undefined drops it) and adds `extra` */
  async function rename(path: string, renameTo: (name: string) => string, extra: Record<string, TensorToWrite>): Promise<void> {
    await editTensors(path, (t) => {
      for (const name of Object.keys(t)) {
        const to = renameTo(name);
        if (to !== name) {
          t[to] = t[name];
          delete t[name];
        }
      }
      Object.assign(t, extra);
    });
  }

  it('multimodal Gemma 3: text_config and model.language_model.*, vision tensors ignored', async () => {
    const w = await fresh('gemma3');
    await rename(join(w.dir, 'model.safetensors'), (n) => n.replace(/^model\./, 'model.language_model.'), {
      'model.vision_tower.patch_embedding.weight': { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) },
    });
    await editJson(join(w.dir, 'config.json'), (j) => {
      const text = { ...j, model_type: 'gemma3_text' };
      for (const k of Object.keys(j)) delete j[k];
      Object.assign(j, { model_type: 'gemma3', architectures: ['Gemma3ForConditionalGeneration'], text_config: text, vision_config: {} });
    });
    const loaded = await loadHfFolder(w.dir);
    expect(loaded.spec).toEqual(w.spec);
    expect(await loaded.weights.readF32('layers.1.q_norm.weight')).toEqual(w.weights.get('layers.1.q_norm.weight')?.data);
  });

  it("GPT-2's original names (no transformer. prefix) and its causal-mask buffers", async () => {
    const w = await fresh('gpt2');
    await rename(join(w.dir, 'model.safetensors'), (n) => n.replace(/^transformer\./, ''), {
      'h.0.attn.bias': { dtype: 'F32', shape: [1, 1, 4, 4], data: new Float32Array(16) },
    });
    const loaded = await loadHfFolder(w.dir);
    expect(await loaded.weights.readF32('layers.0.q_proj.bias')).toEqual(w.weights.get('layers.0.q_proj.bias')?.data);
  });
});

describe('Hugging Face folders: bad input is refused with the file and field', () => {
  it('a shard the index names is missing', async () => {
    const w = await fresh('llama', { shards: 2 });
    await unlink(join(w.dir, 'model-00002-of-00002.safetensors'));
    await expect(loadHfFolder(w.dir)).rejects.toThrow(/model-00002-of-00002\.safetensors: weight file is missing/);
  });

  it('the index puts a tensor in the wrong shard', async () => {
    const w = await fresh('llama', { shards: 2 });
    await editJson(join(w.dir, 'model.safetensors.index.json'), (j) => {
      (j.weight_map as Record<string, string>)['model.embed_tokens.weight'] = 'model-00002-of-00002.safetensors';
    });
    await expect(loadHfFolder(w.dir)).rejects.toThrow(
      /tensor "model\.embed_tokens\.weight" is here but model\.safetensors\.index\.json puts it in model-00002/,
    );
  });

  it('an extra unknown file (weights nobody would read)', async () => {
    const w = await fresh('mistral');
    await writeFile(join(w.dir, 'pytorch_model.bin'), 'x');
    await expect(loadHfFolder(w.dir)).rejects.toThrow(/unexpected entry pytorch_model\.bin/);
  });

  it('a tensor of the wrong shape', async () => {
    const w = await fresh('qwen3');
    await editTensors(join(w.dir, 'model.safetensors'), (t) => {
      t['model.layers.0.self_attn.q_norm.weight'].shape = [4, 4];
    });
    await expect(loadHfFolder(w.dir)).rejects.toThrow(
      /model\.safetensors: tensor "model\.layers\.0\.self_attn\.q_norm\.weight" has shape \[4, 4\], config\.json implies \[16\]/,
    );
  });

  it('a tensor the config does not explain', async () => {
    const w = await fresh('llama');
    await editTensors(join(w.dir, 'model.safetensors'), (t) => {
      t['model.layers.0.self_attn.q_proj.bias'] = { dtype: 'F32', shape: [32], data: new Float32Array(32) };
    });
    await expect(loadHfFolder(w.dir)).rejects.toThrow(/tensors a llama model does not use: model\.layers\.0\.self_attn\.q_proj\.bias/);
  });

  it('a safetensors header that lies about offsets', async () => {
    const w = await fresh('gemma');
    const path = join(w.dir, 'model.safetensors');
    const bytes = await readFile(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = bytes.subarray(8, 8 + headerLength).toString('utf8');
    const lie = header.replace(/"data_offsets":\[0,(\d+)\]/, (_, end: string) => `"data_offsets":[0,${Number(end) + 4}]`);
    expect(lie).not.toBe(header);
    bytes.write(lie.padEnd(headerLength, ' '), 8, 'utf8');
    await writeFile(path, bytes);
    await expect(loadHfFolder(w.dir)).rejects.toThrow(
      /model\.safetensors: invalid safetensors: tensor ".*" is F32 .* but its offsets span/,
    );
  });

  it('an unknown model_type and an unknown rope_scaling type', async () => {
    const w = await fresh('llama');
    const config = join(w.dir, 'config.json');
    await editJson(config, (j) => {
      j.rope_scaling = { rope_type: 'dynamic', factor: 2 };
    });
    await expect(loadHfFolder(w.dir)).rejects.toThrow(
      /config\.json: rope_scaling\.rope_type "dynamic" is not supported \(supported: linear, llama3, yarn\)/,
    );
    await editJson(config, (j) => {
      j.model_type = 'mamba';
    });
    await expect(loadHfFolder(w.dir)).rejects.toThrow(/config\.json: model_type "mamba" is not supported/);
  });

  it('a weight file cut short after it was opened', async () => {
    const w = await fresh('qwen2');
    const loaded = await loadHfFolder(w.dir);
    const path = join(w.dir, 'model.safetensors');
    await writeFile(path, (await readFile(path)).subarray(0, 2000));
    await expect(loaded.weights.readF32('layers.1.down_proj.weight')).rejects.toThrow(/model\.safetensors: tensor ".*" was cut short/);
  });

  it('tokenizer.json or config.json missing', async () => {
    const w = await fresh('gpt2');
    await unlink(join(w.dir, 'tokenizer.json'));
    await expect(loadHfFolder(w.dir)).rejects.toThrow(/tokenizer\.json is missing/);
    await unlink(join(w.dir, 'config.json'));
    await expect(loadHfFolder(w.dir)).rejects.toThrow(/config\.json is missing/);
  });
});
