/**
 * The method / init / encoder / dtype / tokenizer / weights-format / state vocabulary: one table per
 * concept, one row per value, one column per boundary (proto enum, domain name, CLI flag, database
 * column, PEFT adapter_config.json, engine option). A new method is one new row here; every
 * translation in the code base is a lookup in these tables.
 */
import { Dtype, InitMethod, TuningMethod } from '../gen/ptune/v1/common_pb.js';
import { TokenizerKind, WeightsFormat } from '../gen/ptune/v1/registry_pb.js';
import { JobState, PromptEncoderType, TrialState } from '../gen/ptune/v1/training_pb.js';

/** The row of `rows` whose `column` equals `value`, or undefined (an unknown or unspecified value). */
function find<R, K extends keyof R>(rows: readonly R[], column: K, value: unknown): R | undefined {
  return rows.find((row) => row[column] === value);
}

// ── tuning methods ────────────────────────────────────────────────────────────────────────────────
/** The domain (and engine) name of a method. */
export type Method = 'prompt_tuning' | 'p_tuning' | 'prefix_tuning';
/** `--method` on the command line. */
export type MethodFlag = 'prompt' | 'p-tuning' | 'prefix';
/** The `prompt_method` database enum and PEFT's `peft_type` (they agree). */
export type DbMethod = 'PROMPT_TUNING' | 'P_TUNING' | 'PREFIX_TUNING';

interface MethodRow {
  name: Method;
  proto: TuningMethod;
  cli: MethodFlag;
  db: DbMethod;
  peft: DbMethod;
}
const METHODS: readonly MethodRow[] = [
  { name: 'prompt_tuning', proto: TuningMethod.PROMPT_TUNING, cli: 'prompt', db: 'PROMPT_TUNING', peft: 'PROMPT_TUNING' },
  { name: 'p_tuning', proto: TuningMethod.P_TUNING, cli: 'p-tuning', db: 'P_TUNING', peft: 'P_TUNING' },
  { name: 'prefix_tuning', proto: TuningMethod.PREFIX_TUNING, cli: 'prefix', db: 'PREFIX_TUNING', peft: 'PREFIX_TUNING' },
];

export const methodFlagNames: readonly MethodFlag[] = METHODS.map((m) => m.cli);
/** Supported methods as proto enum names, for messages ("PROMPT_TUNING, P_TUNING or PREFIX_TUNING"). */
export const methodProtoNames: readonly string[] = METHODS.map((m) => m.db);

export const methodFromProto = (m: TuningMethod): Method | undefined => find(METHODS, 'proto', m)?.name;
export const methodToProto = (m: Method): TuningMethod => find(METHODS, 'name', m)!.proto;
export const methodFromFlag = (flag: string): TuningMethod | undefined => find(METHODS, 'cli', flag)?.proto;
export const methodToDb = (m: TuningMethod): DbMethod | undefined => find(METHODS, 'proto', m)?.db;
export const methodFromDb = (m: string): TuningMethod => find(METHODS, 'db', m)?.proto ?? TuningMethod.UNSPECIFIED;
export const methodName = (m: TuningMethod): string => find(METHODS, 'proto', m)?.db ?? 'UNSPECIFIED';
export const methodFromPeft = (peftType: unknown): TuningMethod | undefined => find(METHODS, 'peft', peftType)?.proto;

// ── prompt initialisation ─────────────────────────────────────────────────────────────────────────
/** The `init_method` database enum (a prompt trained from another is PARENT). */
export type DbInitMethod = 'RANDOM' | 'SAMPLE_VOCAB' | 'TEXT' | 'PARENT';
/** PEFT's `prompt_tuning_init`. */
export type PeftInit = 'RANDOM' | 'SAMPLE_VOCAB' | 'TEXT';
/** The engine's `PromptInit.kind`, which is also the CLI spelling (`--init random|sample-vocab|text:…`). */
export type InitKind = 'random' | 'sample-vocab' | 'text';

interface InitRow {
  proto: InitMethod;
  db: DbInitMethod;
  peft?: PeftInit;
  engine?: InitKind;
}
const INITS: readonly InitRow[] = [
  { proto: InitMethod.RANDOM, db: 'RANDOM', peft: 'RANDOM', engine: 'random' },
  { proto: InitMethod.SAMPLE_VOCAB, db: 'SAMPLE_VOCAB', peft: 'SAMPLE_VOCAB', engine: 'sample-vocab' },
  { proto: InitMethod.TEXT, db: 'TEXT', peft: 'TEXT', engine: 'text' },
  { proto: InitMethod.FROM_PROMPT, db: 'PARENT' },
];

export const initToDb = (m: InitMethod): DbInitMethod | undefined => find(INITS, 'proto', m)?.db;
export const initFromDb = (m: string): InitMethod => find(INITS, 'db', m)?.proto ?? InitMethod.UNSPECIFIED;
export const initToPeft = (m: InitMethod): PeftInit | undefined => find(INITS, 'proto', m)?.peft;
export const initFromPeft = (init: unknown): InitMethod | undefined => find(INITS, 'peft', init)?.proto;
export const initToEngine = (m: InitMethod): InitKind | undefined => find(INITS, 'proto', m)?.engine;
export const initFromEngine = (kind: InitKind): InitMethod => find(INITS, 'engine', kind)!.proto;

// ── P-tuning prompt encoders ──────────────────────────────────────────────────────────────────────
export type EncoderName = 'mlp' | 'lstm';
const ENCODERS: readonly { proto: PromptEncoderType; name: EncoderName }[] = [
  { proto: PromptEncoderType.MLP, name: 'mlp' },
  { proto: PromptEncoderType.LSTM, name: 'lstm' },
];
/** UNSPECIFIED is the MLP, the documented default. */
export const encoderFromProto = (e: PromptEncoderType): EncoderName => find(ENCODERS, 'proto', e)?.name ?? 'mlp';
export const encoderToProto = (e: EncoderName): PromptEncoderType => find(ENCODERS, 'name', e)!.proto;

// ── float dtypes ──────────────────────────────────────────────────────────────────────────────────
/** A safetensors dtype. */
export type FileDtype = 'F32' | 'F16' | 'BF16';
export type DtypeFlag = 'f32' | 'f16' | 'bf16';
const DTYPES: readonly { proto: Dtype; file: FileDtype; cli: DtypeFlag }[] = [
  { proto: Dtype.F32, file: 'F32', cli: 'f32' },
  { proto: Dtype.F16, file: 'F16', cli: 'f16' },
  { proto: Dtype.BF16, file: 'BF16', cli: 'bf16' },
];
export const dtypeFlagNames: readonly DtypeFlag[] = DTYPES.map((d) => d.cli);
export const dtypeToFile = (d: Dtype): FileDtype | undefined => find(DTYPES, 'proto', d)?.file;
export const dtypeFromFile = (d: string): Dtype => find(DTYPES, 'file', d)?.proto ?? Dtype.UNSPECIFIED;
export const dtypeFromFlag = (flag: string): Dtype | undefined => find(DTYPES, 'cli', flag)?.proto;

// ── base models ───────────────────────────────────────────────────────────────────────────────────
const TOKENIZERS: readonly { proto: TokenizerKind; db: string }[] = [
  { proto: TokenizerKind.SENTENCEPIECE, db: 'sentencepiece' },
  { proto: TokenizerKind.BYTE_LEVEL_BPE, db: 'byte-level-bpe' },
];
export const tokenizerToDb = (k: TokenizerKind): string | undefined => find(TOKENIZERS, 'proto', k)?.db;
export const tokenizerFromDb = (k: string): TokenizerKind => find(TOKENIZERS, 'db', k)?.proto ?? TokenizerKind.UNSPECIFIED;

const FORMATS: readonly { proto: WeightsFormat; db: string }[] = [
  { proto: WeightsFormat.GGUF, db: 'gguf' },
  { proto: WeightsFormat.SAFETENSORS, db: 'safetensors' },
  { proto: WeightsFormat.ONNX, db: 'onnx' },
  { proto: WeightsFormat.HF_FOLDER, db: 'hf_folder' },
];
export const formatToDb = (f: WeightsFormat): string | undefined => find(FORMATS, 'proto', f)?.db;
export const formatFromDb = (f: string): WeightsFormat => find(FORMATS, 'db', f)?.proto ?? WeightsFormat.UNSPECIFIED;

// ── job and trial states ──────────────────────────────────────────────────────────────────────────
/** The `job_state` / `trial_state` database enums; the proto enums use the same names. */
export type DbState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export const jobStateFromDb = (s: DbState): JobState => JobState[s];
export const trialStateFromDb = (s: DbState): TrialState => TrialState[s];
