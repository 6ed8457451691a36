import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Value } from '../builder.js';
import { Rng } from '../../model/rng.js';
import { gradients } from '../autodiff.js';
import { checkGradients } from '../gradient-check.js';
import { GraphSession, type HostTensor } from '../run.js';
import * as op from './index.js';

/**
 * Every op's gradient rule against central finite differences, in float64 through onnxruntime.
 * Loss = sum(op(inputs) * R) with a fixed random R, so every output entry matters with its own weight.
 * Error measure: max |autodiff − FD| / max(1, |FD|) over all entries; step h = 1e-5.
 */
const TOLERANCE = 1e-6;

type Range = 'any' | 'positive';
interface Case {
  name: string;
  inputs: { shape: number[]; range?: Range }[];
  build: (g: GraphBuilder, xs: Value[]) => Value;
  tolerance?: number;
  step?: number;
}

const int64 = (g: GraphBuilder, values: number[], shape: number[]): Value => g.constant('int64', values, shape);

const cases: Case[] = [
  { name: 'add (same shape)', inputs: [{ shape: [2, 3] }, { shape: [2, 3] }], build: (g, [a, b]) => op.add(g, a, b) },
  { name: 'add (broadcast)', inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }], build: (g, [a, b]) => op.add(g, a, b) },
  { name: 'sub (both broadcast)', inputs: [{ shape: [1, 4] }, { shape: [3, 1] }], build: (g, [a, b]) => op.sub(g, a, b) },
  { name: 'mul (broadcast)', inputs: [{ shape: [2, 3, 4] }, { shape: [4] }], build: (g, [a, b]) => op.mul(g, a, b) },
  { name: 'mul (same input twice)', inputs: [{ shape: [3, 2] }], build: (g, [a]) => op.mul(g, a, a) },
  { name: 'div (broadcast)', inputs: [{ shape: [2, 3] }, { shape: [3], range: 'positive' }], build: (g, [a, b]) => op.div(g, a, b) },
  { name: 'neg', inputs: [{ shape: [5] }], build: (g, [a]) => op.neg(g, a) },
  { name: 'sqrt', inputs: [{ shape: [2, 3], range: 'positive' }], build: (g, [a]) => op.sqrt(g, a) },
  { name: 'reciprocal', inputs: [{ shape: [2, 3], range: 'positive' }], build: (g, [a]) => op.reciprocal(g, a) },
  { name: 'pow 2', inputs: [{ shape: [2, 3] }], build: (g, [a]) => op.pow(g, a, 2) },
  { name: 'pow 3', inputs: [{ shape: [2, 3] }], build: (g, [a]) => op.pow(g, a, 3) },
  { name: 'pow -0.5', inputs: [{ shape: [2, 3], range: 'positive' }], build: (g, [a]) => op.pow(g, a, -0.5) },
  { name: 'exp', inputs: [{ shape: [2, 3] }], build: (g, [a]) => op.exp(g, a) },
  { name: 'log', inputs: [{ shape: [2, 3], range: 'positive' }], build: (g, [a]) => op.log(g, a) },
  { name: 'sigmoid', inputs: [{ shape: [2, 3] }], build: (g, [a]) => op.sigmoid(g, a) },
  { name: 'tanh', inputs: [{ shape: [2, 3] }], build: (g, [a]) => op.tanh(g, a) },
  { name: 'relu', inputs: [{ shape: [3, 4] }], build: (g, [a]) => op.relu(g, a) },
  { name: 'reduceSum (axis 1)', inputs: [{ shape: [2, 3, 4] }], build: (g, [a]) => op.reduceSum(g, a, [1]) },
  { name: 'reduceSum (axes 0,-1 keepdims)', inputs: [{ shape: [2, 3, 4] }], build: (g, [a]) => op.reduceSum(g, a, [0, -1], true) },
  { name: 'reduceMean (axis -1 keepdims)', inputs: [{ shape: [2, 3, 4] }], build: (g, [a]) => op.reduceMean(g, a, [-1], true) },
  { name: 'reduceMean (axes 0,2)', inputs: [{ shape: [2, 3, 4] }], build: (g, [a]) => op.reduceMean(g, a, [0, 2]) },
  { name: 'reshape', inputs: [{ shape: [2, 3, 4] }], build: (g, [a]) => op.reshape(g, a, [-1, 4]) },
  { name: 'transpose', inputs: [{ shape: [2, 3, 4] }], build: (g, [a]) => op.transpose(g, a, [2, 0, 1]) },
  { name: 'concat', inputs: [{ shape: [2, 2, 3] }, { shape: [2, 1, 3] }], build: (g, [a, b]) => op.concat(g, [a, b], 1) },
  { name: 'slice', inputs: [{ shape: [2, 4, 3] }], build: (g, [a]) => op.slice(g, a, 1, 1, 3) },
  { name: 'reverse (middle axis)', inputs: [{ shape: [2, 3, 4] }], build: (g, [a]) => op.reverse(g, a, 1) },
  { name: 'pad', inputs: [{ shape: [2, 3] }], build: (g, [a]) => op.pad(g, a, 1, 2, 1) },
  { name: 'split (one output used)', inputs: [{ shape: [2, 5] }], build: (g, [a]) => op.split(g, a, 1, [2, 3])[1] },
  {
    name: 'split (both outputs used)',
    inputs: [{ shape: [2, 5] }],
    build: (g, [a]) => {
      const [x, y] = op.split(g, a, 1, [2, 3]);
      return op.mul(g, op.reduceSum(g, x, [1], true), y);
    },
  },
  { name: 'gather (repeated rows)', inputs: [{ shape: [5, 3] }], build: (g, [t]) => op.gather(g, t, int64(g, [0, 2, 2, 4], [2, 2])) },
  {
    name: 'gatherElements (repeated picks)',
    inputs: [{ shape: [2, 3, 5] }],
    build: (g, [d]) => op.gatherElements(g, d, int64(g, [4, 0, 0, 1, 3, 3], [2, 3, 1]), 2),
  },
  { name: 'expand', inputs: [{ shape: [3, 1] }], build: (g, [a]) => op.expand(g, a, [2, 3, 4]) },
  {
    name: 'where (broadcast)',
    inputs: [{ shape: [3, 4] }, { shape: [4] }],
    build: (g, [x, y]) => op.where(g, g.constant('bool', [1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1], [3, 4]), x, y),
  },
  {
    name: 'rmsNorm (composite rule, x and weight)',
    inputs: [{ shape: [2, 3, 5] }, { shape: [5] }],
    build: (g, [x, w]) => op.rmsNorm(g, x, w, 1e-5),
  },
  { name: 'swiglu (composite rule)', inputs: [{ shape: [2, 3, 4] }, { shape: [2, 3, 4] }], build: (g, [a, b]) => op.swiglu(g, a, b) },
  { name: 'softmax (last axis)', inputs: [{ shape: [2, 3, 5] }], build: (g, [a]) => op.softmax(g, a) },
  { name: 'softmax (axis 1)', inputs: [{ shape: [2, 3, 5] }], build: (g, [a]) => op.softmax(g, a, 1) },
  {
    name: 'targetNll (composite rule, repeated targets)',
    inputs: [{ shape: [2, 3, 5] }],
    build: (g, [a]) => op.targetNll(g, a, int64(g, [4, 0, 0, 1, 3, 3], [2, 3, 1])),
  },
  { name: 'logSoftmax', inputs: [{ shape: [2, 3, 5] }], build: (g, [a]) => op.logSoftmax(g, a) },
  {
    // float32 round trip: FD on a linear function with a larger step; error bounded by float32 rounding
    name: 'cast (float64 → float32 → float64)',
    inputs: [{ shape: [2, 3] }],
    build: (g, [a]) => op.cast(g, op.cast(g, a, 'float32'), 'float64'),
    step: 1e-2,
    tolerance: 1e-4,
  },
  { name: 'matmul 2-D', inputs: [{ shape: [3, 4] }, { shape: [4, 2] }], build: (g, [a, b]) => op.matmul(g, a, b) },
  { name: 'matmul batched × matrix', inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }], build: (g, [a, b]) => op.matmul(g, a, b) },
  {
    name: 'matmul batch broadcast',
    inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }],
    build: (g, [a, b]) => op.matmul(g, a, b),
  },
  {
    name: 'headsLinear (composite rule, x → heads-first [B, heads, S, hs])',
    inputs: [{ shape: [2, 3, 4] }],
    build: (g, [x]) =>
      op.headsLinear(
        g,
        x,
        g.constant(
          'float64',
          Array.from({ length: 40 }, (_, i) => Math.sin(i + 1)),
          [5, 2, 4],
        ),
      ),
  },
  { name: 'linear (x·Wᵀ over batch rows)', inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4] }], build: (g, [x, w]) => op.linear(g, x, w) },
  {
    name: 'attention (composite rule, masked, batch-broadcast k/v)',
    inputs: [{ shape: [2, 3, 4, 5] }, { shape: [1, 3, 6, 5] }, { shape: [2, 1, 6, 2] }],
    build: (g, [q, k, v]) =>
      op.attention(
        g,
        q,
        k,
        v,
        g.constant(
          'float64',
          Array.from({ length: 24 }, (_, i) => (i % 6 > ((i / 6) | 0) + 2 ? -1e9 : 0)),
          [4, 6],
        ),
      ),
  },
  { name: 'scale', inputs: [{ shape: [4] }], build: (g, [a]) => op.scale(g, a, -1.5) },
  {
    name: 'attention with softcap (composite rule, masked)',
    inputs: [{ shape: [2, 3, 4, 5] }, { shape: [1, 3, 6, 5] }, { shape: [2, 1, 6, 2] }],
    build: (g, [q, k, v]) =>
      op.attention(
        g,
        op.scale(g, q, 3),
        k,
        v,
        g.constant(
          'float64',
          Array.from({ length: 24 }, (_, i) => (i % 6 > ((i / 6) | 0) + 2 ? -1e9 : 0)),
          [4, 6],
        ),
        1.5,
      ),
  },
  {
    name: 'layerNorm (composite rule, x, weight and bias)',
    inputs: [{ shape: [2, 3, 5] }, { shape: [5] }, { shape: [5] }],
    build: (g, [x, w, b]) => op.layerNorm(g, x, w, b, 1e-5),
  },
  { name: 'geluTanh (composite rule)', inputs: [{ shape: [3, 7] }], build: (g, [a]) => op.geluTanh(g, op.scale(g, a, 3)) },
  { name: 'softcap', inputs: [{ shape: [3, 4] }], build: (g, [a]) => op.softcap(g, op.scale(g, a, 4), 2) },
  {
    name: 'linear with bias (x, W and bias)',
    inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4] }, { shape: [5] }],
    build: (g, [x, w, b]) => op.linear(g, x, w, b),
  },
];

function randomFeeds(shapes: Case['inputs'], seed: number): Float64Array[] {
  const rng = Rng.fromSeed(seed);
  const rand = (): number => rng.nextFloat();
  return shapes.map(({ shape, range }) =>
    Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (range === 'positive' ? 0.5 + rand() : 2 * rand() - 1)),
  );
}

/** Builds loss = sum(out * R) for a case and returns the gradient-check error. */
async function gradientError(c: Case, seed: number): Promise<number> {
  const g = new GraphBuilder(c.name);
  const xs = c.inputs.map((inp, i) => g.input(`x${i}`, 'float64', inp.shape));
  const out = c.build(g, xs);
  const weights = randomFeeds([{ shape: [...out.shape] }], seed + 100)[0];
  const r = g.initializer('R', weights, out.shape);
  const loss = op.reduceSum(g, op.mul(g, out, r), [...out.shape.keys()]);
  const data = randomFeeds(c.inputs, seed);
  const feeds: Record<string, HostTensor> = Object.fromEntries(xs.map((x, i) => [x.name, { data: data[i], dims: x.shape }]));
  const { maxError, checked } = await checkGradients(g, loss, xs, feeds, { step: c.step });
  expect(checked).toBe(data.reduce((n, d) => n + d.length, 0));
  return maxError;
}

describe('op gradient rules vs central finite differences (float64)', () => {
  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const e = await gradientError(c, 7 + i);
    expect(e).toBeLessThan(c.tolerance ?? TOLERANCE);
  });

  it('detects a wrong rule (negative control: Exp with the identity as its gradient)', async () => {
    const wrong: Case = {
      name: 'wrong exp',
      inputs: [{ shape: [2, 3] }],
      build: (g, [a]) => g.node('Exp', [a], [{ dtype: a.dtype, shape: a.shape }], {}, (_g, { dOutputs: [dy] }) => [dy])[0],
    };
    expect(await gradientError(wrong, 3)).toBeGreaterThan(1e-2);
  });
});

/** Output and gradients of sum(op(x, w) · R) in one dtype, through onnxruntime with all optimizations. */
async function outputAndGradients(
  dtype: 'float32' | 'float64',
  build: (g: GraphBuilder, x: Value, w: Value) => Value,
  data: Float64Array[],
  shapes: number[][],
): Promise<Float64Array[]> {
  const g = new GraphBuilder(`f32 vs f64 ${dtype}`);
  const [x, w] = shapes.map((s, i) => g.input(`x${i}`, dtype, s));
  const out = build(g, x, w);
  const r = g.initializer('R', dtype === 'float32' ? Float32Array.from(data[2]) : data[2], out.shape);
  const loss = op.reduceSum(g, op.mul(g, out, r), [...out.shape.keys()]);
  g.output(out, 'out');
  gradients(g, loss, [x, w]).forEach((d, i) => g.output(d, `d${i}`));
  const session = await GraphSession.create(g, { optimization: 'all' });
  const cast = (a: Float64Array) => (dtype === 'float32' ? Float32Array.from(a) : a);
  const res = await session.run({ x0: { data: cast(data[0]), dims: shapes[0] }, x1: { data: cast(data[1]), dims: shapes[1] } });
  await session.release();
  return ['out', 'd0', 'd1'].map((k) => Float64Array.from(res[k].data as Float32Array | Float64Array));
}

describe('float32 kernels that replace a float64 composite', () => {
  it("rmsNorm: onnxruntime's SimplifiedLayerNormalization (r as its second output) gives the float64 output and gradients", async () => {
    const shapes = [[3, 4, 16], [16]];
    const [x, w, r] = randomFeeds([{ shape: shapes[0] }, { shape: shapes[1], range: 'positive' }, { shape: shapes[0] }], 5);
    const build = (g: GraphBuilder, a: Value, b: Value) => op.rmsNorm(g, a, b, 1e-5);
    const f32 = await outputAndGradients('float32', build, [x, w, r], shapes);
    const f64 = await outputAndGradients('float64', build, [x, w, r], shapes);
    f64.forEach((exact, k) => {
      const worst = exact.reduce((m, v, i) => Math.max(m, Math.abs(v - f32[k][i]) / Math.max(1, Math.abs(v))), 0);
      expect(worst).toBeLessThan(1e-5);
    });
  });
});
