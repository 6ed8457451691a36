export interface Tick {
  readonly value: number;
  readonly label: string;
}

/** About `target` evenly spaced round values (1, 2 or 5 × 10^k apart) inside [lo, hi]. */
export function linearTicks(lo: number, hi: number, target: number, minStep = 0): Tick[] {
  const step = Math.max(niceStep((hi - lo) / target), minStep);
  const ticks: Tick[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
    const value = Number((k * step).toPrecision(12));
    ticks.push({ value, label: formatTick(value, step) });
  }
  return ticks;
}

/** Powers of ten (with 2× and 5× when the range is short) inside [lo, hi]; round linear values under one decade. */
export function logTicks(lo: number, hi: number, target: number): Tick[] {
  const decades = Math.log10(hi / lo);
  if (decades < 1) return linearTicks(lo, hi, target);
  const multipliers = decades < 2.5 ? [1, 2, 5] : [1];
  const ticks: Tick[] = [];
  for (let exponent = Math.floor(Math.log10(lo)); exponent <= Math.ceil(Math.log10(hi)); exponent++) {
    for (const multiplier of multipliers) {
      const value = Number((multiplier * 10 ** exponent).toPrecision(12));
      if (value >= lo && value <= hi) ticks.push({ value, label: formatTick(value, value) });
    }
  }
  return ticks;
}

function niceStep(rough: number): number {
  if (!(rough > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power;
}

/** As many decimals as the spacing needs; thousands as "k" on wide integer axes. */
function formatTick(value: number, step: number): string {
  if (Math.abs(value) >= 10_000 && step >= 1000 && value % 1000 === 0) return `${value / 1000}k`;
  const decimals = Math.min(10, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  return value.toFixed(decimals);
}
