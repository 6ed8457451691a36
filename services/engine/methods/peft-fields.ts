/**
 * adapter_config.json fields of P-tuning and prefix tuning (prompt tuning's depend on its init and
 * stay with the prompt writer). For prefix tuning PEFT records token_dim = kvDim and
 * num_attention_heads = nKvHeads under grouped-query attention, as its config preparation sets them.
 */
import type { PeftMethodConfig } from '../formats/peft.js';
import type { ModelShape } from '../model/spec.js';
import type { MethodSpec } from './method.js';
import { LSTM_LAYERS } from './p-tuning.js';
import { kvDim } from './prefix-layout.js';

export interface PeftMethodFields {
  method: PeftMethodConfig;
  tokenDim: number;
  numAttentionHeads: number;
}

export function peftMethodFields(spec: MethodSpec, c: ModelShape): PeftMethodFields | undefined {
  switch (spec.method) {
    case 'prompt_tuning':
      return undefined;
    case 'p_tuning':
      return {
        method: {
          peftType: 'P_TUNING',
          encoderReparameterizationType: spec.encoder === 'mlp' ? 'MLP' : 'LSTM',
          encoderHiddenSize: spec.encoderHiddenSize,
          encoderNumLayers: LSTM_LAYERS,
        },
        tokenDim: c.dim,
        numAttentionHeads: c.nHeads,
      };
    case 'prefix_tuning':
      return {
        method: { peftType: 'PREFIX_TUNING', prefixProjection: spec.prefixProjection, encoderHiddenSize: spec.encoderHiddenSize },
        tokenDim: kvDim(c),
        numAttentionHeads: c.nKvHeads,
      };
  }
}
