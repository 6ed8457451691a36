/** RegisterBaseModel with a Hugging Face folder: every file stored (streamed), the manifest fingerprint, refusals that store nothing. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightsFormat, TokenizerKind } from '../../services/gen/ptune/v1/registry_pb.js';
import { modelUpload, type LocalModel } from '../../services/client/index.js';
import { folderManifest, manifestFingerprint } from '../../services/registry/model-files.js';
import { SMALL_HF, writeHfFolder } from '../support/hf-folder.js';
import { BACKENDS, startBackend, type RegistryBackend } from './backends.js';
import { expectRpcError } from './expect-rpc.js';
import { registerTiny, tinyModelBytes } from './fixtures.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function localFolder(dir: string, names: string[]): Promise<LocalModel> {
  const files = await Promise.all(
    names.map(async (name) => ({ path: name, file: path.join(dir, name), size: (await stat(path.join(dir, name))).size })),
  );
  return { folder: true, files };
}

describe.each(BACKENDS)('HF folder models on %s', (backendName) => {
  let backend: RegistryBackend;
  let dir: string;
  let names: string[];

  beforeAll(async () => {
    backend = await startBackend(backendName);
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-hf-'));
    names = await writeHfFolder(dir, SMALL_HF);
  });
  afterAll(async () => {
    await backend?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores every file as its own blob, lists them, and fingerprints the folder by its manifest', async () => {
    const response = await backend.client.registerBaseModel(modelUpload('small-hf', await localFolder(dir, names), 'test'));
    expect(response.created).toBe(true);
    const model = response.baseModel!;
    expect(model.weightsFormat).toBe(WeightsFormat.HF_FOLDER);
    expect(model.tokenizerKind).toBe(TokenizerKind.BYTE_LEVEL_BPE);
    expect(model.architecture).toMatchObject({
      family: 'llama',
      hiddenSize: 32,
      numLayers: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      vocabSize: 320,
      contextLength: 128,
    });

    const expected = await Promise.all(names.map(async (name) => ({ path: name, bytes: await readFile(path.join(dir, name)) })));
    expect(model.files.map((f) => [f.path, f.sha256, Number(f.sizeBytes), f.blobKey])).toEqual(
      expected.map((e) => [e.path, sha256(e.bytes), e.bytes.byteLength, `model/${sha256(e.bytes)}`]),
    );
    for (const e of expected) expect(Buffer.from(await backend.blobs.get(`model/${sha256(e.bytes)}`))).toEqual(e.bytes);

    const manifest = folderManifest(expected.map((e) => ({ path: e.path, sha256: sha256(e.bytes) })));
    expect(model.fingerprintSha256).toBe(manifestFingerprint(manifest));
    expect(model.weightsBlobKey).toBe(`model/${model.fingerprintSha256}`);
    expect(Buffer.from(await backend.blobs.get(model.weightsBlobKey)).toString('utf8')).toBe(manifest);
    expect(model.weightsSizeBytes).toBe(BigInt(expected.reduce((sum, e) => sum + e.bytes.byteLength, 0)));

    const again = await backend.client.registerBaseModel(modelUpload('small-hf', await localFolder(dir, names), 'test'));
    expect(again.created).toBe(false);
    expect((await backend.client.getBaseModel({ name: 'small-hf' })).baseModel?.files).toEqual(model.files);
  });

  it('lists the one file of a GGUF model', async () => {
    await registerTiny(backend.client, 'tiny-gguf');
    const bytes = await tinyModelBytes();
    const { baseModel } = await backend.client.getBaseModel({ name: 'tiny-gguf' });
    expect(baseModel?.files.map((f) => [f.path, f.sha256, f.sizeBytes, f.blobKey])).toEqual([
      ['model.gguf', sha256(bytes), BigInt(bytes.byteLength), `model/${sha256(bytes)}`],
    ]);
  });

  it('reads weights already stored (weights_blob_key) streamed from the store, and checks them like an upload', async () => {
    const key = `model/${sha256(await tinyModelBytes())}`;
    await expectRpcError(
      backend.client.registerBaseModel([{ part: { case: 'header', value: { name: 'tiny-again', weightsBlobKey: key } } }]),
      status.ALREADY_EXISTS,
      'are already registered as "tiny-gguf"',
    );
  });

  it('refuses a folder missing a shard its index names, and stores nothing', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'ptune-hf-'));
    try {
      const written = await writeHfFolder(other, { ...SMALL_HF, vocab: 300 });
      await unlink(path.join(other, 'model-00002-of-00002.safetensors'));
      const before = await backend.snapshot();
      await expectRpcError(
        backend.client.registerBaseModel(
          modelUpload(
            'broken-hf',
            await localFolder(
              other,
              written.filter((n) => n !== 'model-00002-of-00002.safetensors'),
            ),
            'test',
          ),
        ),
        status.INVALID_ARGUMENT,
        'model-00002-of-00002.safetensors: weight file is missing',
      );
      expect(await backend.snapshot()).toEqual(before);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuses a listing with an unknown file at the header, and stores nothing', async () => {
    const before = await backend.snapshot();
    const files = [
      { path: 'config.json', sizeBytes: 1n },
      { path: 'tokenizer.json', sizeBytes: 1n },
      { path: 'notes.txt', sizeBytes: 1n },
    ];
    const upload = [
      { part: { case: 'header' as const, value: { name: 'extra-hf', sizeBytes: 3n, files } } },
      { part: { case: 'chunk' as const, value: new Uint8Array(3) } },
    ];
    await expectRpcError(
      backend.client.registerBaseModel(upload),
      status.INVALID_ARGUMENT,
      'header.files: notes.txt (path): is not a file of a Hugging Face checkpoint folder',
    );
    expect(await backend.snapshot()).toEqual(before);
  });

  it('refuses a file whose bytes do not match the sha256 the header gives, and stores nothing', async () => {
    const local = await localFolder(dir, names);
    const before = await backend.snapshot();
    const upload = async function* () {
      for await (const message of modelUpload('mismatch-hf', local, 'test')) {
        if (message.part?.case === 'header') message.part.value.files![0].sha256 = '0'.repeat(64);
        yield message;
      }
    };
    await expectRpcError(
      backend.client.registerBaseModel(upload()),
      status.INVALID_ARGUMENT,
      `header.files[0].sha256: ${names[0]} hashes to`,
    );
    expect(await backend.snapshot()).toEqual(before);
  });
});
