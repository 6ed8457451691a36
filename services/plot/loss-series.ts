/** One trial's loss curve. */
export interface LossSeries {
  readonly label: string;
  /** Any order; non-finite losses (and, on a log scale, losses ≤ 0) break the line there. */
  readonly points: readonly { readonly step: number; readonly loss: number }[];
}

export interface LossPlotOptions {
  readonly title?: string;
  /** Pixels; default 800. */
  readonly width?: number;
  /** Pixels; default 450. */
  readonly height?: number;
  /** Loss axis on a log scale. Default false. */
  readonly logScale?: boolean;
}
