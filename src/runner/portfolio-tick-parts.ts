import { shortCostPcts } from '../venues/venue-rates.js';
import type { Logger } from 'pino';
import type { PortfolioAssessment } from '../core/portfolio/assess.js';
import type { PortfolioPolicyState } from '../core/portfolio/plan.js';
import { fmtUnits, unitsToUsdE8 } from '../core/portfolio/exposure.js';
import { fixedToString, fmtRatioE18, MAX_UINT256 } from '../core/format.js';
import type { AssetId, Portfolio, PortfolioAction } from '../portfolio/model.js';
import type { PortfolioDoubts } from './portfolio-sanity.js';
import type { PortfolioRiskFigures } from './portfolio-risk.js';
import { dailyCovarianceOf, type ProxyHedge, type RiskCovariance } from '../core/portfolio/proxy.js';
import type { PlanRiskInput } from '../core/portfolio/var-limit.js';

/**
 * The portfolio tick's figures and log helpers (runner/portfolio-tick.ts): what it prints and
 * what it hands the planner from the risk engine, kept apart from the tick's steps.
 */

/** The risk engine's figures as the planner's covariance (per day, in the engine's asset order). */
export function riskCovarianceOf(f: PortfolioRiskFigures): RiskCovariance {
  return { assets: f.assets, dailyCovariance: dailyCovarianceOf(f.assets, f.volAnnual, f.correlation), source: f.covarianceSource };
}

/** The planner's view of the risk figures (var-limit.ts). */
export function planRiskOf(f: PortfolioRiskFigures, covariance: RiskCovariance): PlanRiskInput {
  return { covariance, deltaUsd: f.deltaUsd, gammaUsd: f.gammaUsd, var99Usd: f.var99Usd };
}

/** The tick line's proxy hedges: per proxied asset, h* per proxy and the residual's 1-day 99% VaR. */
export function proxyTickFields(proxies: readonly ProxyHedge[] | undefined): Record<string, unknown> {
  if (!proxies?.length) return {};
  return {
    proxyHedges: Object.fromEntries(proxies.map((h) => [h.asset, {
      via: Object.fromEntries(h.legs.map((l) => [l.asset, Math.round(l.ratio * 1e4) / 1e4])),
      residualVar99Usd: Math.round(h.residualVar99Usd * 100) / 100,
      covariance: h.source,
    }])),
  };
}

/** The tick line's figures: per asset (delta, band, hedge) and per venue bucket (ratio). */
export function summarizePortfolio(a: PortfolioAssessment): Record<string, unknown> {
  const assets: Record<AssetId, unknown> = {};
  for (const x of a.assets) {
    const u = (v: bigint) => fixedToString(v, x.decimals, Math.min(x.decimals, 6));
    assets[x.asset] = {
      price: fixedToString(x.priceE8, 8, 2), spot: u(x.spotUnits), hedge: u(x.hedgeUnits), delta: u(x.netUnits),
      deviation: u(x.deviationUnits), band: u(x.bandUnits), inBand: x.inBand, deltaUsd: fixedToString(x.netUsdE8, 8, 2),
    };
  }
  const venues: Record<string, unknown> = {};
  for (const v of a.venues) {
    venues[v.venue] = Object.fromEntries(
      v.buckets.map((b) => [b.asset ?? 'account', {
        ratio: b.ratioE18 >= MAX_UINT256 ? 'none' : fmtRatioE18(b.ratioE18), trigger: fmtRatioE18(b.triggerE18), breached: b.breached,
        liquidationPrices: Object.fromEntries(Object.entries(b.liquidationPricesE8).map(([k, p]) => [k, p === null ? null : fixedToString(p, 8, 2)])),
      }]),
    );
  }
  // Each venue's yearly cost of a short, percent (negative: the short earns), for logs and dashboards.
  const shortCostAprPct = Object.fromEntries(a.venues.flatMap((v) => (v.account ? [[v.venue, shortCostPcts(v.account)]] : [])));
  return { block: a.blockNumber, assets, venues, shortCostAprPct, netUsd: fixedToString(a.netUsdE8, 8, 2) };
}

/** Short text for a terminal: "ETH Δ+0.12/0.50 BTC Δ-0.003/0.02 | perp/ETH 0.2410 aave 1.5800". */
export function shortLine(a: PortfolioAssessment): string {
  const assets = a.assets.map((x) => `${x.asset} dev ${fmtUnits(x.deviationUnits, x.decimals, '').trim()}/${fmtUnits(x.bandUnits, x.decimals, '').trim()}`);
  const venues = a.venues.flatMap((v) => v.buckets.map((b) => `${b.asset === null ? v.venue : `${v.venue}/${b.asset}`} ${b.ratioE18 >= MAX_UINT256 ? 'none' : fmtRatioE18(b.ratioE18)}`));
  return `${assets.join(' ')} | ${venues.join(' ')}`;
}

export function logDoubtChanges(logger: Logger, before: PortfolioPolicyState, doubts: PortfolioDoubts): void {
  const was: Record<string, string> = {
    ...(before.safeMode ? { portfolio: before.safeMode.reason } : {}),
    ...Object.fromEntries(Object.entries(before.safeAssets ?? {}).map(([k, v]) => [`asset ${k}`, v])),
    ...Object.fromEntries(Object.entries(before.safeVenues ?? {}).map(([k, v]) => [`venue ${k}`, v])),
  };
  const now: Record<string, string> = {
    ...(doubts.portfolio ? { portfolio: doubts.portfolio } : {}),
    ...Object.fromEntries(Object.entries(doubts.assets).map(([k, v]) => [`asset ${k}`, v])),
    ...Object.fromEntries(Object.entries(doubts.venues).map(([k, v]) => [`venue ${k}`, v])),
  };
  for (const [scope, reason] of Object.entries(now)) {
    if (was[scope] === undefined) logger.warn({ event: 'safe_mode.entered', scope, reason }, `safe mode (${scope}): ${reason}`);
  }
  for (const [scope, reason] of Object.entries(was)) {
    if (now[scope] === undefined) logger.info({ event: 'safe_mode.left', scope, was: reason }, `safe mode left (${scope}): data is sane again`);
  }
}

/** USD notional of a hedge action at the asset's price (journal, caps across restarts). */
export function hedgeNotionalUsdE8(action: PortfolioAction, portfolio: Portfolio, assessment: PortfolioAssessment): bigint {
  if (action.kind !== 'adjustHedge') return 0n;
  const a = portfolio.assets.find((x) => x.id === action.asset);
  if (!a) return 0n;
  const size = action.sizeDeltaUnits < 0n ? -action.sizeDeltaUnits : action.sizeDeltaUnits;
  return unitsToUsdE8(size, assessment.prices.pricesE8[a.id] ?? 0n, a.decimals);
}
