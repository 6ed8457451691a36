/**
 * RoPE tables from a spec, in Hugging Face's rotate-half convention: within each head the first
 * rotaryDim dims rotate (dim j pairs with j + rotaryDim/2), the rest pass through unchanged
 * (partial rotary). Scaling (linear, llama3, yarn) changes the inverse frequencies as
 * transformers' modeling_rope_utils computes them; yarn's attention factor scales cos and sin.
 */
import { inverseFrequencies } from '../model/rope-frequencies.js';
import type { ModelSpec } from '../model/spec.js';

/**
 * cos and sin tables [S, headDim] for the given absolute positions, the sine negated on the first
 * half of the rotary dims, so that RoPE(x) = x·cos + swap(x)·sin with swap exchanging the halves
 * of the rotary dims. Dims past rotaryDim get cos 1 and sin 0.
 */
export function ropeTables(spec: ModelSpec, positions: readonly number[], local: boolean): { cos: Float64Array; sin: Float64Array } {
  if (spec.positions.kind !== 'rope') throw new Error('ropeTables: the spec has no rotary positions');
  const { rotaryDim, theta, localTheta, scaling } = spec.positions;
  // Gemma 3's local (sliding-window) layers use their own base and no scaling
  const { invFreq, attentionFactor } =
    local && localTheta !== undefined ? inverseFrequencies(localTheta, rotaryDim) : inverseFrequencies(theta, rotaryDim, scaling);
  const hs = spec.headDim;
  const half = rotaryDim / 2;
  const cos = new Float64Array(positions.length * hs);
  const sin = new Float64Array(positions.length * hs);
  positions.forEach((pos, s) => {
    for (let j = 0; j < hs; j++) {
      const at = s * hs + j;
      if (j >= rotaryDim) {
        cos[at] = 1;
        continue;
      }
      const angle = pos * invFreq[j % half];
      cos[at] = Math.cos(angle) * attentionFactor;
      sin[at] = (j < half ? -1 : 1) * Math.sin(angle) * attentionFactor;
    }
  });
  return { cos, sin };
}

/** The [headDim, headDim] matrix R with (x·R)[j] = x[(j + rotaryDim/2) mod rotaryDim] for j < rotaryDim, 0 beyond. */
export function halfSwap(headDim: number, rotaryDim: number): Float64Array {
  const half = rotaryDim / 2;
  const r = new Float64Array(headDim * headDim);
  for (let j = 0; j < rotaryDim; j++) r[((j + half) % rotaryDim) * headDim + j] = 1;
  return r;
}
