import { SECONDS_PER_YEAR } from '../core/risk/returns.js';
import type { CostTotals, PolicyCounters, PolicyRun } from './simulate.js';

/**
 * The figures a backtest reports per policy. Definitions:
 * - hedging cost: taker fees + slippage + gas (hedge trades and top-ups) + net funding paid +
 *   liquidation penalties, USD. LP recentering costs are not in it (they do not depend on the
 *   policy and are reported with the market).
 * - residual std: standard deviation of the per-step (per keeper tick) change in portfolio
 *   value, USD: the risk the hedge leaves (moves on the unhedged delta, the LP's gamma, costs),
 *   seen as often as the keeper looks. Also reported per close (hourly on the shipped data):
 *   that grid coincides with an hourly rebalancer's schedule, the moments its delta is zero,
 *   so it shows a time-based policy at its best.
 * The remaining figures are on the closes (the data's own grid):
 * - Sharpe / Sortino: mean per-close P&L over its standard deviation (Sortino: over the
 *   downside deviation sqrt(mean(min(pnl, 0)^2))), times sqrt(closes per year). In USD, not on
 *   returns: capital flows in and out of the LP make returns on value ill-defined.
 * - max drawdown: largest fall of the portfolio value from a previous peak, USD and % of it.
 * - time outside band: % of ticks whose deviation exceeded the band before the keeper acted
 *   (a time-based policy is measured against the fixed band of the same base policy).
 */

/** The run's own counters, as counted by the simulation (ticks become timeOutsideBandPct). */
type CountedMetrics = Omit<PolicyCounters, 'ticks' | 'ticksOutsideBand'>;

export interface PolicyMetrics extends CountedMetrics {
  hedgingCostUsd: number;
  costs: CostTotals;
  /** Per step (keeper tick). */
  residualStdUsd: number;
  /** Per close (the data's interval). */
  residualStdPerCloseUsd: number;
  meanPnlUsd: number;
  totalPnlUsd: number;
  maxDrawdownUsd: number;
  maxDrawdownPct: number;
  sharpe: number;
  sortino: number;
  timeOutsideBandPct: number;
  runtimeMs: number;
}

export function pnlSeries(valueUsd: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(0, valueUsd.length - 1));
  for (let i = 1; i < valueUsd.length; i++) out[i - 1] = valueUsd[i]! - valueUsd[i - 1]!;
  return out;
}

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Sample standard deviation (n - 1). */
export function stdDev(xs: ArrayLike<number>): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

export function downsideDev(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.min(xs[i]!, 0) ** 2;
  return Math.sqrt(s / xs.length);
}

export function maxDrawdown(valueUsd: ArrayLike<number>): { usd: number; pct: number } {
  let peak = -Infinity;
  let usd = 0;
  let pct = 0;
  for (let i = 0; i < valueUsd.length; i++) {
    const v = valueUsd[i]!;
    if (v > peak) peak = v;
    const dd = peak - v;
    if (dd > usd) {
      usd = dd;
      pct = peak > 0 ? (100 * dd) / peak : NaN;
    }
  }
  return { usd, pct };
}

export function policyMetrics(run: PolicyRun, intervalSec: number): PolicyMetrics {
  const pnl = pnlSeries(run.series.valueUsd);
  const m = mean(pnl);
  const sd = stdDev(pnl);
  const scale = Math.sqrt(SECONDS_PER_YEAR / intervalSec);
  const dd = maxDrawdown(run.series.valueUsd);
  const { ticks, ticksOutsideBand, ...counted } = run.counters;
  const v = run.series.valueUsd;
  return {
    hedgingCostUsd: run.costs.totalUsd,
    costs: run.costs,
    residualStdUsd: run.tickPnl.n > 1 ? Math.sqrt(run.tickPnl.m2 / (run.tickPnl.n - 1)) : NaN,
    residualStdPerCloseUsd: sd,
    meanPnlUsd: m,
    totalPnlUsd: v.length > 0 ? v[v.length - 1]! - v[0]! : 0,
    maxDrawdownUsd: dd.usd,
    maxDrawdownPct: dd.pct,
    sharpe: (m / sd) * scale,
    sortino: (m / downsideDev(pnl)) * scale,
    ...counted,
    timeOutsideBandPct: ticks > 0 ? (100 * ticksOutsideBand) / ticks : 0,
    runtimeMs: run.runtimeMs,
  };
}
