/**
 * loadModel(path): a GGUF file or a Hugging Face checkpoint folder, as the engine uses it — the
 * spec (what the graph computes), the canonical weights (a lazy WeightSource and, read from it,
 * the float32 tensors the graph is built from), the tokenizer, the chat template and a fingerprint.
 * Anything that changes the math and is not implemented is refused by the source's reader
 * (gguf-spec.ts, hf/config.ts), naming the field.
 */
import { stat } from 'node:fs/promises';
import { loadWeightBank } from '../graph/weight-bank.js';
import type { WeightsDtype } from './weights-dtype.js';
import { HfTokenizer } from '../tokenizer/hf-tokenizer.js';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { openGguf } from './gguf.js';
import { hfFolderFingerprint } from './hf/fingerprint.js';
import { loadHfFolder } from './hf/load-hf.js';
import type { ModelSpec } from './spec.js';
import type { DecoderModel, F32Tensor, WeightSource } from './weights.js';

export type ModelSource = { kind: 'gguf'; path: string } | { kind: 'hf'; dir: string };

export interface LoadedModel extends DecoderModel {
  spec: ModelSpec;
  /**
   * float32 canonical tensors: views of the model's weight bank (../graph/weight-bank.ts), or, when
   * the bank holds 16-bit matrices, widened from it on each read
   */
  tensors: ReadonlyMap<string, F32Tensor>;
  weights: WeightSource;
  tokenizer: TextTokenizer;
  chatTemplate?: string;
  /** sha256 hex: of the GGUF file; of a folder's manifest (the registry's: `<sha256>  <path>\n` per file, sorted) */
  fingerprint: string;
  source: ModelSource;
}

/** A model opened but its weights not read: spec, tokenizer, chat template, fingerprint and the lazy weight source. */
export type OpenedModel = Omit<LoadedModel, 'tensors'>;

export async function loadModel(path: string, weightsDtype?: WeightsDtype): Promise<LoadedModel> {
  return readModelWeights(await openModel(path), weightsDtype);
}

/**
 * Reads every weight of an opened model into its one weight bank (../graph/weight-bank.ts), at the
 * precision `weightsDtype` asks for (default auto: the file's; a quantized GGUF in the engine's q8 or q4 blocks, weights-dtype.ts).
 */
export async function readModelWeights(model: OpenedModel, weightsDtype?: WeightsDtype): Promise<LoadedModel> {
  const name = model.source.kind === 'gguf' ? model.source.path : model.source.dir;
  return loadWeightBank(model, name, weightsDtype);
}

/**
 * Opens a model without reading a weight: a GGUF file's header (its fingerprint hashed as a
 * stream), or a folder's config, tokenizer and safetensors headers.
 */
export async function openModel(path: string): Promise<OpenedModel> {
  const info = await stat(path);
  if (info.isFile()) return openGguf(path);
  if (!info.isDirectory()) throw new Error(`${path}: neither a GGUF file nor a Hugging Face checkpoint folder`);
  const folder = await loadHfFolder(path);
  const tokenizer = new HfTokenizer(folder.tokenizerFiles);
  if (tokenizer.vocabSize > folder.spec.vocabSize) {
    throw new Error(
      `${path}: tokenizer.json has ${tokenizer.vocabSize} tokens, more than config.json's vocab_size ${folder.spec.vocabSize}`,
    );
  }
  return {
    spec: folder.spec,
    weights: folder.weights,
    tokenizer,
    ...(folder.chatTemplate !== undefined ? { chatTemplate: folder.chatTemplate } : {}),
    fingerprint: await hfFolderFingerprint(folder.dir, folder.files),
    source: { kind: 'hf', dir: folder.dir },
  };
}
