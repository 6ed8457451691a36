/**
 * `--model` of tune, eval and generate: a GGUF file or a Hugging Face checkpoint folder. This is the
 * one place the CLI loads a model. A folder is checked here (the same checks as `models add`, so a
 * refusal names the file and field); loading it is the engine's `loadModel(path)` (file → GGUF,
 * directory → HF folder), which replaces `loadGguf` below when it is merged.
 */
import { stat } from 'node:fs/promises';
import { loadGguf, type LoadedModel } from '../../../engine/index.js';
import { describeModelSource } from '../../../registry/model-files.js';

/** Throws unless `--model` names an existing file or folder. */
export async function requireModelSource(source: string): Promise<void> {
  const s = await stat(source).catch(() => undefined);
  if (!s) throw new Error(`--model ${source} does not exist`);
  if (!s.isFile() && !s.isDirectory()) throw new Error(`--model ${source} is neither a GGUF file nor a model folder`);
}

export async function loadModelSource(source: string): Promise<LoadedModel> {
  if ((await stat(source)).isDirectory()) {
    const folder = await describeModelSource(source).catch((err: unknown) => {
      throw new Error(`--model ${source}: ${(err as Error).message}`);
    });
    throw new Error(
      `--model ${source}: a valid Hugging Face folder (${folder.architecture.family}, ${folder.architecture.numLayers} layers), but this build's engine loads GGUF files only`,
    );
  }
  return loadGguf(source);
}
