/** Soft-prompt methods (prompt tuning, P-tuning, prefix tuning) as parameters, graph hooks and stored tensors. */
export { createMethod } from './create.js';
export { graphSource, type GraphSource } from './graph-source.js';
export { methodSettings, type EncoderType, type MethodOptions, type MethodSpec, type Placement, type TrainingMethod } from './method.js';
export { type MethodName } from '../prompt/vocabulary.js';
export { type ParameterShape } from './parameters.js';
export { type PeftMethodFields } from './peft-fields.js';
export { prefixLayers, prefixWidth } from './prefix-layout.js';
export { computeStoredTensor } from './stored-tensor.js';
export { readStoredPrompt, type ServedTensor, type StoredPrompt } from './serving.js';
export { defaultInitFor, methodFromFlags, type MethodFlag, type MethodFlags } from './method-flags.js';
