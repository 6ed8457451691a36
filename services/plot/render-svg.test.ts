// fast-xml-parser comes with the s3rver dev dependency; its validator is a real XML well-formedness check.
import fastXmlParser from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderLossCurvesSvg, type LossSeries } from './index.js';

const line = (label: string, from: number, to: number, steps = 50): LossSeries => ({
  label,
  points: Array.from({ length: steps + 1 }, (_, step) => ({ step, loss: from + ((to - from) * step) / steps })),
});

function expectWellFormed(svg: string): void {
  expect(fastXmlParser.validate(svg)).toBe(true);
}

const paths = (svg: string) => [...svg.matchAll(/<path stroke="(#[0-9a-f]{6})" d="([^"]*)"><title>([^<]*)<\/title><\/path>/g)];

describe('renderLossCurvesSvg', () => {
  it('is well-formed SVG with one coloured path per series and a legend entry for each', () => {
    const svg = renderLossCurvesSvg([line('sentiment lr=0.1', 4, 2), line('summarize & <tl;dr>', 5, 3), line('qa', 3, 1)], {
      title: 'job 42',
    });
    expectWellFormed(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="800" height="450"')).toBe(true);
    const series = paths(svg);
    expect(series.map((m) => m[3])).toEqual(['sentiment lr=0.1', 'summarize &amp; &lt;tl;dr&gt;', 'qa']);
    expect(new Set(series.map((m) => m[1])).size).toBe(3);
    for (const m of series) expect(m[2].match(/[ML]/g)).toHaveLength(51);
    for (const label of ['sentiment lr=0.1', 'summarize &amp; &lt;tl;dr&gt;', 'qa', 'job 42', 'step', '>loss<'])
      expect(svg).toContain(label);
  });

  it('higher loss is drawn higher, later steps further right', () => {
    const [match] = paths(renderLossCurvesSvg([line('falling', 4, 2)]));
    const points = [...match[2].matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(points[0][0]).toBeLessThan(points[50][0]);
    expect(points[0][1]).toBeLessThan(points[50][1]);
  });

  it('breaks the line at non-finite losses, and on a log scale at losses ≤ 0', () => {
    const points = [1, 2, NaN, 4, 5, 0, 7].map((loss, step) => ({ step, loss }));
    const linear = paths(renderLossCurvesSvg([{ label: 'gaps', points }]))[0][2];
    expect(linear.match(/M/g)).toHaveLength(2);
    const logSvg = renderLossCurvesSvg([{ label: 'gaps', points }], { logScale: true });
    expectWellFormed(logSvg);
    expect(paths(logSvg)[0][2].match(/M/g)).toHaveLength(3);
    expect(logSvg).toContain('loss (log scale)');
    // the lone point at step 6 is a dot
    expect(logSvg.match(/<circle /g)).toHaveLength(1);
  });

  it('says so when there is nothing to draw', () => {
    const svg = renderLossCurvesSvg([{ label: 'waiting', points: [] }]);
    expectWellFormed(svg);
    expect(svg).toContain('no loss values yet');
    expect(paths(svg)[0][2]).toBe('');
  });

  it('keeps long runs to a few points per pixel column', () => {
    const noisy = Array.from({ length: 100_000 }, (_, step) => ({ step, loss: 3 + Math.sin(step) }));
    const [match] = paths(renderLossCurvesSvg([{ label: 'long', points: noisy }]));
    const commands = match[2].match(/[ML]/g)?.length ?? 0;
    expect(commands).toBeGreaterThan(800);
    expect(commands).toBeLessThanOrEqual(4 * 800);
  });

  it('shortens legend labels that would not fit, and lists the series that do not as "+N more"', () => {
    const many = Array.from({ length: 40 }, (_, i) => line(`trial ${i} ${'x'.repeat(80)}`, 3, 1, 5));
    const svg = renderLossCurvesSvg(many, { height: 300 });
    expectWellFormed(svg);
    expect(paths(svg)).toHaveLength(40);
    expect(svg).toMatch(/>trial 0 x+\.\.\.</);
    expect(svg).toMatch(/>\+\d+ more</);
  });

  it('refuses a size with no room for the plot', () => {
    expect(() => renderLossCurvesSvg([line('a', 2, 1)], { width: 100, height: 60 })).toThrow(/100×60 px leaves no room for the plot area/);
  });
});
