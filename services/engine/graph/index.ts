/**
 * Public surface of the engine's graph layer: build static-shape ONNX graphs, differentiate them
 * w.r.t. chosen inputs, run them with onnxruntime-node, and the Llama forward/training graphs.
 */
export { gradients } from './autodiff.js';
export { attr, GraphBuilder, type Attribute, type GradContext, type GradRule, type GraphNode, type Value } from './builder.js';
export type { DType, FloatDType } from './dtype.js';
export {
  buildInferenceGraph,
  buildTrainingGraph,
  GRAPH_IO,
  promptTuning,
  type InferenceOptions,
  type DecoderGraph,
  type DecoderGraphOptions,
  type ModelContext,
  type PastKeyValues,
  type TrainingGraphOptions,
  type VirtualTokens,
} from './decoder-graph.js';
export * as ops from './ops/index.js';
export { GraphSession, type ExecutionProvider, type HostTensor, type SessionOptions } from './run.js';
export { OPSET, serializeModel } from './serialize.js';
