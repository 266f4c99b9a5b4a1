import type { AssetId, Portfolio } from '../../portfolio/model.js';
import { minimumVarianceHedge } from '../risk/covariance.js';
import { normQuantile } from '../risk/normal.js';
import { DAY_SEC, PORTFOLIO_RISK_DEFAULTS, uniformCovariance } from '../risk/portfolio-var.js';
import { SECONDS_PER_YEAR } from '../risk/returns.js';
import { E18 } from '../format.js';
import { pow10, type AssetExposure } from './exposure.js';

/**
 * Proxy hedging (issue 12, item 2): an asset S with no instrument of its own is hedged with the
 * minimum-variance combination of its proxies' instruments, h* = Σ_HH⁻¹ Σ_HS on the risk
 * engine's covariance of log returns. h* is in USD of each proxy per USD of S exposure (returns
 * are scale-free), so the short in proxy j is h*_j × hedgeRatio_S × (S spot in USD), converted to
 * j's units at j's price and added to j's target. Pure: the covariance comes in as an input.
 */

export interface RiskCovariance {
  /** In the portfolio's asset order (the risk engine's). */
  readonly assets: readonly AssetId[];
  /** Covariance of one-day log returns (the risk engine's, scaled to a day). */
  readonly dailyCovariance: readonly (readonly number[])[];
  readonly source: 'prior' | 'ewma';
}

/**
 * The risk engine's prior (PORTFOLIO_RISK_DEFAULTS: 80%/yr vol per asset, 0.7 correlation per
 * pair), per day: what the planner uses when no covariance is handed in. With equal vols it
 * gives h* = 0.7 for one proxy.
 */
export function priorRiskCovariance(assets: readonly AssetId[]): RiskCovariance {
  const dayVol = PORTFOLIO_RISK_DEFAULTS.priorVolAnnual * Math.sqrt(DAY_SEC / SECONDS_PER_YEAR);
  return { assets: [...assets], dailyCovariance: uniformCovariance(assets.map(() => dayVol), PORTFOLIO_RISK_DEFAULTS.priorCorrelation), source: 'prior' };
}

/** The risk engine's figures (annual vols, correlations) as a daily covariance: Σ_ij = ρ_ij σ_i σ_j × (1 day / 1 year). */
export function dailyCovarianceOf(assets: readonly AssetId[], volAnnual: Readonly<Record<AssetId, number>>, correlation: readonly (readonly number[])[]): number[][] {
  const perDay = DAY_SEC / SECONDS_PER_YEAR;
  return assets.map((a, i) => assets.map((b, j) => (i === j ? 1 : correlation[i]![j]!) * volAnnual[a]! * volAnnual[b]! * perDay));
}

export interface ProxyHedgeLeg {
  readonly asset: AssetId;
  /** h*_j: USD of this proxy shorted per USD of the proxied exposure. */
  readonly ratio: number;
  /** round(h*_j × 1e18): what the units are computed from. */
  readonly ratioE18: bigint;
  /** Added to this proxy's target hedge, its own units (signed; < 0 shorts). */
  readonly targetUnits: bigint;
}

export interface ProxyHedge {
  readonly asset: AssetId;
  /** hedgeRatio × spot of the proxied asset, USD (what the legs hedge). */
  readonly exposureUsd: number;
  readonly legs: readonly ProxyHedgeLeg[];
  /** Var(E r_S − hedgeRatio E h*'r_H), USD² per day: what the proxy hedge leaves of S's position. */
  readonly residualVarianceUsd2: number;
  /** Normal 1-day 99% VaR of that residual: z₀.₉₉ × sqrt(residual variance), USD. */
  readonly residualVar99Usd: number;
  /** Var(E r_S), USD² per day, unhedged. */
  readonly unhedgedVarianceUsd2: number;
  readonly source: 'prior' | 'ewma';
}

/**
 * Units of proxy H that carry `proxiedTargetUnits` of S (S's own target, signed) at ratio h:
 * target_S × h × P_S × 10^dec_H / (1e18 × P_H × 10^dec_S), one division, truncated toward zero.
 * 0 when either price is unusable (the planner then holds on the doubted price).
 */
export function proxyTargetUnits(
  proxiedTargetUnits: bigint, proxied: { priceE8: bigint; decimals: number }, ratioE18: bigint, proxy: { priceE8: bigint; decimals: number },
): bigint {
  if (proxied.priceE8 <= 0n || proxy.priceE8 <= 0n) return 0n;
  return (proxiedTargetUnits * ratioE18 * proxied.priceE8 * pow10(proxy.decimals)) / (E18 * proxy.priceE8 * pow10(proxied.decimals));
}

export function isProxied(portfolio: Portfolio, asset: AssetId): boolean {
  return (portfolio.policy.assets[asset]?.proxy?.length ?? 0) > 0;
}

/** Every proxied asset's hedge on its proxies (declaration order); [] when none is configured. */
export function proxyHedges(portfolio: Portfolio, exposures: readonly AssetExposure[], cov?: RiskCovariance): ProxyHedge[] {
  const proxied = portfolio.assets.filter((a) => isProxied(portfolio, a.id));
  if (proxied.length === 0) return [];
  const c = cov ?? priorRiskCovariance(portfolio.assets.map((a) => a.id));
  const index = (id: AssetId): number => {
    const i = c.assets.indexOf(id);
    if (i < 0) throw new RangeError(`proxy hedge: no covariance for ${id}`);
    return i;
  };
  const z = normQuantile(0.99);
  return proxied.map((spec) => {
    const policy = portfolio.policy.assets[spec.id]!;
    const proxies = policy.proxy!;
    const x = exposures.find((e) => e.asset === spec.id)!;
    const mv = minimumVarianceHedge(c.dailyCovariance, index(spec.id), proxies.map(index));
    const target = -(x.spotUnits * policy.hedgeRatioE18) / E18; // assess.ts targetHedgeUnits (not imported: assess imports this)
    const legs = proxies.map((id, j): ProxyHedgeLeg => {
      const h = exposures.find((e) => e.asset === id)!;
      const ratioE18 = BigInt(Math.round(mv.ratios[j]! * 1e18));
      return { asset: id, ratio: mv.ratios[j]!, ratioE18, targetUnits: proxyTargetUnits(target, x, ratioE18, h) };
    });
    const exposureUsd = Number(x.spotUsdE8) / 1e8;
    const hr = Number(policy.hedgeRatioE18) / 1e18;
    // Var(r_S − hr h*'r_H) = σ_S² − (2hr − hr²) h*'Σ_HS, since Σ_HH h* = Σ_HS.
    const explained = mv.targetVariance - mv.residualVariance;
    const perUsd2 = Math.max(0, mv.targetVariance - (2 * hr - hr * hr) * explained);
    const residualVarianceUsd2 = exposureUsd * exposureUsd * perUsd2;
    return {
      asset: spec.id, exposureUsd: exposureUsd * hr, legs, residualVarianceUsd2, residualVar99Usd: z * Math.sqrt(residualVarianceUsd2),
      unhedgedVarianceUsd2: exposureUsd * exposureUsd * mv.targetVariance, source: c.source,
    };
  });
}

/** What the proxy hedges add to each proxy asset's target, its own units. */
export function proxyTargetsByAsset(hedges: readonly ProxyHedge[]): Map<AssetId, { units: bigint; for: AssetId[] }> {
  const out = new Map<AssetId, { units: bigint; for: AssetId[] }>();
  for (const h of hedges) {
    for (const leg of h.legs) {
      const cur = out.get(leg.asset) ?? { units: 0n, for: [] };
      out.set(leg.asset, { units: cur.units + leg.targetUnits, for: [...cur.for, h.asset] });
    }
  }
  return out;
}

/** One line for `status` and logs: "STETH by proxy: ETH h*=0.9145; residual 1-day 99% VaR $515.22 (ewma covariance)". */
export function describeProxyHedge(h: ProxyHedge): string {
  const legs = h.legs.map((l) => `${l.asset} h*=${l.ratio.toFixed(4)}`).join(', ');
  return `${h.asset} by proxy: ${legs}; residual 1-day 99% VaR $${h.residualVar99Usd.toFixed(2)} (${h.source} covariance)`;
}
