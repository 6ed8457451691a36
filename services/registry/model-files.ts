/**
 * Model sources: validate one (a GGUF file or a Hugging Face folder) and describe it, and the
 * canonical manifest that fingerprints a folder.
 *
 * `describeModelSource` is the one place the platform asks the engine what a model is. Today a file
 * goes through the engine's `loadGguf` (which reads the whole file) and a folder through the
 * header-only checks of hf-folder.ts; the engine's `loadModel(path)` (file → GGUF, directory → HF
 * folder) replaces both here when it lands, mapping its `LoadedModel.spec` onto ModelSourceDescription.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { loadGguf } from '../engine/index.js';
import { checkHfFolder, ModelSourceError, type HfArchitecture, type HfTokenizerKind } from './hf-folder.js';

export { checkHfListing, ModelSourceError } from './hf-folder.js';

export interface ModelSourceDescription {
  format: 'gguf' | 'hf_folder';
  architecture: HfArchitecture;
  tokenizerKind: HfTokenizerKind;
}

/**
 * Validates the model at `source` (a GGUF file, or a folder) and describes it; throws ModelSourceError
 * naming file and field. `label` names a single file in messages instead of its path.
 */
export async function describeModelSource(source: string, label = source): Promise<ModelSourceDescription> {
  if ((await stat(source)).isDirectory()) {
    const names = (await readdir(source, { withFileTypes: true })).map((entry) => {
      if (!entry.isFile()) throw new ModelSourceError(entry.name, 'path', 'is not a regular file (HF folders are flat)');
      return entry.name;
    });
    return { format: 'hf_folder', ...(await checkHfFolder(source, names)) };
  }
  let model;
  try {
    model = await loadGguf(source);
  } catch (err) {
    const message = (err as Error).message;
    throw new ModelSourceError(
      label,
      '',
      message.startsWith(`${source}: `) ? message.slice(source.length + 2) : message.split(source).join(label),
    );
  }
  const c = model.weights.config;
  return {
    format: 'gguf',
    architecture: {
      family: model.architecture,
      hiddenSize: c.dim,
      numLayers: c.nLayers,
      numAttentionHeads: c.nHeads,
      numKeyValueHeads: c.nKvHeads,
      vocabSize: c.vocabSize,
      contextLength: c.contextLength,
    },
    tokenizerKind: 'sentencepiece',
  };
}

export interface ManifestEntry {
  path: string;
  sha256: string;
}

/**
 * A folder's canonical manifest: one line per file, sorted by path in byte order, each
 * `"<sha256 hex>  <path>\n"` (the `sha256sum` format). Its sha256 is the folder's fingerprint.
 */
export function folderManifest(files: readonly ManifestEntry[]): string {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return sorted.map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

export const manifestFingerprint = (manifest: string): string => createHash('sha256').update(manifest, 'utf8').digest('hex');
