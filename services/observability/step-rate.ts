/** Events per second over a sliding window, kept in one bucket per second. */
export interface StepRate {
  record(count: number): void;
  perSecond(): number;
}

export function createStepRate(windowSeconds: number, now: () => number): StepRate {
  if (!(Number.isInteger(windowSeconds) && windowSeconds >= 1)) {
    throw new Error(`stepRateWindowSeconds must be an integer >= 1, got ${windowSeconds}`);
  }
  const counts = new Float64Array(windowSeconds);
  const seconds = new Float64Array(windowSeconds).fill(-Infinity);
  let firstMs: number | undefined;

  return {
    record(count) {
      const t = now();
      firstMs ??= t;
      const second = Math.floor(t / 1000);
      const slot = second % windowSeconds;
      if (seconds[slot] !== second) {
        seconds[slot] = second;
        counts[slot] = 0;
      }
      counts[slot] += count;
    },
    perSecond() {
      if (firstMs === undefined) return 0;
      const t = now();
      const oldest = Math.floor(t / 1000) - windowSeconds;
      let total = 0;
      for (let slot = 0; slot < windowSeconds; slot++) if (seconds[slot] > oldest) total += counts[slot];
      // Right after the first step the window is not full yet: divide by the time actually covered
      // (at least one second, so a single early step does not read as a huge rate).
      const span = Math.min(windowSeconds, Math.max(1, (t - firstMs) / 1000));
      return total / span;
    },
  };
}
