/**
 * RoPE tables from a spec, in Hugging Face's rotate-half convention: within each head the first
 * rotaryDim dims rotate (dim j pairs with j + rotaryDim/2), the rest pass through unchanged
 * (partial rotary). Scaling (linear, llama3, yarn) changes the inverse frequencies as
 * transformers' modeling_rope_utils computes them; yarn's attention factor scales cos and sin.
 */
import type { ModelSpec, RopeScaling } from '../model/spec.js';

/** Inverse frequencies [rotaryDim/2] for base `theta`, after `scaling`, and the cos/sin multiplier. */
export function inverseFrequencies(theta: number, rotaryDim: number, scaling?: RopeScaling): { invFreq: Float64Array; attentionFactor: number } {
  const half = rotaryDim / 2;
  const base = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(theta, (2 * i) / rotaryDim));
  if (!scaling) return { invFreq: base, attentionFactor: 1 };
  switch (scaling.type) {
    case 'linear':
      return { invFreq: base.map((f) => f / scaling.factor), attentionFactor: 1 };
    case 'llama3': {
      const { factor, lowFreqFactor, highFreqFactor, originalContext } = scaling;
      const lowWavelen = originalContext / lowFreqFactor;
      const highWavelen = originalContext / highFreqFactor;
      const invFreq = base.map((f) => {
        const wavelen = (2 * Math.PI) / f;
        if (wavelen > lowWavelen) return f / factor;
        if (wavelen < highWavelen) return f;
        const smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return ((1 - smooth) * f) / factor + smooth * f;
      });
      return { invFreq, attentionFactor: 1 };
    }
    case 'yarn': {
      const { factor, originalContext, betaFast, betaSlow } = scaling;
      const correction = (rotations: number): number => (rotaryDim * Math.log(originalContext / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
      let low = correction(betaFast);
      let high = correction(betaSlow);
      if (scaling.truncate ?? true) {
        low = Math.floor(low);
        high = Math.ceil(high);
      }
      low = Math.max(low, 0);
      high = Math.min(high, rotaryDim - 1);
      if (low === high) high += 0.001;
      const invFreq = base.map((f, i) => {
        const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
        const extrapolation = 1 - ramp;
        return (f / factor) * (1 - extrapolation) + f * extrapolation;
      });
      const attentionFactor = scaling.attentionFactor ?? (factor <= 1 ? 1 : 0.1 * Math.log(factor) + 1);
      return { invFreq, attentionFactor };
    }
  }
}

/**
 * cos and sin tables [S, headDim] for the given absolute positions, the sine negated on the first
 * half of the rotary dims, so that RoPE(x) = x·cos + swap(x)·sin with swap exchanging the halves
 * of the rotary dims. Dims past rotaryDim get cos 1 and sin 0.
 */
export function ropeTables(spec: ModelSpec, positions: readonly number[], local: boolean): { cos: Float64Array; sin: Float64Array } {
  if (spec.positions.kind !== 'rope') throw new Error('ropeTables: the spec has no rotary positions');
  const { rotaryDim, theta, localTheta, scaling } = spec.positions;
  // Gemma 3's local (sliding-window) layers use their own base and no scaling
  const { invFreq, attentionFactor } = local && localTheta !== undefined ? inverseFrequencies(localTheta, rotaryDim) : inverseFrequencies(theta, rotaryDim, scaling);
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
