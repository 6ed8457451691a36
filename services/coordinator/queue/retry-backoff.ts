export interface RetryBackoff {
  /** delay before the second attempt */
  baseMs: number;
  /** longest delay */
  maxMs: number;
}

/** Exponential backoff: base, 2·base, 4·base … capped, after `attempts` failed attempts (≥ 1). */
export function retryDelayMs(backoff: RetryBackoff, attempts: number): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
}
