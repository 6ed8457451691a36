/**
 * The engine's public surface: load or generate a model, load datasets, train a prompt (with
 * progress, checkpoint and cancellation hooks), evaluate, generate text, and read/write prompt
 * files and checkpoints. Everything else under services/engine is internal.
 */
export { loadGguf } from './model/gguf.js';
export { loadModel, openModel, readModelWeights, type LoadedModel, type OpenedModel, type ModelSource } from './model/load-model.js';
export type { WeightsDtype } from './model/weights-dtype.js';
export { loadedPrecision } from './graph/weight-bank.js';
export { checkMemoryBudget, largestSeqLen, MemoryLimitError } from './memory/budget.js';
export type { MemoryEstimate, MemoryPlan } from './memory/estimate.js';
export { memoryLimit, type MemoryLimit } from './memory/limit.js';
export type { ModelSpec, Family } from './model/spec.js';
export { writeGeneratedModel, presets as modelPresets, type PresetName, type GeneratedModelFile } from './model/generate.js';
export type { LlamaConfig } from './model/llama.js';
export type { ExecutionProvider } from './graph/run.js';
export { DataError } from './data/jsonl.js';

export { loadExampleSet, type ExampleSet } from './train/example-set.js';
export { train, type TrainOptions, type TrainHooks, type TrainProgress, type TrainResult, type CheckpointEvent } from './train/train.js';
export { TrainingAbortedError } from './train/errors.js';
export type { TrainCheckpoint } from './train/checkpoint.js';
export type { RunIdentity } from './prompt/run-identity.js';
export { decodeCheckpoint, readCheckpointFile } from './train/checkpoint-file.js';
export { parsePromptInit, type PromptInit } from './prompt/prompt-init.js';
export { scheduleNames, type ScheduleName } from './prompt/vocabulary.js';
export { evaluatePrompt, type EvaluatePromptOptions } from './train/evaluate.js';
export { type EvalMetrics } from './prompt/vocabulary.js';
export { generateText, type GenerateTextOptions, type GeneratedText } from './train/generate-text.js';
export { promptMetadata, encodePromptFile, decodePromptFile, type PromptFile } from './prompt/prompt-file.js';
export { writePromptOutputs, type PromptOutputs } from './train/write-outputs.js';
export type { ParameterSet } from './prompt/vocabulary.js';
export {
  defaultInitFor,
  methodFromFlags,
  readStoredPrompt,
  type MethodFlag,
  type MethodName,
  type MethodOptions,
  type MethodSpec,
  type StoredPrompt,
} from './methods/index.js';

// Used by the registry (model and prompt validation, PEFT export) and the coordinator (dataset checks).
export { describeModel, ggufModelText, hfModelText, type ModelDescription, type ModelText } from './model/describe-model.js';
export { readGgufHeaderStream } from './model/gguf-header-stream.js';
export { folderManifest, manifestFingerprint, type ManifestEntry } from './model/hf/fingerprint.js';
export { isHfFolderFile } from './model/hf/load-hf.js';
export type { TextTokenizer, TokenizerKind } from './tokenizer/text-tokenizer.js';
export { parseExamplesJsonl, type RawExample } from './data/jsonl.js';
export { encodeExamples } from './data/encode.js';
export { peftAdapterConfig, type PeftMethodConfig } from './formats/peft.js';
export {
  readTokenEmbedding,
  nearestTokens,
  type ModelFileStream,
  type TokenEmbeddingTable,
  type NearestToken,
} from './model/token-embedding.js';

// Serving (issue #16): the continuous-batching inference engine.
export {
  createInferenceEngine,
  EngineBusyError,
  EngineClosedError,
  InferenceInputError,
  type EngineStats,
  type GenerateRequest,
  type GenerateStream,
  type GenerateSummary,
  type GeneratedToken,
  type InferenceEngine,
  type InferenceEngineOptions,
  type SamplingSettings,
  type ScoreRequest,
  type ServedPrompt,
} from './serve/engine.js';
export { decodeStoredPrompt } from './methods/serving.js';
// Used by the inference service (services/inference) to render chat requests.
export { modelChatTemplate } from './chat/model-template.js';
export { ChatTemplateError, type ChatMessage } from './chat/template.js';
