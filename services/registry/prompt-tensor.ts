import { createHash } from 'node:crypto';
import { readSafetensors, tensorToFloat32, writeSafetensors, type FloatDtype } from '../engine/formats/safetensors.js';
import { invalidArgument } from '../domain/index.js';

/** The one tensor a stored prompt file holds (PEFT's key for all three prompt-learning methods). */
export const PROMPT_TENSOR = 'prompt_embeddings';

/** A validated prompt file: exactly one finite float tensor `prompt_embeddings` of rank 2. */
export interface PromptFile {
  /** The file as received (stored byte for byte). */
  bytes: Uint8Array;
  sha256: string;
  dtype: FloatDtype;
  /** [rows, width]: rows are virtual tokens. */
  shape: [number, number];
}

const FLOAT_DTYPES: readonly string[] = ['F32', 'F16', 'BF16'];

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Parses and validates a prompt safetensors file; `field` names the request field in errors. */
export function readPromptFile(bytes: Uint8Array, field: string): PromptFile {
  if (bytes.byteLength === 0) throw invalidArgument(field, 'is empty; send a safetensors file with the tensor "prompt_embeddings"');
  let file;
  try {
    file = readSafetensors(bytes, { source: field });
  } catch (err) {
    throw invalidArgument(field, (err as Error).message.replace(`${field}: `, ''));
  }
  const names = Object.keys(file.tensors);
  if (names.length !== 1 || names[0] !== PROMPT_TENSOR) {
    throw invalidArgument(
      field,
      `must hold exactly one tensor "${PROMPT_TENSOR}", found [${names.map((n) => JSON.stringify(n)).join(', ')}]`,
    );
  }
  const tensor = file.tensors[PROMPT_TENSOR];
  if (!FLOAT_DTYPES.includes(tensor.dtype))
    throw invalidArgument(field, `"${PROMPT_TENSOR}" has dtype ${tensor.dtype}; use F32, F16 or BF16`);
  if (tensor.shape.length !== 2 || tensor.shape[0] === 0 || tensor.shape[1] === 0) {
    throw invalidArgument(
      field,
      `"${PROMPT_TENSOR}" has shape [${tensor.shape.join(', ')}]; expected [num_virtual_tokens, width] with both > 0`,
    );
  }
  const values = tensorToFloat32(tensor);
  const bad = values.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    const width = tensor.shape[1];
    throw invalidArgument(
      field,
      `"${PROMPT_TENSOR}" holds ${values[bad]} at [${Math.floor(bad / width)}, ${bad % width}]; every value must be finite`,
    );
  }
  return { bytes, sha256: sha256Hex(bytes), dtype: tensor.dtype as FloatDtype, shape: [tensor.shape[0], tensor.shape[1]] };
}

/**
 * Re-encodes a stored prompt file in another float dtype (round to nearest even), keeping its
 * metadata. Refuses values the target cannot hold (e.g. |x| > 65504 in F16) rather than serve Inf.
 */
export function convertPromptFile(stored: Uint8Array, dtype: FloatDtype, field: string): Uint8Array {
  const file = readSafetensors(stored);
  const tensor = file.tensors[PROMPT_TENSOR];
  const converted = writeSafetensors({ [PROMPT_TENSOR]: { dtype, shape: tensor.shape, data: tensorToFloat32(tensor) } }, file.metadata);
  const check = readSafetensors(converted).tensors[PROMPT_TENSOR];
  const values = tensorToFloat32(check);
  const bad = values.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    const original = tensorToFloat32(tensor)[bad];
    throw invalidArgument(field, `${dtype} cannot represent the value ${original} at flat index ${bad}; request F32 or BF16`);
  }
  return converted;
}

/** The tensor of a prompt file as float32 (e.g. for PEFT export). */
export function promptValues(stored: Uint8Array): Float32Array {
  return tensorToFloat32(readSafetensors(stored).tensors[PROMPT_TENSOR]);
}
