export type { LossPlotOptions, LossSeries } from './loss-series.js';
export { renderLossCurvesSvg } from './render-svg.js';
export { seriesColor } from './palette.js';
export { renderLossCurvesPng } from './render-png.js';
