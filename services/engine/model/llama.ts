/**
 * The frozen Llama-family model as the engine sees it: hyperparameters and
 * float32 weights in row-major (out, in) layout, so that y = W · x.
 * GGUF loading (gguf.ts) and the seeded generator (generate.ts) both produce this;
 * the ONNX graph builder (../graph/llama-graph.ts) consumes it.
 */
export interface LlamaConfig {
  /** token_dim: width of the residual stream and of every embedding row */
  dim: number;
  /** SwiGLU inner width */
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  /** longest sequence the model accepts (virtual tokens included) */
  contextLength: number;
  /** RMSNorm epsilon */
  normEps: number;
  ropeTheta: number;
}

import type { F32Tensor } from './weights.js';
export type { F32Tensor } from './weights.js';

export interface LlamaLayerWeights {
  attnNorm: F32Tensor; // [dim]
  wq: F32Tensor; // [nHeads*headSize, dim]
  wk: F32Tensor; // [nKvHeads*headSize, dim]
  wv: F32Tensor; // [nKvHeads*headSize, dim]
  wo: F32Tensor; // [dim, nHeads*headSize]
  ffnNorm: F32Tensor; // [dim]
  w1: F32Tensor; // gate [hiddenDim, dim]
  w2: F32Tensor; // down [dim, hiddenDim]
  w3: F32Tensor; // up   [hiddenDim, dim]
}

export interface LlamaWeights {
  config: LlamaConfig;
  tokenEmbedding: F32Tensor; // [vocabSize, dim]
  layers: LlamaLayerWeights[];
  outputNorm: F32Tensor; // [dim]
  output: F32Tensor; // classifier [vocabSize, dim]
}

export const headSize = (c: LlamaConfig): number => c.dim / c.nHeads;
