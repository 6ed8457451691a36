/** The base model the quick-start trains on: a generated one, or the GGUF file PTUNE_MODEL names. */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeGeneratedModel } from '../engine/index.js';
import type { BaseModel } from '../gen/ptune/v1/registry_pb.js';
import { weightsUpload, type RegistryClient } from '../client/index.js';

/** Random weights, but trains the examples' fixed outputs in ~150 steps and ~40 ms a step on one core. */
export const GENERATED_PRESET = 'demo';

export interface QuickstartModel {
  readonly model: BaseModel;
  /** the GGUF file, for `ptune generate --model` */
  readonly file: string;
  readonly kind: 'generated' | 'gguf';
}

/** Registers the model (idempotent: the same name and weights return the existing entry). */
export async function registerQuickstartModel(
  registry: RegistryClient,
  dataDir: string,
  modelFile: string | undefined,
): Promise<QuickstartModel & { created: boolean }> {
  const kind = modelFile === undefined ? 'generated' : 'gguf';
  const file = modelFile === undefined ? path.join(dataDir, 'models', `${GENERATED_PRESET}.gguf`) : path.resolve(modelFile);
  let size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) {
    if (kind === 'gguf')
      throw new Error(
        `PTUNE_MODEL=${modelFile}: no such file; point it at a GGUF model (e.g. ../shared/models/stories260K.gguf) or unset it to use a generated model`,
      );
    await mkdir(path.dirname(file), { recursive: true });
    size = (await writeGeneratedModel(GENERATED_PRESET, 0, file)).bytes;
  }
  const name = quickstartModelName(modelFile);
  const response = await registry.registerBaseModel(weightsUpload(name, file, size, 'quickstart'));
  return { model: response.baseModel!, file, kind, created: response.created };
}

/** The name the quick start registers its model under (`ptune serve --quickstart` serves it). */
export const quickstartModelName = (modelFile: string | undefined): string =>
  modelFile === undefined ? GENERATED_PRESET : modelName(path.resolve(modelFile));

/** "stories260K.gguf" → "stories260k" (model names are lowercase letters, digits, '.', '_', '-'). */
function modelName(file: string): string {
  return (
    path
      .basename(file, path.extname(file))
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .slice(0, 128) || 'model'
  );
}
