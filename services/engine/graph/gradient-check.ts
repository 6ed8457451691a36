import type { GraphBuilder, Value } from './builder.js';
import { gradients } from './autodiff.js';
import { Rng } from '../model/rng.js';
import { GraphSession, type HostTensor } from './run.js';

export interface GradientCheckResult {
  /** max over checked entries of |autodiff − finite difference| / max(1, |finite difference|) */
  maxError: number;
  checked: number;
}

/**
 * Compares the autodiff gradient of the scalar `loss` (built in float64) w.r.t. the given
 * float64 inputs against central finite differences, both computed by onnxruntime.
 */
export async function checkGradients(
  g: GraphBuilder,
  loss: Value,
  wrt: readonly Value[],
  feeds: Record<string, HostTensor>,
  options: FiniteDifferenceOptions = {},
): Promise<GradientCheckResult> {
  const grads = gradients(g, loss, wrt);
  g.output(loss, '__loss');
  grads.forEach((d, i) => g.output(d, `__grad_${wrt[i].name}`));
  const session = await GraphSession.create(g);
  try {
    const gradOutputs = Object.fromEntries(wrt.map((w) => [w.name, `__grad_${w.name}`]));
    return await compareWithFiniteDifferences(session, '__loss', gradOutputs, feeds, options);
  } finally {
    await session.release();
  }
}

export interface FiniteDifferenceOptions {
  /** central difference step h (default 1e-5) */
  step?: number;
  /** how many randomly chosen entries of each input to perturb (default all) */
  entries?: number;
  seed?: number;
}

/**
 * For a session that outputs a float64 scalar `lossOutput` and, per input name, its gradient
 * output: perturbs input entries by ±h and compares (L(x+h) − L(x−h)) / 2h with the gradient.
 */
export async function compareWithFiniteDifferences(
  session: GraphSession,
  lossOutput: string,
  gradOutputs: Record<string, string>,
  feeds: Record<string, HostTensor>,
  { step = 1e-5, entries = Infinity, seed = 1 }: FiniteDifferenceOptions = {},
): Promise<GradientCheckResult> {
  const base = await session.run(feeds);
  const lossAt = async (): Promise<number> => (await session.run(feeds, [lossOutput]))[lossOutput].data[0] as number;
  const rng = Rng.fromSeed(seed);
  let maxError = 0;
  let checked = 0;
  for (const [input, gradOutput] of Object.entries(gradOutputs)) {
    const x = feeds[input].data;
    if (!(x instanceof Float64Array)) throw new Error(`finite differences: input ${input} must be fed as Float64Array`);
    const analytic = base[gradOutput].data as Float64Array;
    const idx = [...x.keys()];
    while (idx.length > entries) idx.splice(rng.nextInt(idx.length), 1);
    for (const i of idx) {
      const saved = x[i];
      x[i] = saved + step;
      const up = await lossAt();
      x[i] = saved - step;
      const down = await lossAt();
      x[i] = saved;
      const numeric = (up - down) / (2 * step);
      maxError = Math.max(maxError, Math.abs(analytic[i] - numeric) / Math.max(1, Math.abs(numeric)));
      checked++;
    }
  }
  return { maxError, checked };
}
