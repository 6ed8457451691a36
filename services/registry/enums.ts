/** Wire enums ↔ the values the database stores. */
import { Dtype, InitMethod, TuningMethod } from '../gen/ptune/v1/common_pb.js';
import { TokenizerKind, WeightsFormat } from '../gen/ptune/v1/registry_pb.js';
import type { FloatDtype } from '../engine/formats/safetensors.js';
import type { InitMethod as DbInitMethod, PromptMethod } from '../storage/index.js';

const METHODS: [TuningMethod, PromptMethod][] = [
  [TuningMethod.PROMPT_TUNING, 'PROMPT_TUNING'],
  [TuningMethod.P_TUNING, 'P_TUNING'],
  [TuningMethod.PREFIX_TUNING, 'PREFIX_TUNING'],
];
const INITS: [InitMethod, DbInitMethod][] = [
  [InitMethod.RANDOM, 'RANDOM'],
  [InitMethod.SAMPLE_VOCAB, 'SAMPLE_VOCAB'],
  [InitMethod.TEXT, 'TEXT'],
  [InitMethod.FROM_PROMPT, 'PARENT'],
];
const DTYPES: [Dtype, FloatDtype][] = [
  [Dtype.F32, 'F32'],
  [Dtype.F16, 'F16'],
  [Dtype.BF16, 'BF16'],
];
const TOKENIZERS: [TokenizerKind, string][] = [
  [TokenizerKind.SENTENCEPIECE, 'sentencepiece'],
  [TokenizerKind.BYTE_LEVEL_BPE, 'byte-level-bpe'],
];
const FORMATS: [WeightsFormat, string][] = [
  [WeightsFormat.GGUF, 'gguf'],
  [WeightsFormat.SAFETENSORS, 'safetensors'],
  [WeightsFormat.ONNX, 'onnx'],
];

function lookup<A, B>(pairs: [A, B][], value: A): B | undefined {
  return pairs.find(([a]) => a === value)?.[1];
}
function reverse<A, B>(pairs: [A, B][], value: B): A | undefined {
  return pairs.find(([, b]) => b === value)?.[0];
}

export const methodToDb = (m: TuningMethod): PromptMethod | undefined => lookup(METHODS, m);
export const methodFromDb = (m: string): TuningMethod => reverse(METHODS, m as PromptMethod) ?? TuningMethod.UNSPECIFIED;
export const methodName = (m: TuningMethod): string => lookup(METHODS, m) ?? 'UNSPECIFIED';

export const initToDb = (m: InitMethod): DbInitMethod | undefined => lookup(INITS, m);
export const initFromDb = (m: string): InitMethod => reverse(INITS, m as DbInitMethod) ?? InitMethod.UNSPECIFIED;

export const dtypeToFile = (d: Dtype): FloatDtype | undefined => lookup(DTYPES, d);
export const dtypeFromFile = (d: string): Dtype => reverse(DTYPES, d as FloatDtype) ?? Dtype.UNSPECIFIED;

export const tokenizerToDb = (k: TokenizerKind): string | undefined => lookup(TOKENIZERS, k);
export const tokenizerFromDb = (k: string): TokenizerKind => reverse(TOKENIZERS, k) ?? TokenizerKind.UNSPECIFIED;

export const formatToDb = (f: WeightsFormat): string | undefined => lookup(FORMATS, f);
export const formatFromDb = (f: string): WeightsFormat => reverse(FORMATS, f) ?? WeightsFormat.UNSPECIFIED;
