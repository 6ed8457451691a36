import type { GraphBuilder, Value } from './builder.js';
import { gradients } from './autodiff.js';
import { GraphSession, type HostTensor } from './run.js';

/** Deterministic uniform numbers in [0, 1) (mulberry32), for seeded test inputs. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GradientCheckResult {
  /** max over checked entries of |autodiff − finite difference| / max(1, |finite difference|) */
  maxError: number;
  checked: number;
}

/**
 * Compares the autodiff gradient of the scalar `loss` (built in float64) w.r.t. the given
 * float64 inputs against central finite differences, both computed by onnxruntime.
 * `entries` limits how many (randomly chosen) entries of each input are perturbed.
 */
export async function checkGradients(
  g: GraphBuilder,
  loss: Value,
  wrt: readonly Value[],
  feeds: Record<string, HostTensor>,
  { step = 1e-5, entries = Infinity, seed = 1 }: { step?: number; entries?: number; seed?: number } = {},
): Promise<GradientCheckResult> {
  const grads = gradients(g, loss, wrt);
  g.output(loss, '__loss');
  grads.forEach((d, i) => g.output(d, `__grad_${wrt[i].name}`));
  const session = await GraphSession.create(g);
  try {
    const base = await session.run(feeds);
    const lossAt = async (f: Record<string, HostTensor>): Promise<number> => (await session.run(f, ['__loss'])).__loss.data[0] as number;
    const rand = seededRandom(seed);
    let maxError = 0;
    let checked = 0;
    for (const w of wrt) {
      const x = feeds[w.name].data;
      if (!(x instanceof Float64Array)) throw new Error(`checkGradients: input ${w.name} must be fed as Float64Array`);
      const analytic = base[`__grad_${w.name}`].data as Float64Array;
      const idx = [...x.keys()];
      while (idx.length > entries) idx.splice(Math.floor(rand() * idx.length), 1);
      for (const i of idx) {
        const saved = x[i];
        x[i] = saved + step;
        const up = await lossAt(feeds);
        x[i] = saved - step;
        const down = await lossAt(feeds);
        x[i] = saved;
        const numeric = (up - down) / (2 * step);
        maxError = Math.max(maxError, Math.abs(analytic[i] - numeric) / Math.max(1, Math.abs(numeric)));
        checked++;
      }
    }
    return { maxError, checked };
  } finally {
    await session.release();
  }
}
