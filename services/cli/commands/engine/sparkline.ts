const BARS = '▁▂▃▄▅▆▇█';

/** One line of block characters for a series: averaged into at most `width` buckets, scaled min→max. */
export function sparkline(values: readonly number[], width = 40): string {
  if (values.length === 0) return '';
  const buckets = Math.min(width, values.length);
  const means = Array.from({ length: buckets }, (_, b) => {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.floor(((b + 1) * values.length) / buckets);
    let sum = 0;
    for (let i = from; i < to; i++) sum += values[i];
    return sum / (to - from);
  });
  const lo = Math.min(...means);
  const span = Math.max(...means) - lo;
  return means.map((m) => BARS[span === 0 ? 0 : Math.round(((m - lo) / span) * (BARS.length - 1))]).join('');
}
