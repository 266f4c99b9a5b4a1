import { normPdf, normQuantile } from './normal.js';

/**
 * Value at Risk and Expected Shortfall of a position's P&L, as positive USD losses.
 *
 * Conventions: `confidence` is the VaR level (0.95, 0.99); a horizon of h periods scales the
 * per-period volatility by sqrt(h) (i.i.d. returns, zero mean unless given), the usual
 * regulatory shortcut; it understates multi-period risk when volatility clusters (use a GARCH
 * horizon variance instead and pass volPerPeriod = sqrt(horizonVariance / h)).
 * `deltaUsd` is the position's USD sensitivity to a relative price move: net delta in base
 * units times the price; positive = long.
 */

export interface VarResult {
  confidence: number;
  horizonPeriods: number;
  /** Loss not exceeded with probability `confidence`, USD (>= 0 means a loss). */
  varUsd: number;
  /** Mean loss given the loss is at least VaR, USD. */
  esUsd: number;
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0.5 && confidence < 1)) throw new RangeError(`confidence must be in (0.5, 1), got ${confidence}`);
}

function checkHorizon(h: number): void {
  if (!(h > 0)) throw new RangeError(`horizonPeriods must be > 0, got ${h}`);
}

export interface ParametricVarInput {
  deltaUsd: number;
  volPerPeriod: number;
  confidence: number;
  horizonPeriods?: number;
  /** Expected log return per period. Default 0 (the conservative choice for short horizons). */
  meanPerPeriod?: number;
}

/** Delta-normal VaR/ES: P&L = deltaUsd * r, r ~ N(mu h, vol^2 h). */
export function parametricVar(input: ParametricVarInput): VarResult {
  const h = input.horizonPeriods ?? 1;
  checkConfidence(input.confidence);
  checkHorizon(h);
  if (!(input.volPerPeriod >= 0)) throw new RangeError(`volPerPeriod must be >= 0, got ${input.volPerPeriod}`);
  const z = normQuantile(input.confidence);
  const sdUsd = Math.abs(input.deltaUsd) * input.volPerPeriod * Math.sqrt(h);
  const driftUsd = input.deltaUsd * (input.meanPerPeriod ?? 0) * h;
  return {
    confidence: input.confidence,
    horizonPeriods: h,
    varUsd: z * sdUsd - driftUsd,
    esUsd: (sdUsd * normPdf(z)) / (1 - input.confidence) - driftUsd,
  };
}

/**
 * Quantile of ascending-sorted data with linear interpolation between order statistics
 * (Hyndman & Fan type 7, the default of numpy, R and Excel's PERCENTILE.INC):
 * position (n - 1) * q, interpolated between its floor and ceiling.
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantileSorted: empty data');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantileSorted: q must be in [0, 1], got ${q}`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface HistoricalVarInput {
  /** Per-period log returns. */
  returns: readonly number[];
  deltaUsd: number;
  confidence: number;
  horizonPeriods?: number;
}

/**
 * Historical-simulation VaR/ES: each past return is replayed on today's position with full
 * revaluation of a linear position, loss = -deltaUsd * (e^r - 1). VaR is the type-7 quantile
 * (see quantileSorted) of the losses at `confidence`; ES is the mean of the losses >= VaR.
 * A horizon h > 1 scales both by sqrt(h) (overlapping h-period returns would need far more
 * history than a keeper keeps).
 */
export function historicalVar(input: HistoricalVarInput): VarResult {
  const h = input.horizonPeriods ?? 1;
  checkConfidence(input.confidence);
  checkHorizon(h);
  if (input.returns.length === 0) throw new RangeError('historicalVar: no returns');
  const losses = input.returns.map((r) => -input.deltaUsd * Math.expm1(r)).sort((a, b) => a - b);
  const varUsd = quantileSorted(losses, input.confidence);
  const tail = losses.filter((l) => l >= varUsd);
  const esUsd = tail.reduce((a, b) => a + b, 0) / tail.length;
  const scale = Math.sqrt(h);
  return { confidence: input.confidence, horizonPeriods: h, varUsd: varUsd * scale, esUsd: esUsd * scale };
}

export interface PortfolioVarInput {
  /** USD delta per asset (base units held times price), same order as the covariance. */
  deltasUsd: readonly number[];
  /** Covariance matrix of the assets' per-period returns. */
  covariance: readonly (readonly number[])[];
  confidence: number;
  horizonPeriods?: number;
}

export interface PortfolioVarResult extends VarResult {
  /** Standard deviation of the portfolio's P&L over the horizon, USD. */
  sdUsd: number;
  /** Euler allocation of VaR to each asset; sums to varUsd. */
  componentVarUsd: number[];
}

/** Multi-asset delta-normal VaR: sd = sqrt(d' S d) * sqrt(h). */
export function portfolioVar(input: PortfolioVarInput): PortfolioVarResult {
  const h = input.horizonPeriods ?? 1;
  checkConfidence(input.confidence);
  checkHorizon(h);
  const d = input.deltasUsd;
  const cov = input.covariance;
  if (cov.length !== d.length || cov.some((row) => row.length !== d.length)) {
    throw new RangeError(`portfolioVar: covariance must be ${d.length}x${d.length}`);
  }
  const sigmaD = cov.map((row) => row.reduce((acc, c, j) => acc + c * d[j]!, 0));
  const variance = sigmaD.reduce((acc, x, i) => acc + x * d[i]!, 0);
  // Rounding can leave a tiny negative; anything larger means the matrix is not a covariance.
  const scale = sigmaD.reduce((acc, x, i) => acc + Math.abs(x * d[i]!), 0);
  if (variance < -1e-9 * scale) throw new RangeError('portfolioVar: covariance is not positive semi-definite');
  const sdPeriod = Math.sqrt(Math.max(0, variance));
  const z = normQuantile(input.confidence);
  const sdUsd = sdPeriod * Math.sqrt(h);
  const varUsd = z * sdUsd;
  return {
    confidence: input.confidence,
    horizonPeriods: h,
    varUsd,
    esUsd: (sdUsd * normPdf(z)) / (1 - input.confidence),
    sdUsd,
    componentVarUsd: d.map((di, i) => (sdPeriod === 0 ? 0 : (z * Math.sqrt(h) * di * sigmaD[i]!) / sdPeriod)),
  };
}
