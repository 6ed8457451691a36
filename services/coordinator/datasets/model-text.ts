/**
 * The tokenizer and chat template of a registered base model, for checking datasets at TrainPrompt:
 * a GGUF model's from its header (streamed from the start of the blob; the tensor data is never
 * read), an HF folder's from its tokenizer files (small blobs). Cached by fingerprint. A cache, not
 * state: a restart just reads it again.
 */
import { ggufModelText, hfModelText, readGgufHeaderStream, type ModelText } from '../../engine/index.js';
import type { BlobStore } from '../../storage/index.js';

export interface StoredModel {
  fingerprint: string;
  weightsFormat: string;
  weightsBlobKey: string;
  /** an HF folder's files (path → blob); GGUF models need none */
  files?: readonly { path: string; blobKey: string }[];
}

const cache = new Map<string, Promise<ModelText>>();
const CACHE_ENTRIES = 4;

export function modelText(blobs: BlobStore, model: StoredModel): Promise<ModelText> {
  let text = cache.get(model.fingerprint);
  if (!text) {
    text = model.weightsFormat === 'hf_folder' ? hfText(blobs, model) : ggufText(blobs, model.weightsBlobKey);
    text.catch(() => cache.delete(model.fingerprint));
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(model.fingerprint, text);
  }
  return text;
}

async function ggufText(blobs: BlobStore, key: string): Promise<ModelText> {
  const { header } = await readGgufHeaderStream(await blobs.getStream(key), await blobs.size(key), key);
  return ggufModelText(header, key);
}

async function hfText(blobs: BlobStore, model: StoredModel): Promise<ModelText> {
  const rows = model.files ?? [];
  const read = async (path: string): Promise<string | undefined> => {
    const row = rows.find((r) => r.path === path);
    return row ? Buffer.from(await blobs.get(row.blobKey)).toString('utf8') : undefined;
  };
  const tokenizer = await read('tokenizer.json');
  if (tokenizer === undefined) throw new Error(`base model ${model.fingerprint}: its tokenizer.json is not stored`);
  const config = await read('tokenizer_config.json');
  const source = `base model ${model.fingerprint.slice(0, 12)}`;
  return hfModelText(
    { tokenizer: JSON.parse(tokenizer) as unknown, ...(config !== undefined ? { config: JSON.parse(config) as unknown } : {}), source },
    await read('chat_template.jinja'),
  );
}
