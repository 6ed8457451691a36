import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { zeros } from './expand.js';
import { reshape } from './reshape.js';

/**
 * Rows of `table` picked by int64 `indices` along axis 0 (embedding lookup):
 * output shape indices.shape ++ table.shape[1:].
 */
export function gather(g: GraphBuilder, table: Value, indices: Value): Value {
  if (indices.dtype !== 'int64') throw new Error(`gather: indices ${indices.name} must be int64, got ${indices.dtype}`);
  const rowShape = table.shape.slice(1);
  return g.node(
    'Gather',
    [table, indices],
    [{ dtype: table.dtype, shape: [...indices.shape, ...rowShape] }],
    { axis: attr.int(0) },
    // adjoint: scatter-add each output row back into its table row (indices may repeat)
    (gg, { dOutputs: [dy] }) => {
      const idx = reshape(gg, indices, [...indices.shape, 1]);
      const dTable = gg.node('ScatterND', [zeros(gg, table.dtype, table.shape), idx, dy!], [{ dtype: table.dtype, shape: table.shape }], {
        reduction: attr.string('add'),
      })[0];
      return [dTable, undefined];
    },
  )[0];
}
