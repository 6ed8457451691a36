import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Value } from '../builder.js';
import { float16Bits } from '../dtype.js';
import { gradients } from '../autodiff.js';
import { checkGradients } from '../gradient-check.js';
import { quantize } from '../quantized.js';
import { GraphSession, type HostTensor } from '../run.js';
import type { StoredWeight } from '../stored-weight.js';
import { Rng } from '../../model/rng.js';
import * as op from './index.js';

/**
 * A large stored weight is widened and multiplied a block of rows at a time (linear.ts): the
 * outputs and gradients must be those of the one-block product, and no node may widen the whole
 * matrix. Small shapes with a tiny block bound stand in for a big vocabulary's classifier.
 */
const [OUT, IN] = [10, 64];
const BLOCK_BYTES = 3 * IN * 8; // float64 rows: blocks of 3, 3, 3 and 1 rows

const random = (n: number, seed: number): Float64Array => {
  const rng = Rng.fromSeed(seed);
  return Float64Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
};

function storedWeight(g: GraphBuilder, held: 'f16' | 'q4'): StoredWeight {
  const w = random(OUT * IN, 3);
  if (held === 'f16') return { stored: g.initializer('w', float16Bits(Float32Array.from(w)), [OUT, IN]), name: 'w', shape: [OUT, IN] };
  const q = quantize('w', w, IN, 4);
  return {
    stored: g.initializer('w', q.data, [OUT, IN / 2]),
    name: 'w',
    shape: [OUT, IN],
    quantized: { scales: g.initializer('w.scales', q.scales, [OUT, IN / 32]), bits: 4 },
  };
}

function build(held: 'f16' | 'q4', blockBytes?: number): { g: GraphBuilder; loss: Value; wrt: Value[]; feeds: Record<string, HostTensor> } {
  const g = new GraphBuilder(`blocked linear ${held}`);
  const x = g.input('x', 'float64', [3, 2, IN]);
  const bias = g.input('bias', 'float64', [OUT]);
  const y = op.linear(g, x, storedWeight(g, held), bias, blockBytes);
  const loss = op.reduceSum(g, op.mul(g, y, g.initializer('R', random(3 * 2 * OUT, 9), y.shape)), [0, 1, 2]);
  g.output(y, 'y');
  return {
    g,
    loss,
    wrt: [x, bias],
    feeds: { x: { data: random(3 * 2 * IN, 5), dims: [3, 2, IN] }, bias: { data: random(OUT, 7), dims: [OUT] } },
  };
}

async function outputs(held: 'f16' | 'q4', blockBytes?: number): Promise<{ widenedShapes: string[]; values: Float64Array[] }> {
  const { g, loss, wrt, feeds } = build(held, blockBytes);
  gradients(g, loss, wrt).forEach((d, i) => g.output(d, `d${i}`));
  // the float64 values each node widens a stored weight into (a Cast of float16, or q4's Mul by the scales)
  const widenedShapes = g.nodes
    .filter(
      (n) =>
        (n.opType === 'Cast' || n.opType === 'Mul') &&
        n.outputs[0].dtype === 'float64' &&
        n.outputs[0].shape.at(-1) === IN &&
        n.outputs[0].shape.length === 2,
    )
    .map((n) => n.outputs[0].shape.join('×'));
  const session = await GraphSession.create(g, { optimization: 'all' });
  const res = await session.run(feeds);
  await session.release();
  return { widenedShapes, values: ['y', 'd0', 'd1'].map((k) => res[k].data as Float64Array) };
}

describe('linear on a stored weight widened in row blocks', () => {
  it.each(['f16', 'q4'] as const)(
    '%s: the same output and gradients as the one-block product, and no node widens the whole matrix',
    async (held) => {
      const whole = await outputs(held);
      const blocked = await outputs(held, BLOCK_BYTES);
      expect(whole.widenedShapes).toContain(`${OUT}×${IN}`);
      expect(blocked.widenedShapes).not.toContain(`${OUT}×${IN}`);
      expect(blocked.widenedShapes).toContain(`3×${IN}`);
      blocked.values.forEach((v, k) => {
        expect(v.length).toBe(whole.values[k].length);
        const worst = v.reduce((m, e, i) => Math.max(m, Math.abs(e - whole.values[k][i])), 0);
        expect(worst).toBeLessThan(1e-12);
      });
    },
  );

  it('its gradient rule (x and bias) matches central finite differences', async () => {
    const { g, loss, wrt, feeds } = build('f16', BLOCK_BYTES);
    const { maxError, checked } = await checkGradients(g, loss, wrt, feeds, {});
    expect(checked).toBe(3 * 2 * IN + OUT);
    expect(maxError).toBeLessThan(1e-6);
  });
});
