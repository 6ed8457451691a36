/** A method as the Llama graph's hooks: its parameters become graph inputs, its encoder output enters the model. */
import type { PastKeyValues, VirtualTokens } from '../graph/decoder-graph.js';
import type { TrainingMethod } from './method.js';
import { parameterInputs } from './parameters.js';
import { prefixLayers } from './prefix-layout.js';

export interface GraphSource {
  virtualTokens?: VirtualTokens;
  pastKeyValues?: PastKeyValues;
}

export function graphSource(m: TrainingMethod): GraphSource {
  const length = m.numVirtualTokens;
  if (m.placement === 'virtual-tokens') {
    return {
      virtualTokens: {
        length,
        build(g, { dtype }) {
          const trainable = parameterInputs(g, m.parameters, dtype);
          return { embeddings: m.encode(g, trainable), trainable };
        },
      },
    };
  }
  return {
    pastKeyValues: {
      length,
      build(g, { spec, dtype }) {
        const trainable = parameterInputs(g, m.parameters, dtype);
        return { layers: prefixLayers(g, m.encode(g, trainable), spec), trainable };
      },
    },
  };
}
