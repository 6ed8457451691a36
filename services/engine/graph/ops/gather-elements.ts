import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { normalizeAxis } from './broadcast.js';
import { zeros } from './expand.js';

/** out[i][j][k] = data[i][index[i][j][k]][k] for axis 1 (ONNX GatherElements); picks target logits. */
export function gatherElements(g: GraphBuilder, data: Value, indices: Value, axis: number): Value {
  const ax = normalizeAxis(axis, data.shape.length);
  if (indices.dtype !== 'int64' || indices.shape.length !== data.shape.length) {
    throw new Error(`gatherElements: indices ${indices.name} must be int64 of rank ${data.shape.length}`);
  }
  return g.node(
    'GatherElements',
    [data, indices],
    [{ dtype: data.dtype, shape: indices.shape }],
    { axis: attr.int(ax) },
    (gg, { dOutputs: [dy] }) => [
      gg.node('ScatterElements', [zeros(gg, data.dtype, data.shape), indices, dy!], [{ dtype: data.dtype, shape: data.shape }], {
        axis: attr.int(ax),
        reduction: attr.string('add'),
      })[0],
      undefined,
    ],
  )[0];
}
