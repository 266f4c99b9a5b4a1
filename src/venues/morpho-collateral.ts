import { shortCostAprE18 } from './venue-rates.js';
import type { AssetId, AssetSpec, MorphoMarketState, MorphoVenueAccount, MorphoVenueSpec } from '../portfolio/model.js';
import type { CollateralBucket, PriceContext, VenueChange, VenueModel } from '../portfolio/venue-model.js';
import {
  ORACLE_PRICE_SCALE, WAD, accruedMarket, borrowedAssets, maxBorrowAssets, morphoHealthE18, toAssetsUp, toSharesDown, toSharesUp,
} from './morpho-math.js';
import { largestPassing, smallestPassing } from '../core/bisect.js';

/**
 * Pure collateral model of one Morpho Blue market position: the quote as collateral, a borrow of
 * the loan asset as the short, one bucket (key null). Every figure is Morpho.sol's own integer
 * math: the market's interest accrued to the snapshot's block time first (as the next transaction
 * would), shares turned into assets with the virtual shares/assets, borrowed assets rounded up,
 * collateral valued with the market's oracle (1e36 scale) and LLTV, rounded down (`_isHealthy`).
 * Health = maxBorrow / borrowed (E18); Morpho liquidates below 1.0.
 */

interface State {
  readonly borrowShares: bigint;
  readonly collateralUnits: bigint;
  readonly market: MorphoMarketState;
}

function stateOf(account: MorphoVenueAccount): State {
  return { borrowShares: account.borrowShares, collateralUnits: account.collateralUnits, market: accruedMarket(account) };
}

const healthOf = (account: MorphoVenueAccount, s: State, priceE36 = account.oraclePriceE36): bigint =>
  morphoHealthE18({ borrowShares: s.borrowShares, collateralUnits: s.collateralUnits, oraclePriceE36: priceE36, lltv: account.marketParams.lltv }, s.market);

/** `borrow(assets)`: shares rounded up, market totals grow. */
function borrow(s: State, assets: bigint): State {
  const m = s.market;
  const shares = toSharesUp(assets, m.totalBorrowAssets, m.totalBorrowShares);
  return {
    ...s,
    borrowShares: s.borrowShares + shares,
    market: { ...m, totalBorrowAssets: m.totalBorrowAssets + assets, totalBorrowShares: m.totalBorrowShares + shares },
  };
}

/** `repay(assets)` (shares rounded down); a repay of the whole debt is by shares (the adapter sends it so). */
function repay(s: State, assets: bigint): State {
  const m = s.market;
  let shares = toSharesDown(assets, m.totalBorrowAssets, m.totalBorrowShares);
  let paid = assets;
  if (shares >= s.borrowShares) {
    shares = s.borrowShares;
    paid = toAssetsUp(shares, m.totalBorrowAssets, m.totalBorrowShares);
  }
  const total = m.totalBorrowAssets - paid;
  return {
    ...s,
    borrowShares: s.borrowShares - shares,
    market: { ...m, totalBorrowAssets: total > 0n ? total : 0n, totalBorrowShares: m.totalBorrowShares - shares },
  };
}

function withCollateral(spec: MorphoVenueSpec, s: State, delta: bigint): State {
  const collateralUnits = s.collateralUnits + delta;
  if (collateralUnits < 0n) throw new RangeError(`morpho venue ${spec.id}: withdrawal of ${-delta} exceeds the collateral ${s.collateralUnits}`);
  return { ...s, collateralUnits };
}

function checkBucket(spec: MorphoVenueSpec, bucket: AssetId | null | undefined): void {
  if (bucket !== null && bucket !== undefined) throw new Error(`morpho venue ${spec.id}: one bucket (null), not ${bucket}`);
}

function changed(spec: MorphoVenueSpec, account: MorphoVenueAccount, change: VenueChange): State {
  checkBucket(spec, change.bucket);
  let s = stateOf(account);
  for (const [id, delta] of Object.entries(change.hedgeDeltaUnits ?? {})) {
    if (delta === 0n) continue;
    if (id !== spec.loanAsset) throw new Error(`morpho venue ${spec.id}: hedges ${spec.loanAsset} only, not ${id}`);
    if (delta < 0n) s = borrow(s, -delta);
    else {
      const debt = borrowedAssets(s.borrowShares, s.market);
      s = repay(s, delta < debt ? delta : debt);
    }
  }
  const extra = change.collateralDeltaUnits ?? 0n;
  return extra === 0n ? s : withCollateral(spec, s, extra);
}

/**
 * The keeper's price (E8) of the loan asset at which the position becomes liquidatable, the
 * quote's price fixed: the last price still healthy. The market's oracle is taken to move
 * inversely with the loan asset's price (collateral priced in loan units), from its reading now.
 */
function liquidationPriceE8(account: MorphoVenueAccount, s: State, loanPriceE8: bigint): bigint | null {
  const priceNow = account.oraclePriceE36;
  if (s.borrowShares === 0n || loanPriceE8 <= 0n || priceNow <= 0n) return null;
  if (s.collateralUnits === 0n || account.marketParams.lltv === 0n) return 0n;
  const healthy = (l: bigint): boolean => l === 0n || healthOf(account, s, (priceNow * loanPriceE8) / l) >= WAD;
  const borrowed = borrowedAssets(s.borrowShares, s.market);
  const estimate = (s.collateralUnits * priceNow * loanPriceE8 * account.marketParams.lltv) / (ORACLE_PRICE_SCALE * WAD * borrowed);
  let hi = estimate * 2n + 2n;
  for (let i = 0; healthy(hi); i++, hi *= 2n) if (i > 256) return null;
  return largestPassing(0n, hi, healthy);
}

function assetCheck(spec: MorphoVenueSpec, ctx: PriceContext): AssetSpec {
  const a = ctx.assets[spec.loanAsset];
  if (a === undefined) throw new Error(`morpho venue ${spec.id}: loan asset ${spec.loanAsset} is not in the price context`);
  return a;
}

export const morphoCollateralModel: VenueModel<MorphoVenueSpec, MorphoVenueAccount> = {
  shortCostAprE18: (spec, account, asset) => shortCostAprE18(spec, account, asset),

  hedgeUnits(spec, account, asset) {
    if (asset.id !== spec.loanAsset) return 0n;
    const s = stateOf(account);
    return -borrowedAssets(s.borrowShares, s.market);
  },

  buckets(spec, account, ctx): CollateralBucket[] {
    assetCheck(spec, ctx);
    const s = stateOf(account);
    return [{
      venue: spec.id,
      asset: null,
      ratioE18: healthOf(account, s),
      // Morpho has no health view: its own math on the market as stored (interest not yet accrued).
      venueRatioE18: healthOf(account, { ...s, market: account.market }),
      liquidationRatioE18: WAD,
      collateralUnits: s.collateralUnits,
      liquidationPricesE8: { [spec.loanAsset]: liquidationPriceE8(account, s, ctx.pricesE8[spec.loanAsset] ?? 0n) },
    }];
  },

  ratioAfter(spec, account, _ctx, change, bucket) {
    checkBucket(spec, bucket);
    return healthOf(account, changed(spec, account, change));
  },

  /** Collateral supplied: the continuous estimate, raised until the exact health holds, then bisected down. */
  topUpToTarget(spec, account, _ctx, bucket, targetE18, change = {}) {
    checkBucket(spec, bucket);
    const after = changed(spec, account, change);
    if (healthOf(account, after) >= targetE18) return 0n;
    const { lltv } = account.marketParams;
    if (account.oraclePriceE36 <= 0n || lltv <= 0n) throw new RangeError(`morpho venue ${spec.id}: collateral cannot raise the health (oracle price ${account.oraclePriceE36}, LLTV ${lltv})`);
    const holds = (x: bigint): boolean => healthOf(account, withCollateral(spec, after, x)) >= targetE18;
    const needed = (targetE18 * borrowedAssets(after.borrowShares, after.market) * ORACLE_PRICE_SCALE) / (account.oraclePriceE36 * lltv) + 1n;
    let hi = needed > after.collateralUnits ? needed - after.collateralUnits : 1n;
    for (let i = 0; !holds(hi); i++, hi = hi * 2n + 1n) if (i > 256) throw new Error(`morpho venue ${spec.id}: top-up did not converge (target ${targetE18})`);
    return smallestPassing(0n, hi, holds);
  },

  /** Extra borrow that keeps health >= max(keep, 1) and within the market's liquidity (Morpho's two borrow checks). */
  shortCapacityUnits(spec, account, _ctx, asset, keepRatioE18) {
    if (asset.id !== spec.loanAsset) return 0n;
    const s = stateOf(account);
    const keep = keepRatioE18 > WAD ? keepRatioE18 : WAD;
    const liquidity = s.market.totalSupplyAssets - s.market.totalBorrowAssets;
    const holds = (x: bigint): boolean => {
      if (x === 0n) return healthOf(account, s) >= keep;
      if (x > liquidity) return false;
      return healthOf(account, borrow(s, x)) >= keep;
    };
    if (!holds(0n) || liquidity <= 0n) return 0n;
    const cap = maxBorrowAssets(s.collateralUnits, account.oraclePriceE36, account.marketParams.lltv) + 1n;
    return largestPassing(0n, cap < liquidity + 1n ? cap : liquidity + 1n, holds);
  },

  /** Largest collateral withdrawal keeping health >= max(keep, 1) (`withdrawCollateral` requires a healthy position). */
  withdrawableUnits(spec, account, _ctx, bucket, keepRatioE18) {
    checkBucket(spec, bucket);
    const s = stateOf(account);
    if (s.collateralUnits === 0n) return 0n;
    if (s.borrowShares === 0n) return s.collateralUnits;
    const keep = keepRatioE18 > WAD ? keepRatioE18 : WAD;
    const holds = (w: bigint): boolean => healthOf(account, withCollateral(spec, s, -w)) >= keep;
    if (!holds(0n)) return 0n;
    if (holds(s.collateralUnits)) return s.collateralUnits;
    return largestPassing(0n, s.collateralUnits, holds);
  },

  consistency(spec, account, ctx) {
    return morphoConsistency(spec, account, ctx);
  },
};

/**
 * The market must be the one the portfolio describes (loan token = the loan asset's, collateral
 * = the quote), and the account must hold nothing the model leaves out: a supply of the loan
 * asset is exposure the keeper would not count. Null when all holds.
 */
export function morphoConsistency(spec: MorphoVenueSpec, account: MorphoVenueAccount, ctx: PriceContext): string | null {
  const loan = ctx.assets[spec.loanAsset];
  const mp = account.marketParams;
  if (loan === undefined) return `morpho venue ${spec.id}: loan asset ${spec.loanAsset} is not declared`;
  if (mp.loanToken.toLowerCase() !== loan.token.toLowerCase()) return `morpho venue ${spec.id}: market ${spec.marketId} lends ${mp.loanToken}, not ${spec.loanAsset} (${loan.token})`;
  if (mp.collateralToken.toLowerCase() !== ctx.quote.token.toLowerCase()) {
    return `morpho venue ${spec.id}: market ${spec.marketId} takes ${mp.collateralToken} as collateral, not the quote ${ctx.quote.id} (${ctx.quote.token})`;
  }
  if (account.supplyShares !== 0n) return `morpho venue ${spec.id}: not modelled: the account supplies ${spec.loanAsset} to the market (${account.supplyShares} shares)`;
  return null;
}

/** The position's health now (E18), as the model computes it; maxUint256 without debt. */
export function morphoAccountHealthE18(account: MorphoVenueAccount): bigint {
  return healthOf(account, stateOf(account));
}
