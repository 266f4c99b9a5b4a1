import type {
  AssetId,
  AssetPolicy,
  AssetSpec,
  Portfolio,
  PortfolioSnapshot,
  VenueAccount,
  VenueId,
  VenueSpec,
} from '../../portfolio/model.js';
import type { CollateralBucket, PriceContext, VenueModel } from '../../portfolio/venue-model.js';
import { E18, absBig, maxBig } from '../format.js';
import { portfolioExposures, unitsToUsdE8, type AssetExposure } from './exposure.js';
import { proxyHedges, proxyTargetsByAsset, type ProxyHedge, type RiskCovariance } from './proxy.js';

/** Picks the pure collateral model of a venue (src/venues/models.ts in the keeper; stubs in tests). */
export type ModelOf = (spec: VenueSpec) => VenueModel;

export interface InstrumentHedge {
  readonly instrument: string;
  readonly venue: VenueId;
  /** Signed, asset units. One instrument per (venue, asset): a second one on the same pair reads 0. */
  readonly hedgeUnits: bigint;
}

export interface AssetAssessment extends AssetExposure {
  readonly hedgeUnits: bigint;
  readonly instruments: readonly InstrumentHedge[];
  /** -hedgeRatio × spot, truncated toward zero. */
  readonly targetHedgeUnits: bigint;
  /** hedge - target. */
  readonly deviationUnits: bigint;
  readonly bandUnits: bigint;
  readonly inBand: boolean;
  readonly netUnits: bigint;
  readonly netUsdE8: bigint;
  /** Venues of this asset's instruments missing from the snapshot: the hedge is not known, so nothing is traded. */
  readonly unreadVenues: readonly VenueId[];
  /**
   * Positions in this asset on venues where it has no instrument (a market left open when its
   * instrument was removed, a trade by hand): part of hedgeUnits, since they hedge the asset all
   * the same, but the keeper never trades them. Absent = none.
   */
  readonly untrackedHedgeUnits?: Readonly<Record<VenueId, bigint>>;
  /** Part of targetHedgeUnits that carries proxied assets' hedges (proxy.ts); absent = none. */
  readonly proxyTargetUnits?: bigint;
  /** The proxied assets whose hedge this asset's target carries (their prices size it too). */
  readonly proxyFor?: readonly AssetId[];
  /** This asset is hedged by proxy: its own target is 0, its hedge lives on its proxies' targets. */
  readonly proxied?: boolean;
}

export interface BucketAssessment extends CollateralBucket {
  readonly triggerE18: bigint;
  readonly targetE18: bigint;
  /** ratio < trigger. */
  readonly breached: boolean;
  /** Assets whose price the ratio depends on (the bucket's market, or every asset it holds a hedge of). */
  readonly assets: readonly AssetId[];
}

export interface VenueAssessment {
  readonly venue: VenueId;
  /** null: the snapshot has no account for this venue (then no buckets either). */
  readonly account: VenueAccount | null;
  readonly buckets: readonly BucketAssessment[];
}

export interface PortfolioAssessment {
  readonly blockNumber: bigint;
  readonly blockTimestampSec: bigint;
  /** What every venue model is asked with (also what the planner sizes on). */
  readonly prices: PriceContext;
  /** Free quote in the wallet, quote units. */
  readonly walletQuoteUnits: bigint;
  /** In the portfolio's asset declaration order. */
  readonly assets: readonly AssetAssessment[];
  /** In the portfolio's venue declaration order. */
  readonly venues: readonly VenueAssessment[];
  readonly spotUsdE8: bigint;
  readonly netUsdE8: bigint;
  /** Proxy hedges of the assets hedged by proxy, with their residual variance; absent = none configured. */
  readonly proxies?: readonly ProxyHedge[];
}

export interface PortfolioAssessOptions {
  /** Bands computed outside (risk models), per asset; replace max(abs, pct × gross) where given. */
  readonly bandUnits?: Readonly<Record<AssetId, bigint>>;
  /** The risk engine's covariance, for proxy hedges; absent = its documented prior (proxy.ts priorRiskCovariance). */
  readonly covariance?: RiskCovariance;
}

/** Effective band: the larger of the absolute band and pct × gross spot. */
export function bandUnitsFor(policy: AssetPolicy, grossSpotUnits: bigint): bigint {
  return maxBig(policy.bandUnits, (absBig(grossSpotUnits) * policy.bandPctE18) / E18);
}

/** Target hedge = -hedgeRatio × spot, truncated toward zero (bigint division does). */
export function targetHedgeUnits(policy: AssetPolicy, spotUnits: bigint): bigint {
  return -(spotUnits * policy.hedgeRatioE18) / E18;
}

export function priceContextOf(portfolio: Portfolio, snapshot: PortfolioSnapshot): PriceContext {
  const pricesE8: Record<AssetId, bigint> = {};
  const assets: Record<AssetId, AssetSpec> = {};
  for (const a of portfolio.assets) {
    const p = snapshot.prices[a.id]?.priceE8 ?? 0n;
    pricesE8[a.id] = p > 0n ? p : 0n;
    assets[a.id] = a;
  }
  const quotePriceE8 = snapshot.quotePriceE8 > 0n ? snapshot.quotePriceE8 : 0n;
  return { pricesE8, quotePriceE8, assets, quote: portfolio.quote };
}

/**
 * Measure the whole portfolio at one block: the delta vector against each asset's target, and
 * every venue's collateral buckets against their trigger. Pure; venues are reached only through
 * `modelOf`, so this names none of them.
 */
export function assessPortfolio(
  portfolio: Portfolio,
  snapshot: PortfolioSnapshot,
  modelOf: ModelOf,
  opts: PortfolioAssessOptions = {},
): PortfolioAssessment {
  const prices = priceContextOf(portfolio, snapshot);
  const exposures = portfolioExposures(portfolio, snapshot);
  const proxies = proxyHedges(portfolio, exposures, opts.covariance);
  const byProxy = proxyTargetsByAsset(proxies);
  const assets = exposures.map((x) =>
    assessAsset(portfolio, snapshot, modelOf, x, opts.bandUnits?.[x.asset], byProxy.get(x.asset)),
  );
  const venues = portfolio.venues.map((spec) => assessVenue(portfolio, snapshot, modelOf, spec, prices));
  return {
    blockNumber: snapshot.blockNumber,
    blockTimestampSec: snapshot.blockTimestampSec,
    prices,
    walletQuoteUnits: snapshot.wallet.balances[portfolio.quote.id] ?? 0n,
    assets,
    venues,
    spotUsdE8: assets.reduce((s, a) => s + a.spotUsdE8, 0n),
    netUsdE8: assets.reduce((s, a) => s + a.netUsdE8, 0n),
    ...(proxies.length > 0 ? { proxies } : {}),
  };
}

function assessAsset(
  portfolio: Portfolio,
  snapshot: PortfolioSnapshot,
  modelOf: ModelOf,
  x: AssetExposure,
  bandOverride: bigint | undefined,
  viaProxy?: { units: bigint; for: AssetId[] },
): AssetAssessment {
  const policy = portfolio.policy.assets[x.asset];
  if (policy === undefined) throw new Error(`no policy for asset ${x.asset}`);
  const spec = portfolio.assets.find((a) => a.id === x.asset)!;
  const seen = new Set<VenueId>();
  const unread: VenueId[] = [];
  const instruments: InstrumentHedge[] = [];
  for (const inst of portfolio.instruments) {
    if (inst.asset !== x.asset) continue;
    const venue = venueSpec(portfolio, inst.venue);
    const account = snapshot.venues[inst.venue];
    let hedgeUnits = 0n;
    if (account === undefined) {
      if (!unread.includes(inst.venue)) unread.push(inst.venue);
    } else if (!seen.has(inst.venue)) {
      hedgeUnits = modelOf(venue).hedgeUnits(venue, account, spec);
    }
    seen.add(inst.venue);
    instruments.push({ instrument: inst.id, venue: inst.venue, hedgeUnits });
  }
  // Every other venue read this tick: a short there hedges the asset whether or not it is traded here.
  const untracked: Record<VenueId, bigint> = {};
  for (const venue of portfolio.venues) {
    const account = snapshot.venues[venue.id];
    if (seen.has(venue.id) || account === undefined) continue;
    const units = modelOf(venue).hedgeUnits(venue, account, spec);
    if (units !== 0n) untracked[venue.id] = units;
  }
  const hedgeUnits = instruments.reduce((s, i) => s + i.hedgeUnits, 0n) + Object.values(untracked).reduce((s, u) => s + u, 0n);
  const bandUnits = bandOverride ?? bandUnitsFor(policy, x.grossSpotUnits);
  const proxied = (policy.proxy?.length ?? 0) > 0;
  const target = (proxied ? 0n : targetHedgeUnits(policy, x.spotUnits)) + (viaProxy?.units ?? 0n);
  const deviationUnits = hedgeUnits - target;
  const netUnits = x.spotUnits + hedgeUnits;
  return {
    ...x,
    hedgeUnits,
    instruments,
    targetHedgeUnits: target,
    deviationUnits,
    bandUnits,
    inBand: absBig(deviationUnits) <= bandUnits,
    netUnits,
    netUsdE8: unitsToUsdE8(netUnits, x.priceE8, x.decimals),
    unreadVenues: unread,
    ...(Object.keys(untracked).length > 0 ? { untrackedHedgeUnits: untracked } : {}),
    ...(viaProxy ? { proxyTargetUnits: viaProxy.units, proxyFor: viaProxy.for } : {}),
    ...(proxied ? { proxied } : {}),
  };
}

function assessVenue(
  portfolio: Portfolio,
  snapshot: PortfolioSnapshot,
  modelOf: ModelOf,
  spec: VenueSpec,
  prices: PriceContext,
): VenueAssessment {
  const account = snapshot.venues[spec.id];
  if (account === undefined) return { venue: spec.id, account: null, buckets: [] };
  const hedged = portfolio.instruments.filter((i) => i.venue === spec.id).map((i) => i.asset);
  const { triggerE18, targetE18 } = spec.collateral;
  const buckets = modelOf(spec).buckets(spec, account, prices).map((b): BucketAssessment => {
    const assets = b.asset !== null ? [b.asset] : [...new Set([...hedged, ...Object.keys(b.liquidationPricesE8)])];
    return { ...b, triggerE18, targetE18, breached: b.ratioE18 < triggerE18, assets };
  });
  return { venue: spec.id, account, buckets };
}

export function venueSpec(portfolio: Portfolio, id: VenueId): VenueSpec {
  const v = portfolio.venues.find((s) => s.id === id);
  if (v === undefined) throw new Error(`unknown venue ${id}`);
  return v;
}
