/**
 * RoPE inverse frequencies after scaling, as transformers' modeling_rope_utils computes them
 * (default, linear, llama3, yarn) or from llama.cpp's per-frequency factors (rope_freqs).
 * Shared by the graph's cos/sin tables and the GGUF writer (which bakes llama3 into factors).
 */
import type { RopeScaling } from './spec.js';

/** yarn's default attention factor (transformers' get_mscale): 0.1·ln(factor) + 1 above 1. */
export const yarnMscale = (factor: number): number => (factor <= 1 ? 1 : 0.1 * Math.log(factor) + 1);

/** Inverse frequencies [rotaryDim/2] for base `theta`, after `scaling`, and the cos/sin multiplier. */
export function inverseFrequencies(
  theta: number,
  rotaryDim: number,
  scaling?: RopeScaling,
): { invFreq: Float64Array; attentionFactor: number } {
  const half = rotaryDim / 2;
  const base = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(theta, (2 * i) / rotaryDim));
  if (!scaling) return { invFreq: base, attentionFactor: 1 };
  switch (scaling.type) {
    case 'linear':
      return { invFreq: base.map((f) => f / scaling.factor), attentionFactor: 1 };
    case 'factors':
      return { invFreq: base.map((f, i) => f / scaling.factors[i]), attentionFactor: 1 };
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
      const correction = (rotations: number): number =>
        (rotaryDim * Math.log(originalContext / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
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
      const attentionFactor = scaling.attentionFactor ?? yarnMscale(factor);
      return { invFreq, attentionFactor };
    }
  }
}
