import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SMALL_HF, writeHfFolder } from '../../test/support/hf-folder.js';
import { writeGeneratedModel } from '../engine/index.js';
import { describeModelSource, folderManifest, manifestFingerprint } from './model-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-model-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string): string => path.join(dir, name);
const editJson = async (name: string, edit: (value: Record<string, unknown>) => void): Promise<void> => {
  const value = JSON.parse(await readFile(file(name), 'utf8')) as Record<string, unknown>;
  edit(value);
  await writeFile(file(name), JSON.stringify(value));
};

describe('describeModelSource', () => {
  it('describes a sharded HF folder from its config and tokenizer without reading the weights', async () => {
    await writeHfFolder(dir, SMALL_HF);
    expect(await describeModelSource(dir)).toEqual({
      format: 'hf_folder',
      architecture: {
        family: 'llama',
        hiddenSize: 32,
        numLayers: 2,
        numAttentionHeads: 4,
        numKeyValueHeads: 2,
        vocabSize: 320,
        contextLength: 128,
        headDim: 8,
      },
      tokenizerKind: 'byte_level_bpe',
    });
  });

  it('describes a single-file HF folder and a GGUF file', async () => {
    await writeHfFolder(dir, { ...SMALL_HF, shards: 1 });
    expect((await describeModelSource(dir)).format).toBe('hf_folder');
    const gguf = path.join(await mkdtemp(path.join(os.tmpdir(), 'ptune-gguf-')), 'tiny.gguf');
    try {
      await writeGeneratedModel('tiny', 7, gguf);
      expect(await describeModelSource(gguf)).toMatchObject({
        format: 'gguf',
        tokenizerKind: 'sentencepiece',
        architecture: { family: 'llama', hiddenSize: 32 },
      });
    } finally {
      await rm(path.dirname(gguf), { recursive: true, force: true });
    }
  });

  const refusals: [string, () => Promise<void>, RegExp][] = [
    [
      'a shard the index names is missing',
      () => unlink(file('model-00002-of-00002.safetensors')),
      /model-00002-of-00002\.safetensors: weight file is missing/,
    ],
    [
      'an unknown extra file',
      () => writeFile(file('notes.txt'), 'hi'),
      /notes\.txt \(path\): is not a file of a Hugging Face checkpoint folder/,
    ],
    [
      'a shard the index does not name',
      () => writeFile(file('model-00003-of-00002.safetensors'), tinySafetensors('extra.weight')),
      /folder: unexpected entry model-00003-of-00002\.safetensors \(weights are read only from the shards model\.safetensors\.index\.json names; remove what is not part of the model\)/,
    ],
    [
      'a shard that is not safetensors',
      () => writeFile(file('model-00002-of-00002.safetensors'), Buffer.from('0800000000000000', 'hex')),
      /model-00002-of-00002\.safetensors: invalid safetensors: header length 8 exceeds the 0 bytes after it/,
    ],
    ['config.json is missing', () => unlink(file('config.json')), /config\.json: is missing from the folder/],
    ['tokenizer.json is missing', () => unlink(file('tokenizer.json')), /tokenizer\.json: is missing from the folder/],
    ['a config without hidden_size', () => editJson('config.json', (c) => delete c.hidden_size), /config\.json: hidden_size is missing/],
    [
      'a config whose heads do not divide',
      () => editJson('config.json', (c) => (c.num_key_value_heads = 3)),
      /config\.json: invalid model spec: nHeads 4 must be a multiple of nKvHeads 3/,
    ],
    [
      'a tokenizer of an unknown model kind',
      () => editJson('tokenizer.json', (t) => ((t.model as Record<string, unknown>).type = 'WordLevel')),
      /tokenizer\.json model\.type "WordLevel" is not supported \(supported: BPE, Unigram\)/,
    ],
    [
      'an embedding whose shape disagrees with config.json',
      () => editJson('config.json', (c) => (c.vocab_size = 65)),
      /model-00001-of-00002\.safetensors: tensor "model\.embed_tokens\.weight" has shape \[320, 32\], config\.json implies \[65, 32\]/,
    ],
    [
      'a tensor the index places in the wrong shard',
      () =>
        editJson(
          'model.safetensors.index.json',
          (i) => ((i.weight_map as Record<string, string>)['lm_head.weight'] = 'model-00001-of-00002.safetensors'),
        ),
      /model-00002-of-00002\.safetensors: tensor "lm_head\.weight" is here but model\.safetensors\.index\.json puts it in model-00001-of-00002\.safetensors/,
    ],
    [
      'generation_config.json that is not JSON',
      () => writeFile(file('generation_config.json'), '{'),
      /generation_config\.json: not valid JSON/,
    ],
    [
      'a shard whose header lies about offsets',
      () => truncateBy('model-00002-of-00002.safetensors', 2),
      /model-00002-of-00002\.safetensors: invalid safetensors: tensor "[^"]+" ends at \d+, past the \d+-byte data section/,
    ],
    [
      'a shard with an unsupported dtype',
      () => retypeFirstTensor('model-00001-of-00002.safetensors', 'I8'),
      /model-00001-of-00002\.safetensors: invalid safetensors: tensor "model\.embed_tokens\.weight" is I8/,
    ],
  ];
  it.each(refusals)('refuses a folder where %s, naming the file and field', async (_, damage, message) => {
    await writeHfFolder(dir, SMALL_HF);
    await damage();
    await expect(describeModelSource(dir)).rejects.toThrow(message);
  });
});

async function truncateBy(name: string, bytes: number): Promise<void> {
  const handle = await open(file(name), 'r+');
  try {
    await handle.truncate((await handle.stat()).size - bytes);
  } finally {
    await handle.close();
  }
}

/** A valid one-tensor safetensors file (F16, shape [1]). */
function tinySafetensors(tensor: string): Buffer {
  const header = Buffer.from(JSON.stringify({ [tensor]: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([prefix, header, Buffer.alloc(2)]);
}

/** Rewrites the first tensor's dtype in place (same header length: "F16" → "I8 "). */
async function retypeFirstTensor(name: string, dtype: string): Promise<void> {
  const bytes = await readFile(file(name));
  const at = bytes.indexOf('"F16"');
  bytes.write(`"${dtype}"`.padEnd(5, ' '), at);
  await writeFile(file(name), bytes);
}

describe('folderManifest', () => {
  it('is what `sha256sum` prints for the folder, sorted by path, and fingerprints it', async () => {
    const names = await writeHfFolder(dir, SMALL_HF);
    const sums = execFileSync('sh', ['-c', 'sha256sum "$@"', 'sh', ...names], { cwd: dir, encoding: 'utf8' });
    const entries = sums
      .trim()
      .split('\n')
      .map((line) => ({ sha256: line.slice(0, 64), path: line.slice(66) }));
    const expected = [...sums.trim().split('\n')].sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)).join('\n') + '\n';
    expect(folderManifest(entries.reverse())).toBe(expected);
    const independent = execFileSync('sh', ['-c', 'sha256sum * | LC_ALL=C sort -k2 | sha256sum'], { cwd: dir, encoding: 'utf8' }).slice(
      0,
      64,
    );
    expect(manifestFingerprint(folderManifest(entries))).toBe(independent);
  });
});
