import type { LlamaConfig } from '../../services/engine/model/llama.js';

/**
 * FLOPs of one prompt-tuning step's forward pass plus its backward pass with respect to
 * activations only (no weight gradients): every weight matmul costs 2·m·n·k forward and the
 * same again for dX; both attention matmuls (QKᵀ, PV) cost as much forward and twice that backward
 * (both operands are activations); the classifier runs on the T−1 predicting positions.
 * Elementwise ops are not counted.
 */
export function promptStepFlops(c: LlamaConfig, batch: number, seqLen: number, virtualTokens: number): number {
  const hs = c.dim / c.nHeads;
  const S = virtualTokens + seqLen;
  const tokens = batch * S;
  const linearPerToken = 2 * c.dim * (c.dim + 2 * hs * c.nKvHeads) + 2 * c.dim * c.dim + 3 * 2 * c.dim * c.hiddenDim;
  const attentionPerLayer = batch * c.nHeads * 2 * (2 * S * S * hs);
  const classifier = batch * (seqLen - 1) * 2 * c.dim * c.vocabSize;
  const forward = c.nLayers * (tokens * linearPerToken + attentionPerLayer) + classifier;
  const backward = c.nLayers * (tokens * linearPerToken + 2 * attentionPerLayer) + classifier;
  return forward + backward;
}
