import { annualiseVol } from './returns.js';

/**
 * RiskMetrics EWMA variance: v[t+1] = lambda * v[t] + (1 - lambda) * r[t]^2, zero mean.
 *
 * lambda = 0.94 is RiskMetrics' value for DAILY returns (half-life ~11 days). Applied as is to
 * hourly returns it would forget in ~11 hours; for hourly data either use a lambda with the same
 * half-life in wall-clock time (lambdaForInterval: 0.94^(1/24) ~ 0.9974) or accept the faster
 * decay knowingly. That is why lambda is an option and not a constant.
 */
export const RISKMETRICS_DAILY_LAMBDA = 0.94;

export interface EwmaOptions {
  /** Decay factor in (0, 1). Default 0.94 (RiskMetrics daily). */
  lambda?: number;
  /** Initial variance. Default: mean of r^2 over the first `seedCount` returns. */
  seedVariance?: number;
  /** Returns averaged for the default seed. Default 30. */
  seedCount?: number;
  /** Sampling interval, to report an annualised volatility. */
  intervalSec?: number;
}

export interface EwmaResult {
  lambda: number;
  seedVariance: number;
  /** forecasts[i]: variance of returns[i] known before it was observed (forecasts[0] = seed). */
  forecasts: number[];
  /** variances[i]: variance after observing returns[i] (= forecasts[i + 1]). */
  variances: number[];
  /** Variance forecast for the next, unseen period. */
  lastVariance: number;
  lastVol: number;
  /** lastVol annualised, when intervalSec was given. */
  volAnnual: number | undefined;
}

/** The lambda whose half-life in wall-clock time equals refLambda's at refIntervalSec. */
export function lambdaForInterval(
  intervalSec: number,
  ref: { lambda?: number; intervalSec?: number } = {},
): number {
  const refLambda = ref.lambda ?? RISKMETRICS_DAILY_LAMBDA;
  const refIntervalSec = ref.intervalSec ?? 86_400;
  return refLambda ** (intervalSec / refIntervalSec);
}

/** Half-life of an EWMA in periods: ln(0.5) / ln(lambda). */
export function ewmaHalfLifePeriods(lambda: number): number {
  return Math.log(0.5) / Math.log(lambda);
}

export function ewmaVolatility(returns: readonly number[], opts: EwmaOptions = {}): EwmaResult {
  const lambda = opts.lambda ?? RISKMETRICS_DAILY_LAMBDA;
  if (!(lambda > 0 && lambda < 1)) throw new RangeError(`ewmaVolatility: lambda must be in (0, 1), got ${lambda}`);
  const seedVariance = opts.seedVariance ?? defaultSeed(returns, opts.seedCount ?? 30);
  if (!(seedVariance >= 0)) throw new RangeError(`ewmaVolatility: bad seed variance ${seedVariance}`);
  const forecasts = new Array<number>(returns.length + 1);
  forecasts[0] = seedVariance;
  let v = seedVariance;
  for (let i = 0; i < returns.length; i++) {
    const r = returns[i]!;
    v = lambda * v + (1 - lambda) * r * r;
    forecasts[i + 1] = v;
  }
  const lastVol = Math.sqrt(v);
  return {
    lambda,
    seedVariance,
    forecasts: forecasts.slice(0, returns.length),
    variances: forecasts.slice(1),
    lastVariance: v,
    lastVol,
    volAnnual: opts.intervalSec === undefined ? undefined : annualiseVol(lastVol, opts.intervalSec),
  };
}

function defaultSeed(returns: readonly number[], seedCount: number): number {
  const n = Math.min(seedCount, returns.length);
  if (n === 0) throw new RangeError('ewmaVolatility: no returns and no seedVariance');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += returns[i]! * returns[i]!;
  return sum / n;
}

/** An EWMA variance fed one return at a time (the online form of ewmaVolatility). */
export interface OnlineEwma {
  /** Variance forecast for the next return; undefined until `seedCount` returns were seen. */
  readonly variance: number | undefined;
  readonly observations: number;
  observe(r: number): void;
}

/**
 * Seeded with the mean of r^2 over the first `seedCount` returns (as ewmaVolatility), but
 * only once they have been observed, so a rolling backtest never uses a return before its
 * turn; from then on v <- lambda v + (1 - lambda) r^2.
 */
export function createOnlineEwma(opts: { lambda: number; seedCount?: number }): OnlineEwma {
  const { lambda } = opts;
  if (!(lambda > 0 && lambda < 1)) throw new RangeError(`createOnlineEwma: lambda must be in (0, 1), got ${lambda}`);
  const seedCount = opts.seedCount ?? 30;
  let v: number | undefined;
  let seedSum = 0;
  let n = 0;
  return {
    get variance() {
      return v;
    },
    get observations() {
      return n;
    },
    observe(r) {
      n++;
      if (v === undefined) {
        seedSum += r * r;
        if (n >= seedCount) v = seedSum / n;
        return;
      }
      v = lambda * v + (1 - lambda) * r * r;
    },
  };
}
