import { describe, expect, it } from 'vitest';
import { Rng } from '../model/rng.js';
import type { ParameterSet } from '../prompt/vocabulary.js';
import { createMethod } from './create.js';
import type { MethodOptions } from './method.js';
import { computeStoredTensor } from './stored-tensor.js';
import { prefixWidth } from './prefix-layout.js';
import { tinyConfig } from './test-model.js';

// Independent float64 references written from PyTorch's documented equations (nn.Linear, nn.LSTM).
type Matrix = number[][];
const rows = (data: Float32Array, cols: number): Matrix =>
  Array.from({ length: data.length / cols }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)));
const linearRef = (x: Matrix, w: Float32Array, b: Float32Array): Matrix =>
  x.map((row) => Array.from(b, (bias, o) => row.reduce((s, v, i) => s + v * w[o * row.length + i], bias)));
const reluRef = (x: Matrix): Matrix => x.map((r) => r.map((v) => Math.max(0, v)));
const tanhRef = (x: Matrix): Matrix => x.map((r) => r.map(Math.tanh));
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function lstmDirectionRef(x: Matrix, p: ParameterSet, name: string, hidden: number, reverse: boolean): Matrix {
  const [wih, whh, bih, bhh] = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((k) => p[`prompt_encoder.lstm_head.${k}_${name}`]);
  let h = Array<number>(hidden).fill(0);
  let c = Array<number>(hidden).fill(0);
  const out: Matrix = Array.from({ length: x.length }, () => []);
  for (let s = 0; s < x.length; s++) {
    const t = reverse ? x.length - 1 - s : s;
    const pre = linearRef([x[t]], wih, bih)[0].map((v, k) => v + linearRef([h], whh, bhh)[0][k]);
    const gate = (k: number, j: number): number => pre[k * hidden + j];
    c = c.map((cj, j) => sigmoid(gate(1, j)) * cj + sigmoid(gate(0, j)) * Math.tanh(gate(2, j)));
    h = c.map((cj, j) => sigmoid(gate(3, j)) * Math.tanh(cj));
    out[t] = h;
  }
  return out;
}

function randomParams(options: MethodOptions, P: number, seed: number): { params: ParameterSet; method: ReturnType<typeof createMethod> } {
  const method = createMethod(options, tinyConfig, P);
  const rng = Rng.fromSeed(seed);
  const params = Object.fromEntries(
    method.parameters.map((p) => [p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => rng.nextFloat() - 0.5)]),
  );
  return { params, method };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('stored tensors: encoder outputs match PyTorch-equation references', () => {
  const P = 4;
  const dim = tinyConfig.dim;

  it('P-tuning MLP: Linear → ReLU → Linear → ReLU → Linear, output [P, dim]', async () => {
    const h = 7;
    const { params, method } = randomParams({ method: 'p_tuning', encoder: 'mlp', encoderHiddenSize: h }, P, 1);
    const p = (k: string): Float32Array => params[`prompt_encoder.${k}`];
    const ref = linearRef(
      reluRef(
        linearRef(
          reluRef(linearRef(rows(p('embedding.weight'), dim), p('mlp_head.0.weight'), p('mlp_head.0.bias'))),
          p('mlp_head.2.weight'),
          p('mlp_head.2.bias'),
        ),
      ),
      p('mlp_head.4.weight'),
      p('mlp_head.4.bias'),
    );
    const stored = await computeStoredTensor(method, params);
    expect(stored.length).toBe(P * dim);
    expect(maxAbsDiff(stored, ref.flat())).toBeLessThan(1e-5);
  });

  it('P-tuning LSTM: 2-layer bidirectional LSTM (gates i, f, g, o) → Linear(2h→2h) → ReLU → Linear(2h→dim)', async () => {
    const h = 5;
    const { params, method } = randomParams({ method: 'p_tuning', encoder: 'lstm', encoderHiddenSize: h }, P, 2);
    expect(method.parameters.map((q) => q.name)).toContain('prompt_encoder.lstm_head.weight_hh_l1_reverse');
    let x = rows(params['prompt_encoder.embedding.weight'], dim);
    for (const l of [0, 1]) {
      const fwd = lstmDirectionRef(x, params, `l${l}`, h, false);
      const bwd = lstmDirectionRef(x, params, `l${l}_reverse`, h, true);
      x = fwd.map((r, t) => [...r, ...bwd[t]]);
    }
    const p = (k: string): Float32Array => params[`prompt_encoder.mlp_head.${k}`];
    const ref = linearRef(reluRef(linearRef(x, p('0.weight'), p('0.bias'))), p('2.weight'), p('2.bias'));
    expect(maxAbsDiff(await computeStoredTensor(method, params), ref.flat())).toBeLessThan(1e-5);
  });

  it('prefix projection: Linear(kvDim→h) → Tanh → Linear(h→layers·2·kvDim); without projection the prefix is the parameter', async () => {
    const { params, method } = randomParams({ method: 'prefix_tuning', prefixProjection: true, encoderHiddenSize: 6 }, P, 3);
    const kv = tinyConfig.nKvHeads * (dim / tinyConfig.nHeads);
    const p = (k: string): Float32Array => params[`prefix_encoder.${k}`];
    const ref = linearRef(
      tanhRef(linearRef(rows(p('embedding.weight'), kv), p('transform.0.weight'), p('transform.0.bias'))),
      p('transform.2.weight'),
      p('transform.2.bias'),
    );
    const stored = await computeStoredTensor(method, params);
    expect(stored.length).toBe(P * prefixWidth(tinyConfig));
    expect(maxAbsDiff(stored, ref.flat())).toBeLessThan(1e-5);

    const plain = randomParams({ method: 'prefix_tuning' }, P, 4);
    expect(plain.method.parameters).toEqual([{ name: 'prefix_encoder.embedding.weight', shape: [P, prefixWidth(tinyConfig)] }]);
    expect(await computeStoredTensor(plain.method, plain.params)).toEqual(plain.params['prefix_encoder.embedding.weight']);
  });

  it('PEFT default hidden sizes: dim for P-tuning, kvDim (GQA) for prefix tuning', () => {
    expect(createMethod({ method: 'p_tuning', encoder: 'mlp' }, tinyConfig, 2).spec).toEqual({
      method: 'p_tuning',
      encoder: 'mlp',
      encoderHiddenSize: 16,
    });
    expect(createMethod({ method: 'prefix_tuning', prefixProjection: true }, tinyConfig, 2).spec).toEqual({
      method: 'prefix_tuning',
      prefixProjection: true,
      encoderHiddenSize: 8,
    });
    expect(() => createMethod({ method: 'p_tuning', encoder: 'gru' as 'mlp' }, tinyConfig, 2)).toThrow(/mlp or lstm/);
  });
});
