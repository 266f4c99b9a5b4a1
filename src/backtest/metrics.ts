import { SECONDS_PER_YEAR } from '../core/risk/returns.js';
import type { Attribution } from './record.js';
import type { PolicyRun } from './simulate.js';

/**
 * The figures a backtest reports per policy. Definitions:
 * - costUsd (hedging cost): taker fees + slippage + transaction costs (hedge trades and
 *   top-ups) + net funding paid + liquidation penalties, USD. LP recentering is not in it (it
 *   does not depend on the policy; it is in the attribution).
 * - perCloseStdUsd: standard deviation of the change of the portfolio value from one close to
 *   the next, pooled over all closes of all episodes: the risk the hedge leaves. perTickStdUsd:
 *   the same per keeper tick.
 * - hedgeEffectiveness: 1 - variance / variance of the unhedged portfolio (per close): the
 *   share of the variance the hedge removes (null without an unhedged run).
 * - Sharpe / Sortino: mean per-close P&L over its standard deviation (Sortino: over the
 *   downside deviation sqrt(mean(min(pnl, 0)^2))), times sqrt(closes per year). In USD: capital
 *   flows in and out of the LP make returns on value ill-defined.
 * - max drawdown: largest fall of the cumulative P&L from a previous peak, USD.
 * - time outside band: % of ticks whose deviation exceeded the band before the keeper acted
 *   (a time-based policy is measured against the fixed band of the same base policy).
 * - episodes: per-episode P&L and cost (mean, std, worst), trades per episode.
 */

export interface EpisodeMetrics {
  count: number;
  meanCostUsd: number;
  meanPnlUsd: number;
  stdPnlUsd: number;
  worstPnlUsd: number;
  tradesPerEpisode: number;
  pnlUsd: number[];
  costUsd: number[];
}

export interface YearMetrics {
  year: number;
  closes: number;
  pnlUsd: number;
  costUsd: number;
  perCloseStdUsd: number;
  trades: number;
}

export interface PolicyMetrics {
  costUsd: number;
  trades: number;
  perCloseStdUsd: number;
  perTickStdUsd: number;
  hedgeEffectiveness: number | null;
  meanPnlUsd: number;
  totalPnlUsd: number;
  maxDrawdownUsd: number;
  sharpe: number;
  sortino: number;
  costs: { feesUsd: number; slippageUsd: number; gasUsd: number; fundingUsd: number; penaltyUsd: number };
  attribution: Attribution;
  tradedEth: number;
  topUps: number;
  toppedUpUsd: number;
  liquidations: number;
  badDebtUsd: number;
  guardBlocked: number;
  venueRejected: number;
  timeOutsideBandPct: number;
  /** Share of ticks that went through assess -> plan -> guard (the others provably plan nothing). */
  plannedTicksPct: number;
  episodes?: EpisodeMetrics;
  perYear: YearMetrics[];
  runtimeMs: number;
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

/** Running sum: the cumulative P&L from per-close P&L. */
export function cumulative(xs: ArrayLike<number>): Float64Array {
  const out = new Float64Array(xs.length);
  let s = 0;
  for (let i = 0; i < xs.length; i++) out[i] = s += xs[i]!;
  return out;
}

/** Drawdown below the running peak at each point (<= 0), USD. */
export function drawdownSeries(cum: ArrayLike<number>): Float64Array {
  const out = new Float64Array(cum.length);
  let peak = -Infinity;
  for (let i = 0; i < cum.length; i++) {
    peak = Math.max(peak, cum[i]!);
    out[i] = cum[i]! - peak;
  }
  return out;
}

export function maxDrawdown(cum: ArrayLike<number>): number {
  const dd = drawdownSeries(cum);
  let worst = 0;
  for (let i = 0; i < dd.length; i++) worst = Math.min(worst, dd[i]!);
  return -worst;
}

const usd = (units: bigint): number => Number(units) / 1e6;

function episodeMetrics(run: PolicyRun): EpisodeMetrics {
  const pnl = run.episodes.map((e) => e.pnlUsd);
  const cost = run.episodes.map((e) => e.costUsd);
  return {
    count: pnl.length, meanCostUsd: mean(cost), meanPnlUsd: mean(pnl), stdPnlUsd: stdDev(pnl), worstPnlUsd: Math.min(...pnl),
    tradesPerEpisode: mean(run.episodes.map((e) => e.trades)), pnlUsd: pnl, costUsd: cost,
  };
}

function perYear(run: PolicyRun): YearMetrics[] {
  const { timeSec, pnlUsd, cumCostUsd, cumTrades } = run.series;
  const out: YearMetrics[] = [];
  const yearOf = (sec: number): number => new Date(sec * 1000).getUTCFullYear();
  const push = (from: number, to: number, year: number): void => {
    const slice = pnlUsd.subarray(from, to);
    out.push({
      year, closes: to - from, pnlUsd: slice.reduce((a, b) => a + b, 0), costUsd: cumCostUsd[to - 1]! - cumCostUsd[from - 1]!,
      perCloseStdUsd: stdDev(slice), trades: cumTrades[to - 1]! - cumTrades[from - 1]!,
    });
  };
  if (timeSec.length < 2) return out;
  let from = 1;
  let year = yearOf(timeSec[1]!);
  let nextYearSec = Date.UTC(year + 1, 0, 1) / 1000;
  for (let k = 2; k < timeSec.length; k++) {
    if (timeSec[k]! < nextYearSec) continue;
    push(from, k, year);
    from = k;
    year = yearOf(timeSec[k]!);
    nextYearSec = Date.UTC(year + 1, 0, 1) / 1000;
  }
  push(from, timeSec.length, year);
  return out;
}

export function policyMetrics(run: PolicyRun, intervalSec: number, unhedgedVariance: number | null): PolicyMetrics {
  const pnl = run.series.pnlUsd.subarray(1);
  const m = mean(pnl);
  const sd = stdDev(pnl);
  const scale = Math.sqrt(SECONDS_PER_YEAR / intervalSec);
  const t = run.totals;
  const a = run.attribution;
  const cost = -(a.feesUsd + a.slippageUsd + a.gasUsd + a.fundingUsd + a.penaltiesUsd);
  return {
    costUsd: cost,
    trades: t.trades,
    perCloseStdUsd: sd,
    perTickStdUsd: run.tickPnl.n > 1 ? Math.sqrt(run.tickPnl.m2 / (run.tickPnl.n - 1)) : NaN,
    hedgeEffectiveness: unhedgedVariance ? 1 - (sd * sd) / unhedgedVariance : null,
    meanPnlUsd: m,
    totalPnlUsd: a.totalUsd,
    maxDrawdownUsd: maxDrawdown(cumulative(run.series.pnlUsd)),
    sharpe: (m / sd) * scale,
    sortino: (m / downsideDev(pnl)) * scale,
    costs: { feesUsd: -a.feesUsd, slippageUsd: -a.slippageUsd, gasUsd: -a.gasUsd, fundingUsd: -a.fundingUsd, penaltyUsd: -a.penaltiesUsd },
    attribution: a,
    tradedEth: Number(t.tradedWei) / 1e18,
    topUps: t.topUps,
    toppedUpUsd: usd(t.depositUnits),
    liquidations: t.liquidations,
    badDebtUsd: usd(t.badDebtUnits),
    guardBlocked: t.guardBlocked,
    venueRejected: t.venueRejected,
    timeOutsideBandPct: t.ticks > 0 ? (100 * t.ticksOutsideBand) / t.ticks : 0,
    plannedTicksPct: t.ticks > 0 ? (100 * t.plannedTicks) / t.ticks : 0,
    ...(run.episodes.length > 1 ? { episodes: episodeMetrics(run) } : {}),
    perYear: perYear(run),
    runtimeMs: run.runtimeMs,
  };
}

/** Metrics of every run; hedge effectiveness against the `unhedged` run when there is one. */
export function runMetrics(runs: readonly PolicyRun[], intervalSec: number): { run: PolicyRun; metrics: PolicyMetrics }[] {
  const unhedged = runs.find((r) => r.kind === 'unhedged');
  const v = unhedged ? stdDev(unhedged.series.pnlUsd.subarray(1)) ** 2 : null;
  return runs.map((run) => ({ run, metrics: policyMetrics(run, intervalSec, v) }));
}
