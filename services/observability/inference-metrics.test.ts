import { describe, expect, it } from 'vitest';
import { createMetrics, type InferenceEngineState } from './index.js';

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('inference series', () => {
  it('tokens/s, time to first token, batch occupancy and prefix-cache lookups follow the engine', async () => {
    let nowMs = 1_000_000;
    const metrics = createMetrics({ defaultMetrics: false, now: () => nowMs, stepRateWindowSeconds: 10 });
    let state: InferenceEngineState | undefined;
    metrics.collectInferenceEngine(() => state);
    expect(() => metrics.collectInferenceEngine(() => state)).toThrow(/already registered/);

    // no model loaded yet: nothing fails, the gauges read 0
    let text = await metrics.registry.metrics();
    expect(sample(text, 'ptune_inference_batch_running')).toBe(0);

    metrics.recordGeneration({ completionTokens: 30, timeToFirstTokenMs: 40 });
    nowMs += 2_000;
    metrics.recordGeneration({ completionTokens: 10, timeToFirstTokenMs: 300 });
    metrics.recordGeneration({ completionTokens: 0, timeToFirstTokenMs: 0 }); // cancelled before its first token
    state = { running: 3, queued: 1, slots: 4, prefixCacheHits: 5, prefixCacheMisses: 2, prefixCacheBytes: 4096 };
    text = await metrics.registry.metrics();
    expect(sample(text, 'ptune_inference_tokens_total')).toBe(40);
    expect(sample(text, 'ptune_inference_tokens_per_second')).toBe(20); // 40 tokens over the 2 s since the first
    expect(sample(text, 'ptune_inference_time_to_first_token_seconds_count')).toBe(2);
    expect(sample(text, 'ptune_inference_time_to_first_token_seconds_bucket{le="0.05"}')).toBe(1);
    expect(sample(text, 'ptune_inference_batch_occupancy')).toBe(0.75);
    expect(sample(text, 'ptune_inference_batch_queued')).toBe(1);
    expect(sample(text, 'ptune_inference_prefix_cache_bytes')).toBe(4096);
    expect(sample(text, 'ptune_inference_prefix_cache_lookups_total{result="hit"}')).toBe(5);

    state = { ...state, prefixCacheHits: 9, prefixCacheMisses: 3 };
    text = await metrics.registry.metrics();
    expect(sample(text, 'ptune_inference_prefix_cache_lookups_total{result="hit"}')).toBe(9);
    expect(sample(text, 'ptune_inference_prefix_cache_lookups_total{result="miss"}')).toBe(3);
  });
});
