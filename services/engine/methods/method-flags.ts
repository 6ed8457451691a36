/**
 * The command-line spelling of a method (`--method prompt|p-tuning|prefix`, `--encoder mlp|lstm`,
 * `--encoder-hidden-size N`, `--prefix-projection`) as MethodOptions; settings that do not belong
 * to the chosen method are refused by name.
 */
import type { MethodOptions, EncoderType } from './method.js';
import type { MethodName } from '../prompt/vocabulary.js';

export const methodFlagNames = ['prompt', 'p-tuning', 'prefix'] as const;
export type MethodFlag = (typeof methodFlagNames)[number];
export const encoderFlagNames: readonly EncoderType[] = ['mlp', 'lstm'];

export interface MethodFlags {
  method: MethodFlag;
  encoder?: EncoderType;
  encoderHiddenSize?: number;
  prefixProjection?: boolean;
}

const methodOfFlag: Record<MethodFlag, MethodName> = { prompt: 'prompt_tuning', 'p-tuning': 'p_tuning', prefix: 'prefix_tuning' };

export function methodFromFlags(f: MethodFlags): MethodOptions {
  const method = methodOfFlag[f.method];
  if (!method) throw new Error(`--method must be one of ${methodFlagNames.join(', ')} (got ${String(f.method)})`);
  if (f.encoder !== undefined && method !== 'p_tuning')
    throw new Error(`--encoder applies to --method p-tuning only (got --method ${f.method})`);
  if (f.prefixProjection && method !== 'prefix_tuning')
    throw new Error(`--prefix-projection applies to --method prefix only (got --method ${f.method})`);
  if (f.encoderHiddenSize !== undefined && (method === 'prompt_tuning' || (method === 'prefix_tuning' && !f.prefixProjection))) {
    throw new Error('--encoder-hidden-size applies to --method p-tuning and to --method prefix with --prefix-projection');
  }
  switch (method) {
    case 'prompt_tuning':
      return { method };
    case 'p_tuning':
      return { method, encoder: f.encoder ?? 'mlp', encoderHiddenSize: f.encoderHiddenSize };
    case 'prefix_tuning':
      return { method, prefixProjection: f.prefixProjection ?? false, encoderHiddenSize: f.encoderHiddenSize };
  }
}

/** The init a method starts from when none is given: sampled vocabulary tokens, except random for a projected prefix. */
export const defaultInitFor = (m: MethodOptions): string =>
  m.method === 'prefix_tuning' && m.prefixProjection ? 'random' : 'sample-vocab';
