import { createOnlineEwma, lambdaForInterval } from './ewma.js';
import { ResidualDistribution, unitT4Tail, type ResidualDistributionOptions, type TailSide } from './fhs.js';
import { normPdf, normQuantile } from './normal.js';
import { SortedWindow } from './sorted-window.js';

/**
 * One-step VaR models of a return series, fed one return at a time, as the keeper sees them
 * and as a rolling backtest must replay them (no look-ahead). VaR and ES are positive loss
 * thresholds in return units: a long loses more than VaR when r < -VaR, a short when r > VaR.
 * Multiply by the absolute USD delta for money. Every parameter is a property of the sampling
 * interval (an EWMA half-life in wall-clock time), never of the asset.
 */

export interface VarForecast {
  varReturn: number;
  esReturn: number;
  /** How the figure was made, for the log line (e.g. "fhs(1,200 residuals)"). */
  source: string;
}

export interface VarModel {
  readonly name: string;
  /** The next return's VaR/ES; undefined while the model has too little history. */
  forecast(confidence: number, side?: TailSide): VarForecast | undefined;
  observe(r: number): void;
}

export interface VarModelSpec {
  name: string;
  description: string;
  /** A fresh model for returns sampled every `periodSec` seconds. */
  create(periodSec: number): VarModel;
}

/** RiskMetrics' daily lambda 0.94 kept as a half-life in wall-clock time (~11.2 days). */
export const ewmaLambdaFor = (periodSec: number): number => lambdaForInterval(periodSec);

function checkConfidence(c: number): void {
  if (!(c > 0.5 && c < 1)) throw new RangeError(`VaR confidence must be in (0.5, 1), got ${c}`);
}

/** Delta-normal with an EWMA variance and zero mean: the keeper's VaR before issue 12. */
export function createEwmaNormalModel(periodSec: number): VarModel {
  const ewma = createOnlineEwma({ lambda: ewmaLambdaFor(periodSec) });
  return {
    name: 'ewma-normal',
    forecast(confidence) {
      checkConfidence(confidence);
      const v = ewma.variance;
      if (v === undefined) return undefined;
      const sd = Math.sqrt(v);
      const z = normQuantile(confidence);
      return { varReturn: z * sd, esReturn: (sd * normPdf(z)) / (1 - confidence), source: 'ewma-normal' };
    },
    observe: (r) => ewma.observe(r),
  };
}

export interface FhsModelOptions extends ResidualDistributionOptions {
  /** Residuals needed before their own quantile replaces the t(4) prior. Default 200. */
  minResiduals?: number;
}

/**
 * Filtered historical simulation on an EWMA volatility (see fhs.ts): residual z = r / sd, with
 * sd the EWMA forecast made before r; VaR = -sd_today * quantile(z) on the loss side, ES = the
 * tail mean times sd_today. Before `minResiduals` residuals it uses a unit-variance t(4) shape.
 */
export function createFhsEwmaModel(periodSec: number, opts: FhsModelOptions = {}): VarModel {
  const ewma = createOnlineEwma({ lambda: ewmaLambdaFor(periodSec) });
  const residuals = new ResidualDistribution(opts);
  const minResiduals = opts.minResiduals ?? 200;
  return {
    name: 'fhs-ewma',
    forecast(confidence, side = 'lower') {
      checkConfidence(confidence);
      const v = ewma.variance;
      if (v === undefined) return undefined;
      const sd = Math.sqrt(v);
      if (residuals.count < minResiduals) {
        const t4 = unitT4Tail(confidence);
        return { varReturn: t4.varMultiple * sd, esReturn: t4.esMultiple * sd, source: `fhs(prior t4, ${residuals.count} residuals)` };
      }
      const tail = residuals.tail(confidence, side);
      const sign = side === 'lower' ? -1 : 1;
      const state = tail.conditioned ? ', by state' : '';
      return { varReturn: sign * tail.quantile * sd, esReturn: sign * tail.tailMean * sd, source: `fhs(${residuals.count} residuals${state})` };
    },
    observe(r) {
      const v = ewma.variance;
      if (v !== undefined && v > 0) residuals.add(r / Math.sqrt(v));
      ewma.observe(r);
    },
  };
}

/** Plain historical simulation over the last `window` returns (no volatility filter). */
export function createHistoricalModel(opts: { window?: number; minReturns?: number } = {}): VarModel {
  const window = new SortedWindow(opts.window ?? 1_000);
  const minReturns = opts.minReturns ?? 100;
  return {
    name: 'historical',
    forecast(confidence, side = 'lower') {
      checkConfidence(confidence);
      if (window.count < minReturns) return undefined;
      const q = window.quantile(side === 'lower' ? 1 - confidence : confidence);
      const tail = side === 'lower' ? window.meanAtOrBelow(q) : window.meanAtOrAbove(q);
      const sign = side === 'lower' ? -1 : 1;
      return { varReturn: sign * q, esReturn: sign * tail, source: `historical(${window.count} returns)` };
    },
    observe: (r) => window.push(r),
  };
}

/** The models the keeper ships; the first flagged `isDefault` is the one it logs. */
export const VAR_MODELS: readonly (VarModelSpec & { isDefault: boolean })[] = [
  { name: 'ewma-normal', isDefault: false, description: 'EWMA variance (RiskMetrics half-life), normal quantile', create: (p) => createEwmaNormalModel(p) },
  { name: 'fhs-ewma', isDefault: true, description: 'filtered historical simulation on the EWMA volatility, residuals conditioned on the previous tail state', create: (p) => createFhsEwmaModel(p) },
  { name: 'historical', isDefault: false, description: 'historical simulation over the last 1,000 returns', create: () => createHistoricalModel() },
];

export const DEFAULT_VAR_MODEL = VAR_MODELS.find((m) => m.isDefault)!;
