/**
 * The tensor a trained method stores and serves, [P, storedWidth] float32: the encoder run once on
 * the final parameters (a parameter that is its own output is returned as is).
 */
import { GraphBuilder } from '../graph/builder.js';
import { GraphSession, type HostTensor, type SessionOptions } from '../graph/run.js';
import type { ParameterSet } from '../prompt/vocabulary.js';
import type { TrainingMethod } from './method.js';
import { parameterInputs } from './parameters.js';

const OUTPUT = 'stored_tensor';

export async function computeStoredTensor(m: TrainingMethod, params: ParameterSet, options: SessionOptions = {}): Promise<Float32Array> {
  const g = new GraphBuilder('encoder');
  const inputs = parameterInputs(g, m.parameters, 'float32');
  const out = m.encode(g, inputs);
  const feeds: Record<string, HostTensor> = {};
  for (const p of m.parameters) {
    const data = params[p.name];
    if (!data) throw new Error(`stored tensor: parameter "${p.name}" is missing`);
    feeds[p.name] = { data, dims: p.shape };
  }
  const direct = inputs.find((i) => i.name === out.name);
  if (direct) return Float32Array.from(params[direct.name]);
  g.output(out, OUTPUT);
  const session = await GraphSession.create(g, options);
  try {
    return (await session.run(feeds, [OUTPUT]))[OUTPUT].data as Float32Array;
  } finally {
    await session.release();
  }
}
