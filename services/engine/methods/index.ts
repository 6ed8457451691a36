/** Soft-prompt methods (prompt tuning, P-tuning, prefix tuning) as parameters, graph hooks and stored tensors. */
export { createMethod } from './create.js';
export { graphSource, type GraphSource } from './graph-source.js';
export {
  methodNames,
  methodSettings,
  type EncoderType,
  type MethodName,
  type MethodOptions,
  type MethodSpec,
  type Placement,
  type TrainingMethod,
} from './method.js';
export { parameterSize, type ParameterShape } from './parameters.js';
export { peftMethodFields, type PeftMethodFields } from './peft-fields.js';
export { kvDim, prefixLayers, prefixOffset, prefixWidth } from './prefix-layout.js';
export { computeStoredTensor } from './stored-tensor.js';
export { decodeStoredPrompt, placementOf, readStoredPrompt, servedPrompt, servedTensor, servingMethod, type ServedTensor, type StoredPrompt } from './serving.js';
export { defaultInitFor, encoderFlagNames, methodFlagNames, methodFromFlags, type MethodFlag, type MethodFlags } from './method-flags.js';
