import { describe, expect, it } from 'vitest';
import { sparkline } from './sparkline.js';

describe('sparkline', () => {
  it('maps min to the lowest bar and max to the highest', () => {
    expect(sparkline([3, 2, 1, 0])).toBe('█▆▃▁');
  });

  it('averages into buckets and handles flat and empty series', () => {
    expect(sparkline([4, 4, 0, 0], 2)).toBe('█▁');
    expect(sparkline([5, 5, 5])).toBe('▁▁▁');
    expect(sparkline([])).toBe('');
  });
});
