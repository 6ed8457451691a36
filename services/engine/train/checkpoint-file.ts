/**
 * Checkpoints as one safetensors file: F32 tensors `param.<name>`, `adam_m.<name>`, `adam_v.<name>`
 * and `losses`, plus a `ptune_checkpoint` JSON metadata entry with the rest (step, run identity,
 * optimizer step count, data position with RNG state, eval before training).
 * Written atomically (temporary file, fsync, rename), so a crash leaves the previous checkpoint.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { readSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../formats/safetensors.js';
import type { ParameterSet } from '../prompt/vocabulary.js';
import { writeFileAtomic } from './atomic-write.js';
import type { TrainCheckpoint } from './checkpoint.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const METADATA_KEY = 'ptune_checkpoint';
const FORMAT_VERSION = 1;

type CheckpointMetadata = Omit<TrainCheckpoint, 'params' | 'optimizer' | 'losses'> & {
  version: number;
  optimizerStep: number;
  parameters: string[];
};

export function encodeCheckpoint(c: TrainCheckpoint): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  const f32 = (data: Float32Array): TensorToWrite => ({ dtype: 'F32', shape: [data.length], data });
  const names = Object.keys(c.params);
  for (const name of names) {
    tensors[`param.${name}`] = f32(c.params[name]);
    tensors[`adam_m.${name}`] = f32(c.optimizer.m[name]);
    tensors[`adam_v.${name}`] = f32(c.optimizer.v[name]);
  }
  tensors.losses = f32(Float32Array.from(c.losses));
  const meta: CheckpointMetadata = {
    version: FORMAT_VERSION,
    step: c.step,
    identity: c.identity,
    optimizerStep: c.optimizer.step,
    data: c.data,
    evalBefore: c.evalBefore,
    parameters: names,
  };
  return writeSafetensors(tensors, { [METADATA_KEY]: JSON.stringify(meta) });
}

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): TrainCheckpoint {
  const file = readSafetensors(bytes, { source });
  const raw = file.metadata[METADATA_KEY];
  if (!raw) throw new Error(`${source}: not a ptune checkpoint (no "${METADATA_KEY}" metadata)`);
  const meta = JSON.parse(raw) as CheckpointMetadata;
  if (meta.version !== FORMAT_VERSION)
    throw new Error(`${source}: checkpoint format ${meta.version} is not supported (expected ${FORMAT_VERSION})`);
  const tensor = (name: string): Float32Array => {
    const t = file.tensors[name];
    if (!t) throw new Error(`${source}: checkpoint tensor "${name}" is missing`);
    return tensorToFloat32(t);
  };
  const params: ParameterSet = {};
  const m: ParameterSet = {};
  const v: ParameterSet = {};
  for (const name of meta.parameters) {
    params[name] = tensor(`param.${name}`);
    m[name] = tensor(`adam_m.${name}`);
    v[name] = tensor(`adam_v.${name}`);
  }
  return {
    step: meta.step,
    identity: meta.identity,
    params,
    optimizer: { step: meta.optimizerStep, m, v },
    data: meta.data,
    losses: Array.from(tensor('losses')),
    evalBefore: meta.evalBefore,
  };
}

/** Writes `bytes` to `dir/checkpoint.safetensors` atomically; returns the path. */
export async function writeCheckpointFile(dir: string, bytes: Uint8Array): Promise<string> {
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, CHECKPOINT_FILE);
  await writeFileAtomic(target, bytes);
  return target;
}

/** The checkpoint in `dir`, or undefined when there is none. */
export async function readCheckpointFile(dir: string): Promise<TrainCheckpoint | undefined> {
  const file = path.join(dir, CHECKPOINT_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return decodeCheckpoint(bytes, file);
}
