/**
 * An HF model's folder is named by its fingerprint inside the cache: a fingerprint that is not a
 * sha256 (say "../x") is refused before anything is created, so no folder lands outside the cache.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WeightsFormat, type BaseModel } from '../gen/ptune/v1/registry_pb.js';
import type { BlobCache } from './blob-cache.js';
import { modelPath } from './model-files.js';

describe('modelPath', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ptune-model-files-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(['../x', '../../' + 'a'.repeat(58), 'A'.repeat(64), 'a'.repeat(63), ''])(
    'refuses the fingerprint "%s", naming it',
    async (fingerprint) => {
      const cacheDir = path.join(root, 'cache');
      const cache = {
        dir: cacheDir,
        file: () => Promise.reject(new Error('no blob should be fetched')),
      } as unknown as BlobCache;
      const model = {
        name: 'tiny',
        weightsFormat: WeightsFormat.HF_FOLDER,
        fingerprintSha256: fingerprint,
        files: [{ path: 'config.json', blobKey: `models/${'b'.repeat(64)}` }],
      } as unknown as BaseModel;
      await expect(modelPath(cache, model)).rejects.toThrow(
        `base model tiny: fingerprint_sha256 ${JSON.stringify(fingerprint)} is not a sha256 (64 lowercase hex characters)`,
      );
      expect(await readdir(root)).toEqual([]);
    },
  );
});
