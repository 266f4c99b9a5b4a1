import { shortCostAprE18 } from './venue-rates.js';
import type { AssetId, AssetSpec, PerpMarketAccount, PerpVenueAccount, PerpVenueSpec } from '../portfolio/model.js';
import type { CollateralBucket, PriceContext, VenueChange, VenueModel } from '../portfolio/venue-model.js';
import { E18, MAX_UINT256, absBig, ceilDiv } from '../core/format.js';
import { largestPassing } from '../core/bisect.js';

/**
 * Pure collateral model of the isolated-margin perp exchange (contracts/PerpExchange.sol): one
 * bucket per market, keyed by the market's asset. The arithmetic is core/margin.ts's perp model
 * (itself PerpMath's, to the unit) with the two scales that file fixes made explicit:
 *
 * - sizes: the exchange counts 1e18 per whole asset in every market, so an asset with `d` decimals
 *   converts as sizeE18 = units × 10^(18 − d). Back to units truncates toward zero (a dust size
 *   below one token unit reads as 0 units, and a short never looks bigger than it is).
 * - quote: size E18 × price E8 is 10^26 per whole-quote-unit-of-USD, so one quote base unit is
 *   10^(26 − quoteDecimals) of it (1e20 for a 6-decimal USDC, the exchange's PerpMath constant).
 */

const BPS = 10_000n;

/** size E18 × price E8 per quote base unit. */
export function sizePriceToQuote(quoteDecimals: number): bigint {
  if (!Number.isInteger(quoteDecimals) || quoteDecimals < 0 || quoteDecimals > 26) {
    throw new RangeError(`perp model: quote decimals ${quoteDecimals} outside 0..26`);
  }
  return 10n ** BigInt(26 - quoteDecimals);
}

/** Asset units -> exchange size (1e18 per whole asset); truncates toward zero past 18 decimals. */
export function unitsToSizeE18(units: bigint, decimals: number): bigint {
  return decimals <= 18 ? units * 10n ** BigInt(18 - decimals) : units / 10n ** BigInt(decimals - 18);
}

/** Exchange size -> asset units, truncated toward zero (BigInt division does exactly that). */
export function sizeE18ToUnits(sizeE18: bigint, decimals: number): bigint {
  return decimals <= 18 ? sizeE18 / 10n ** BigInt(18 - decimals) : sizeE18 * 10n ** BigInt(decimals - 18);
}

/** Signed division rounded toward negative infinity (PerpMath.floorDiv: the PnL rounding). */
function floorDiv(x: bigint, d: bigint): bigint {
  const q = x / d;
  return x % d !== 0n && x < 0n ? q - 1n : q;
}

/** One market seen at one price, with the quote scale resolved. */
interface MarketView {
  readonly m: PerpMarketAccount;
  readonly priceE8: bigint;
  readonly spq: bigint;
}

/** Taker fee of a trade of |sizeDeltaE18| at the oracle price, quote units, rounded up as the exchange does. */
function tradeFeeUnits(v: MarketView, sizeDeltaE18: bigint): bigint {
  return ceilDiv(absBig(sizeDeltaE18) * v.priceE8 * v.m.takerFeeBps, v.spq * BPS);
}

/**
 * Account value after trading to sizeAfter at the oracle price and adding `extra` quote: the fee
 * leaves the margin; realized PnL only moves from unrealized to margin; pending funding is inside
 * accountValueUnits already. A trade that grows the position re-averages the entry in whole E8
 * steps and the exchange floors the PnL against it: up to one unit lost (as core/margin.ts).
 */
function valueAfter(v: MarketView, sizeAfterE18: bigint, extraUnits: bigint): bigint {
  const size = v.m.sizeE18;
  const fee = tradeFeeUnits(v, sizeAfterE18 - size);
  const reaveraged = size !== 0n && v.m.entryPriceE8 !== v.priceE8 && absBig(sizeAfterE18) > absBig(size);
  return v.m.accountValueUnits - fee + extraUnits - (reaveraged ? 1n : 0n);
}

/** PerpMath.marginRatio: notional rounded up, ratio down, 0 when the value is not positive. */
function ratioAt(v: MarketView, sizeAfterE18: bigint, extraUnits: bigint): bigint {
  if (sizeAfterE18 === 0n) return MAX_UINT256;
  const value = valueAfter(v, sizeAfterE18, extraUnits);
  if (value <= 0n) return 0n;
  const notional = ceilDiv(absBig(sizeAfterE18) * v.priceE8, v.spq);
  return notional === 0n ? MAX_UINT256 : (value * E18) / notional;
}

/**
 * Oracle price at which the ratio reaches maintenance (core/margin.ts liquidationPriceE8): value
 * at Q is AV0 + s(Q − P0), liquidated when it equals mm·|s|·Q. Rounded toward the current price.
 */
function liquidationPrice(v: MarketView): bigint | null {
  const s = v.m.sizeE18;
  if (s === 0n) return null;
  const mm = v.m.maintenanceRatioE18;
  const numerator = (v.m.accountValueUnits * v.spq - s * v.priceE8) * E18;
  const denominator = mm * absBig(s) - s * E18;
  if (denominator === 0n) return null;
  if (s < 0n) return numerator <= 0n ? 0n : numerator / denominator;
  if (denominator >= 0n) return null;
  const q = ceilDiv(-numerator, -denominator);
  return q > 0n ? q : null;
}

function marketOf(spec: PerpVenueSpec, account: PerpVenueAccount, asset: AssetId): PerpMarketAccount {
  if (spec.markets[asset] === undefined) throw new Error(`perp venue ${spec.id}: no market for asset ${asset}`);
  const m = account.markets[asset];
  // The snapshot reads every declared market; a missing one is a reader bug, not an empty market.
  if (m === undefined) throw new Error(`perp venue ${spec.id}: account has no reading of market ${asset}`);
  return m;
}

function assetOf(spec: PerpVenueSpec, ctx: PriceContext, asset: AssetId): AssetSpec {
  const a = ctx.assets[asset];
  if (a === undefined) throw new Error(`perp venue ${spec.id}: asset ${asset} is not in the price context`);
  return a;
}

function viewOf(spec: PerpVenueSpec, account: PerpVenueAccount, ctx: PriceContext, asset: AssetId): MarketView {
  const priceE8 = ctx.pricesE8[asset];
  if (priceE8 === undefined) throw new Error(`perp venue ${spec.id}: no price for asset ${asset}`);
  return { m: marketOf(spec, account, asset), priceE8, spq: sizePriceToQuote(ctx.quote.decimals) };
}

function bucketKey(spec: PerpVenueSpec, bucket: AssetId | null): AssetId {
  if (bucket === null || spec.markets[bucket] === undefined) {
    throw new Error(`perp venue ${spec.id}: no bucket ${String(bucket)} (one per market: ${Object.keys(spec.markets).join(', ')})`);
  }
  return bucket;
}

/**
 * The size after `change` and the quote it adds to `bucket`. A collateral delta without a bucket
 * applies to the bucket asked about; a hedge delta of an asset without a market here is a planner bug.
 */
function applyChange(spec: PerpVenueSpec, ctx: PriceContext, v: MarketView, change: VenueChange, bucket: AssetId): { sizeAfterE18: bigint; extraUnits: bigint } {
  for (const [asset, delta] of Object.entries(change.hedgeDeltaUnits ?? {})) {
    if (delta !== 0n && spec.markets[asset] === undefined) throw new Error(`perp venue ${spec.id}: hedge change of ${asset}, which has no market here`);
  }
  if (change.bucket !== undefined && change.bucket !== null) bucketKey(spec, change.bucket);
  const deltaUnits = change.hedgeDeltaUnits?.[bucket] ?? 0n;
  const sizeAfterE18 = v.m.sizeE18 + unitsToSizeE18(deltaUnits, assetOf(spec, ctx, bucket).decimals);
  const applies = change.bucket === undefined || change.bucket === bucket;
  return { sizeAfterE18, extraUnits: applies ? (change.collateralDeltaUnits ?? 0n) : 0n };
}

export const perpCollateralModel: VenueModel<PerpVenueSpec, PerpVenueAccount> = {
  shortCostAprE18: (spec, account, asset) => shortCostAprE18(spec, account, asset),

  hedgeUnits(spec, account, asset) {
    if (spec.markets[asset.id] === undefined) return 0n;
    return sizeE18ToUnits(marketOf(spec, account, asset.id).sizeE18, asset.decimals);
  },

  buckets(spec, account, ctx): CollateralBucket[] {
    return Object.keys(spec.markets).map((asset) => {
      const v = viewOf(spec, account, ctx, asset);
      return {
        venue: spec.id,
        asset,
        ratioE18: ratioAt(v, v.m.sizeE18, 0n),
        venueRatioE18: v.m.marginRatioE18,
        liquidationRatioE18: v.m.maintenanceRatioE18,
        collateralUnits: v.m.marginUnits,
        liquidationPricesE8: { [asset]: liquidationPrice(v) },
      };
    });
  },

  ratioAfter(spec, account, ctx, change, bucket) {
    const key = bucketKey(spec, bucket);
    const v = viewOf(spec, account, ctx, key);
    const { sizeAfterE18, extraUnits } = applyChange(spec, ctx, v, change, key);
    return ratioAt(v, sizeAfterE18, extraUnits);
  },

  /** core/margin.ts topUpToReach: the closed-form estimate, then nudged up until it holds. */
  topUpToTarget(spec, account, ctx, bucket, targetE18, change = {}) {
    const key = bucketKey(spec, bucket);
    const v = viewOf(spec, account, ctx, key);
    if (v.priceE8 <= 0n) throw new RangeError(`perp venue ${spec.id}: no usable ${key} price to size a top-up on (${v.priceE8})`);
    const { sizeAfterE18, extraUnits } = applyChange(spec, ctx, v, change, key);
    if (ratioAt(v, sizeAfterE18, extraUnits) >= targetE18) return 0n;
    const required = ceilDiv(targetE18 * absBig(sizeAfterE18) * v.priceE8, E18 * v.spq);
    let topUp = required - valueAfter(v, sizeAfterE18, extraUnits);
    if (topUp < 0n) topUp = 0n;
    for (let i = 0; i < 64; i++) {
      if (ratioAt(v, sizeAfterE18, extraUnits + topUp) >= targetE18) return topUp;
      topUp += i < 8 ? 1n : topUp / 1000n + 1n;
    }
    throw new Error(`perp venue ${spec.id}: top-up of ${key} did not converge (target ${targetE18})`);
  },

  /**
   * Largest extra short (asset units) whose ratio after the trade, fee included, stays >= max(keep,
   * initial): the exchange refuses a risk-increasing trade under its initial ratio whatever the
   * caller keeps. Past a long's close the ratio only falls as the short grows, so a bisection over
   * [close-the-long, bound] finds the edge.
   */
  shortCapacityUnits(spec, account, ctx, asset, keepRatioE18) {
    if (spec.markets[asset.id] === undefined) return 0n;
    const v = viewOf(spec, account, ctx, asset.id);
    if (v.priceE8 <= 0n) return 0n;
    const keep = keepRatioE18 > v.m.initialRatioE18 ? keepRatioE18 : v.m.initialRatioE18;
    if (keep <= 0n) throw new RangeError(`perp venue ${spec.id}: a keep ratio of ${keep} bounds no short`);
    const holds = (x: bigint): boolean => ratioAt(v, v.m.sizeE18 - unitsToSizeE18(x, asset.decimals), 0n) >= keep;
    const longUnits = v.m.sizeE18 > 0n ? sizeE18ToUnits(v.m.sizeE18, asset.decimals) : 0n;
    const lo = longUnits;
    if (!holds(lo)) return 0n;
    // value >= keep × |size| × P / spq bounds the short; one whole asset of slack covers the roundings.
    const value = v.m.accountValueUnits > 0n ? v.m.accountValueUnits : 0n;
    const maxSizeE18 = (value * v.spq * E18) / (keep * v.priceE8) + 1n;
    const hi = longUnits + sizeE18ToUnits(maxSizeE18 + absBig(v.m.sizeE18), asset.decimals) + 10n ** BigInt(asset.decimals);
    if (holds(hi)) throw new Error(`perp venue ${spec.id}: short capacity of ${asset.id} unbounded at keep ${keep}`);
    return largestPassing(lo, hi, holds);
  },

  /**
   * PerpExchange.freeMargin with the caller's keep ratio (never under the initial one, which the
   * exchange enforces): value − ceil(notional × keep), capped at the margin after pending funding.
   */
  withdrawableUnits(spec, account, ctx, bucket, keepRatioE18) {
    const key = bucketKey(spec, bucket);
    const v = viewOf(spec, account, ctx, key);
    const { m } = v;
    const pnl = m.sizeE18 === 0n ? 0n : floorDiv(m.sizeE18 * (v.priceE8 - m.entryPriceE8), v.spq);
    let free = m.accountValueUnits - pnl;
    if (m.sizeE18 !== 0n) {
      if (v.priceE8 <= 0n) return 0n;
      const keep = keepRatioE18 > m.initialRatioE18 ? keepRatioE18 : m.initialRatioE18;
      const notional = ceilDiv(absBig(m.sizeE18) * v.priceE8, v.spq);
      const excess = m.accountValueUnits - ceilDiv(notional * keep, E18);
      if (excess < free) free = excess;
    }
    return free > 0n ? free : 0n;
  },
};
