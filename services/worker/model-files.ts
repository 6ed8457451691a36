/**
 * A base model's files on the worker's disk: each file is fetched once into the content-addressed
 * blob cache (streamed, verified); a GGUF model is its one cached file, an HF folder is assembled
 * as `<cache>/models/<fingerprint>/` of hard links to the cached files (built aside, then renamed
 * into place, so a folder that exists is complete). The engine gets that path.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { WeightsFormat, type BaseModel } from '../gen/ptune/v1/registry_pb.js';
import type { BlobCache } from './blob-cache.js';

export async function modelPath(cache: BlobCache, model: BaseModel, signal?: AbortSignal): Promise<string> {
  if (model.weightsFormat !== WeightsFormat.HF_FOLDER) {
    // single-file models registered before files were listed carry only weights_blob_key
    const key = model.files[0]?.blobKey ?? model.weightsBlobKey;
    return cache.file(key, { signal });
  }
  // the folder's name: anything but a sha256 (say "../x") could place it outside the cache
  if (!/^[0-9a-f]{64}$/.test(model.fingerprintSha256))
    throw new Error(
      `base model ${model.name}: fingerprint_sha256 ${JSON.stringify(model.fingerprintSha256)} is not a sha256 (64 lowercase hex characters): the coordinator's registry entry for the model needs fixing`,
    );
  const folder = path.join(cache.dir, 'models', model.fingerprintSha256);
  if (await isDirectory(folder)) return folder;
  const building = `${folder}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  await mkdir(building, { recursive: true });
  try {
    for (const file of model.files) {
      if (file.path.includes('/') || file.path.startsWith('.'))
        throw new Error(`base model ${model.name}: file path ${JSON.stringify(file.path)} is not a plain file name`);
      const cached = await cache.file(file.blobKey, { signal });
      await link(cached, path.join(building, file.path));
    }
    await rename(building, folder).catch(async (err: NodeJS.ErrnoException) => {
      // another process finished the same folder first: theirs is as good as ours
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return folder;
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
