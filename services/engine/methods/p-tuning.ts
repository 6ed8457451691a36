/**
 * P-tuning (PEFT's PromptEncoder): a trainable table `embedding` [P, dim] fed through an encoder
 *  - MLP:  Linear(dim→h) → ReLU → Linear(h→h) → ReLU → Linear(h→dim)   (`mlp_head.0/2/4`)
 *  - LSTM: bidirectional 2-layer LSTM (hidden h) → Linear(2h→2h) → ReLU → Linear(2h→dim)
 *          (`lstm_head`, `mlp_head.0/2`; PEFT's head keeps the width 2h before the last layer)
 * with h = encoder_hidden_size. Its output [P, dim] is what is stored and served; the encoder
 * weights live only in checkpoints. Parameter names are PEFT's state-dict names under
 * `prompt_encoder.`. The table starts as a prompt-tuning prompt would (`--init`); the encoder
 * layers start as PyTorch initializes them.
 */
import { relu } from '../graph/ops/index.js';
import type { ParameterSet } from '../prompt/vocabulary.js';
import { initialPrompt } from '../prompt/prompt-init.js';
import { bidirectionalLstm, initLstm, lstmParameters } from './lstm.js';
import type { EncoderType, TrainingMethod } from './method.js';
import { dense, initLinear, linearParameters, type ParameterShape } from './parameters.js';

const PREFIX = 'prompt_encoder';
/** PEFT's encoder_num_layers default, used for the LSTM */
export const LSTM_LAYERS = 2;

export function pTuningMethod(numVirtualTokens: number, dim: number, encoder: EncoderType, hidden: number): TrainingMethod {
  const embedding: ParameterShape = { name: `${PREFIX}.embedding.weight`, shape: [numVirtualTokens, dim] };
  // (in, out) of each Linear of mlp_head, at Sequential indices 0, 2, 4
  const head: [number, number][] =
    encoder === 'mlp'
      ? [
          [dim, hidden],
          [hidden, hidden],
          [hidden, dim],
        ]
      : [
          [2 * hidden, 2 * hidden],
          [2 * hidden, dim],
        ];
  const lstm = encoder === 'lstm' ? lstmParameters(`${PREFIX}.lstm_head`, dim, hidden, LSTM_LAYERS) : [];
  const mlp = head.flatMap(([i, o], k) => linearParameters(`${PREFIX}.mlp_head.${2 * k}`, i, o));
  const parameters = [embedding, ...lstm, ...mlp];
  return {
    spec: { method: 'p_tuning', encoder, encoderHiddenSize: hidden },
    numVirtualTokens,
    placement: 'virtual-tokens',
    storedWidth: dim,
    parameters,
    encode(g, inputs) {
      let x = inputs[0];
      if (encoder === 'lstm') x = bidirectionalLstm(g, x, inputs.slice(1, 1 + lstm.length), hidden, LSTM_LAYERS);
      const w = inputs.slice(1 + lstm.length);
      head.forEach((_, k) => {
        x = dense(g, x, w[2 * k], w[2 * k + 1]);
        if (k < head.length - 1) x = relu(g, x);
      });
      return x;
    },
    async initialParameters(init, model, rng) {
      const values: Float32Array[] = [await initialPrompt(init, model, numVirtualTokens, rng)];
      values.push(...initLstm(rng, lstm, hidden));
      for (const [i, o] of head) values.push(...initLinear(rng, i, o));
      return Object.fromEntries(parameters.map((p, k) => [p.name, values[k]])) as ParameterSet;
    },
  };
}
