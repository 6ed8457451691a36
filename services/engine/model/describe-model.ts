/**
 * What a model is, without reading its weights: for the registry checking an upload and the
 * coordinator encoding datasets. A GGUF file is described from its header (streamed; the tensor
 * data is never read, but every tensor the spec needs is checked by name and dims); a Hugging Face
 * folder is opened as loadModel opens it (config, tokenizer, safetensors headers and shapes).
 * Refusals are the loaders' own, naming file and field.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { modelChatTemplate } from '../chat/model-template.js';
import type { ChatTemplate } from '../chat/template.js';
import { ggufChatTemplate, textTokenizerFromMetadata } from '../tokenizer/gguf-tokenizer.js';
import { HfTokenizer, type HfTokenizerFiles } from '../tokenizer/hf-tokenizer.js';
import type { TextTokenizer, TokenizerKind } from '../tokenizer/text-tokenizer.js';
import { readGgufHeaderStream } from './gguf-header-stream.js';
import { GgufMetadata } from './gguf-metadata.js';
import { ggufArchitecture, specFromGguf } from './gguf-spec.js';
import type { GgufHeader } from './gguf-types.js';
import { ggufEntries, ggufTensorF32 } from './gguf-weights.js';
import { readRange } from './read-range.js';
import { hfChatTemplate, loadHfFolder } from './hf/load-hf.js';
import type { ModelSpec } from './spec.js';

export interface ModelDescription {
  format: 'gguf' | 'hf_folder';
  spec: ModelSpec;
  tokenizerKind: TokenizerKind;
  /** the chat template's source, when the model has one */
  chatTemplate?: string;
  /** HF folders: the files that make up the model (relative, sorted) */
  files?: string[];
}

/** what encoding text for a model needs: its tokenizer, and its chat template when it has one */
export interface ModelText {
  tokenizer: TextTokenizer;
  chatTemplate?: ChatTemplate;
}

export async function describeModel(path: string): Promise<ModelDescription> {
  const info = await stat(path);
  if (info.isDirectory()) {
    const folder = await loadHfFolder(path);
    const tokenizer = new HfTokenizer(folder.tokenizerFiles);
    if (tokenizer.vocabSize > folder.spec.vocabSize) {
      throw new Error(
        `${path}: tokenizer.json has ${tokenizer.vocabSize} tokens, more than config.json's vocab_size ${folder.spec.vocabSize}`,
      );
    }
    const text = withTemplate(tokenizer, folder.chatTemplate, `${path} chat template`);
    return {
      format: 'hf_folder',
      spec: folder.spec,
      tokenizerKind: tokenizer.kind,
      ...(text.chatTemplate ? { chatTemplate: folder.chatTemplate } : {}),
      files: folder.files,
    };
  }
  if (!info.isFile()) throw new Error(`${path}: neither a GGUF file nor a Hugging Face checkpoint folder`);
  const { header } = await readGgufHeaderStream(createReadStream(path), info.size, path);
  const meta = new GgufMetadata(header.metadata, path);
  const arch = ggufArchitecture(meta, path);
  const text = ggufModelText(header, path);
  const ropeFreqs = await readSmallTensor(path, header, 'rope_freqs.weight');
  const spec = specFromGguf({
    meta,
    tensorNames: new Set(header.tensors.map((t) => t.name)),
    vocabSize: text.tokenizer.vocabSize,
    ropeFreqs,
    path,
  });
  ggufEntries(header, spec, arch, path); // names and dims only: no tensor data is read
  const template = ggufChatTemplate(meta);
  return { format: 'gguf', spec, tokenizerKind: text.tokenizer.kind, ...(template !== undefined ? { chatTemplate: template } : {}) };
}

/** The tokenizer and chat template in a GGUF header. */
export function ggufModelText(header: GgufHeader, source: string): ModelText {
  const meta = new GgufMetadata(header.metadata, source);
  return withTemplate(textTokenizerFromMetadata(meta, source), ggufChatTemplate(meta), `${source} tokenizer.chat_template`);
}

/**
 * The tokenizer and chat template of a Hugging Face folder from its parsed tokenizer files
 * (tokenizer_config.json's chat_template, or chat_template.jinja's text, which wins).
 */
export function hfModelText(files: HfTokenizerFiles, chatTemplateJinja?: string): ModelText {
  const template = hfChatTemplate(files.config, chatTemplateJinja, `${files.source} tokenizer_config.json`);
  return withTemplate(new HfTokenizer(files), template, `${files.source} chat template`);
}

function withTemplate(tokenizer: TextTokenizer, template: string | undefined, origin: string): ModelText {
  return template === undefined ? { tokenizer } : { tokenizer, chatTemplate: modelChatTemplate(template, tokenizer, origin) };
}

/** A small tensor's float32 values read straight from the file (rope_freqs: a few hundred floats). */
async function readSmallTensor(path: string, header: GgufHeader, name: string): Promise<Float32Array | undefined> {
  const t = header.tensors.find((x) => x.name === name);
  if (!t) return undefined;
  const file = await open(path, 'r');
  try {
    return ggufTensorF32(t, await readRange(file, header.dataOffset + t.offset, t.byteLength, `${path}: tensor "${name}"`));
  } finally {
    await file.close();
  }
}
