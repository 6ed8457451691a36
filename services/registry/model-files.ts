/**
 * Model sources: validate one (a GGUF file or a Hugging Face folder) and describe it, and the
 * canonical manifest that fingerprints a folder.
 *
 * `describeModelSource` is the one place the platform asks the engine what a model is: the engine's
 * describeModel reads a GGUF header (streamed) or opens a folder as training would (config,
 * tokenizer, every safetensors header and shape), never the weights themselves.
 */
import { readdir, stat } from 'node:fs/promises';
import { describeModel, isHfFolderFile } from '../engine/index.js';

/** A refused model source: `file` and `field` say what to fix. */
export class ModelSourceError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}${field === '' ? '' : ` (${field})`}: ${message}`);
  }
}

export interface ModelArchitectureSummary {
  family: string;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  vocabSize: number;
  contextLength: number;
  headDim: number;
}

export interface ModelSourceDescription {
  format: 'gguf' | 'hf_folder';
  architecture: ModelArchitectureSummary;
  tokenizerKind: 'sentencepiece' | 'byte_level_bpe';
}

/**
 * Checks the names alone (before any byte is read, e.g. from an upload's header): the required files
 * are there and nothing else is. Shards must then be named by the index (checked when described).
 */
export function checkHfListing(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new ModelSourceError(name, 'path', 'is listed twice');
    seen.add(name);
    if (!isHfFolderFile(name)) {
      throw new ModelSourceError(
        name,
        'path',
        'is not a file of a Hugging Face checkpoint folder ptune reads (config.json, tokenizer.json, tokenizer_config.json, generation_config.json, special_tokens_map.json, chat_template.jinja, model.safetensors.index.json, *.safetensors, README/LICENSE); remove it',
      );
    }
  }
  for (const required of ['config.json', 'tokenizer.json']) {
    if (!seen.has(required)) throw new ModelSourceError(required, '', 'is missing from the folder');
  }
  if (!seen.has('model.safetensors.index.json') && !seen.has('model.safetensors')) {
    throw new ModelSourceError('model.safetensors', '', 'is missing (or model.safetensors.index.json with its shards)');
  }
}

/**
 * Validates the model at `source` (a GGUF file, or a flat folder) and describes it; throws
 * ModelSourceError naming the file (relative to the folder, or `label` for a single file).
 */
export async function describeModelSource(source: string, label = source): Promise<ModelSourceDescription> {
  const isFolder = (await stat(source)).isDirectory();
  if (isFolder) {
    // dot entries are not the model (a hub download's .gitattributes, .cache/), as for the engine and the CLI
    const entries = (await readdir(source, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
    const notFile = entries.find((e) => !e.isFile());
    if (notFile) throw new ModelSourceError(notFile.name, 'path', 'is not a regular file (HF folders are flat)');
    checkHfListing(entries.map((e) => e.name));
  }
  let d;
  try {
    d = await describeModel(source);
  } catch (err) {
    throw sourceError(err as Error, source, isFolder ? undefined : label);
  }
  const s = d.spec;
  return {
    format: d.format,
    architecture: {
      family: s.family,
      hiddenSize: s.dim,
      numLayers: s.nLayers,
      numAttentionHeads: s.nHeads,
      numKeyValueHeads: s.nKvHeads,
      vocabSize: s.vocabSize,
      contextLength: s.contextLength,
      headDim: s.headDim,
    },
    tokenizerKind: d.tokenizerKind === 'bpe' ? 'byte_level_bpe' : 'sentencepiece',
  };
}

/** The engine names the file by its path ("<dir>/config.json: …"); the client knows it by its name in the folder. */
function sourceError(err: Error, source: string, label: string | undefined): ModelSourceError {
  const message = err.message;
  if (label !== undefined) {
    return new ModelSourceError(
      label,
      '',
      message.startsWith(`${source}: `) ? message.slice(source.length + 2) : message.split(source).join(label),
    );
  }
  if (message.startsWith(`${source}: `))
    return new ModelSourceError(
      'folder',
      '',
      message
        .slice(source.length + 2)
        .split(`${source}/`)
        .join(''),
    );
  const m = /^(\S+?): (.*)$/s.exec(message.split(`${source}/`).join(''));
  if (m && !m[1].includes('/')) return new ModelSourceError(m[1], '', m[2]);
  return new ModelSourceError('folder', '', message.split(`${source}/`).join('').split(source).join('folder'));
}

export { folderManifest, manifestFingerprint, type ManifestEntry } from '../engine/index.js';
