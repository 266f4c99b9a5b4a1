import { shortCostAprE18 } from './venue-rates.js';
import type { AssetId, HyperliquidVenueAccount, HyperliquidVenueSpec } from '../portfolio/model.js';
import type { CollateralBucket, PriceContext, VenueChange, VenueModel } from '../portfolio/venue-model.js';
import { E18, E8, MAX_UINT256, absBig, ceilDiv } from '../core/format.js';
import { largestPassing } from '../core/bisect.js';

/**
 * Pure collateral model of a Hyperliquid cross-margin account: one bucket (key null) for the
 * whole account. Ratio = account value / total notional, both at the keeper's oracle prices (the
 * venue's unrealized PnL re-marked from its mark to our price). Maintenance follows the venue's
 * docs for the first margin tier: maintenance margin = notional / (2 × max leverage); the higher
 * tiers of large positions (lower max leverage) are not modelled, which understates maintenance
 * only above the first tier's bound. The taker fee is the base tier's 0.045%. The USDC the venue
 * holds is valued at exactly 1 USD, as the venue values it.
 */

export const TAKER_FEE_E6 = 450n;
const E6 = 1_000_000n;

interface Leg {
  readonly asset: AssetId;
  readonly sizeUnits: bigint;
  readonly decimals: number;
  readonly priceE8: bigint;
  readonly maxLeverage: bigint;
}

interface View {
  /** Account value at the oracle prices after the change (fee paid, collateral added), USD E8. */
  readonly valueE8: bigint;
  readonly legs: Leg[];
  readonly quoteDecimals: number;
}

const unitsToE8 = (units: bigint, q: number): bigint => (units * E8) / 10n ** BigInt(q);
const e8ToUnits = (e8: bigint, q: number): bigint => (e8 * 10n ** BigInt(q)) / E8;
const notionalE8 = (l: Leg, sizeUnits = l.sizeUnits): bigint => (absBig(sizeUnits) * l.priceE8) / 10n ** BigInt(l.decimals);

function legsOf(spec: HyperliquidVenueSpec, account: HyperliquidVenueAccount, ctx: PriceContext): Leg[] {
  return Object.keys(spec.markets).map((asset) => {
    const m = account.markets[asset];
    if (m === undefined) throw new Error(`hyperliquid venue ${spec.id}: account has no reading of market ${asset}`);
    const a = ctx.assets[asset];
    const priceE8 = ctx.pricesE8[asset];
    if (a === undefined || priceE8 === undefined) throw new Error(`hyperliquid venue ${spec.id}: no price or asset spec for ${asset}`);
    return { asset, sizeUnits: m.sizeUnits, decimals: a.decimals, priceE8, maxLeverage: BigInt(m.maxLeverage) };
  });
}

function viewOf(spec: HyperliquidVenueSpec, account: HyperliquidVenueAccount, ctx: PriceContext, change: VenueChange = {}): View {
  const q = ctx.quote.decimals;
  for (const [asset, d] of Object.entries(change.hedgeDeltaUnits ?? {})) {
    if (d !== 0n && spec.markets[asset] === undefined) throw new Error(`hyperliquid venue ${spec.id}: hedge change of ${asset}, which has no market here`);
  }
  if (change.bucket !== undefined && change.bucket !== null) throw new Error(`hyperliquid venue ${spec.id}: one cross bucket (null), not ${change.bucket}`);
  let valueE8 = unitsToE8(account.accountValueUnits + (change.collateralDeltaUnits ?? 0n), q);
  const legs = legsOf(spec, account, ctx).map((l) => {
    const m = account.markets[l.asset]!;
    // The venue's value is at its mark; the keeper believes its own oracle.
    valueE8 += (l.sizeUnits * (l.priceE8 - m.markPriceE8)) / 10n ** BigInt(l.decimals);
    const delta = change.hedgeDeltaUnits?.[l.asset] ?? 0n;
    valueE8 -= ceilDiv(notionalE8(l, delta) * TAKER_FEE_E6, E6);
    return { ...l, sizeUnits: l.sizeUnits + delta };
  });
  return { valueE8, legs, quoteDecimals: q };
}

const totalNotionalE8 = (v: View): bigint => v.legs.reduce((s, l) => s + notionalE8(l), 0n);
const maintenanceE8 = (v: View, except?: AssetId): bigint =>
  v.legs.reduce((s, l) => (l.asset === except ? s : s + notionalE8(l) / (2n * l.maxLeverage)), 0n);
const initialE8 = (v: View): bigint => v.legs.reduce((s, l) => s + notionalE8(l) / l.maxLeverage, 0n);

function ratioOf(v: View): bigint {
  const n = totalNotionalE8(v);
  if (n === 0n) return MAX_UINT256;
  return v.valueE8 <= 0n ? 0n : (v.valueE8 * E18) / n;
}

/**
 * Oracle price of one asset at which the account value meets the maintenance margin, the other
 * prices fixed (the docs' cross liquidation price, at our prices): with L its max leverage,
 * Q = [2L·10^d·(MM_others − AV) + 2L·s·P] / (2L·s − |s|). Rounded toward the current price.
 */
function liquidationPrice(v: View, leg: Leg): bigint | null {
  const s = leg.sizeUnits;
  if (s === 0n) return null;
  const twoL = 2n * leg.maxLeverage;
  const scale = 10n ** BigInt(leg.decimals);
  const num = twoL * scale * (maintenanceE8(v, leg.asset) - v.valueE8) + twoL * s * leg.priceE8;
  const den = twoL * s - absBig(s);
  if (den === 0n) return null;
  const q = s < 0n ? num / den : ceilDiv(num, den);
  return q > 0n ? q : null;
}

function assertBucket(spec: HyperliquidVenueSpec, bucket: AssetId | null): void {
  if (bucket !== null) throw new Error(`hyperliquid venue ${spec.id}: one cross bucket (null), not ${bucket}`);
}

export const hyperliquidCollateralModel: VenueModel<HyperliquidVenueSpec, HyperliquidVenueAccount> = {
  shortCostAprE18: (spec, account, asset) => shortCostAprE18(spec, account, asset),

  hedgeUnits(spec, account, asset) {
    if (spec.markets[asset.id] === undefined) return 0n;
    const m = account.markets[asset.id];
    if (m === undefined) throw new Error(`hyperliquid venue ${spec.id}: account has no reading of market ${asset.id}`);
    return m.sizeUnits;
  },

  buckets(spec, account, ctx): CollateralBucket[] {
    const v = viewOf(spec, account, ctx);
    const n = totalNotionalE8(v);
    const venueRatio = account.totalNotionalUnits === 0n ? MAX_UINT256 : account.accountValueUnits <= 0n ? 0n : (account.accountValueUnits * E18) / account.totalNotionalUnits;
    return [
      {
        venue: spec.id,
        asset: null,
        ratioE18: ratioOf(v),
        venueRatioE18: venueRatio,
        liquidationRatioE18: n === 0n ? 0n : ceilDiv(maintenanceE8(v) * E18, n),
        collateralUnits: account.accountValueUnits,
        liquidationPricesE8: Object.fromEntries(v.legs.map((l) => [l.asset, liquidationPrice(v, l)])),
      },
    ];
  },

  ratioAfter(spec, account, ctx, change, bucket) {
    assertBucket(spec, bucket);
    return ratioOf(viewOf(spec, account, ctx, change));
  },

  topUpToTarget(spec, account, ctx, bucket, targetE18, change = {}) {
    assertBucket(spec, bucket);
    const v = viewOf(spec, account, ctx, change);
    if (ratioOf(v) >= targetE18) return 0n;
    const neededE8 = ceilDiv(targetE18 * totalNotionalE8(v), E18) - v.valueE8;
    // E8 -> quote units rounded up, then nudged until the ratio holds (the ratio floors).
    let units = ceilDiv(neededE8 * 10n ** BigInt(v.quoteDecimals), E8);
    const extra = change.collateralDeltaUnits ?? 0n;
    for (let i = 0; i < 16; i++) {
      if (ratioOf(viewOf(spec, account, ctx, { ...change, collateralDeltaUnits: extra + units })) >= targetE18) return units;
      units += 1n;
    }
    throw new Error(`hyperliquid venue ${spec.id}: top-up did not converge (target ${targetE18})`);
  },

  /** Largest extra short whose ratio after the trade stays >= max(keep, the initial margin ratio at max leverage). */
  shortCapacityUnits(spec, account, ctx, asset, keepRatioE18) {
    if (spec.markets[asset.id] === undefined) return 0n;
    const price = ctx.pricesE8[asset.id] ?? 0n;
    if (price <= 0n) return 0n;
    const holds = (x: bigint): boolean => {
      const v = viewOf(spec, account, ctx, { hedgeDeltaUnits: { [asset.id]: -x } });
      const n = totalNotionalE8(v);
      const initial = n === 0n ? 0n : ceilDiv(initialE8(v) * E18, n);
      return ratioOf(v) >= (keepRatioE18 > initial ? keepRatioE18 : initial);
    };
    const held = account.markets[asset.id]?.sizeUnits ?? 0n;
    const lo = held > 0n ? held : 0n;
    if (!holds(lo)) return 0n;
    const value = account.accountValueUnits > 0n ? unitsToE8(account.accountValueUnits, ctx.quote.decimals) : 0n;
    const hi = lo + (value * 10n ** BigInt(asset.decimals) * 100n) / price + 10n ** BigInt(asset.decimals);
    if (holds(hi)) throw new Error(`hyperliquid venue ${spec.id}: short capacity of ${asset.id} unbounded at keep ${keepRatioE18}`);
    return largestPassing(lo, hi, holds);
  },

  /** value − max(keep × notional, initial margin), never above what the venue itself says is withdrawable. */
  withdrawableUnits(spec, account, ctx, bucket, keepRatioE18) {
    assertBucket(spec, bucket);
    const v = viewOf(spec, account, ctx);
    const keepE8 = ceilDiv(keepRatioE18 * totalNotionalE8(v), E18);
    const lockedE8 = keepE8 > initialE8(v) ? keepE8 : initialE8(v);
    let free = e8ToUnits(v.valueE8 - lockedE8, v.quoteDecimals);
    if (free > account.withdrawableUnits) free = account.withdrawableUnits;
    return free > 0n ? free : 0n;
  },

  /** The venue's maintenance margin against ours at its own marks: a tier or mode we do not model shows here. */
  consistency(spec, account, ctx) {
    const atMarks: PriceContext = {
      ...ctx,
      pricesE8: Object.fromEntries(Object.entries(account.markets).map(([a, m]) => [a, m.markPriceE8])),
    };
    const ours = e8ToUnits(maintenanceE8(viewOf(spec, account, atMarks)), ctx.quote.decimals);
    const tolerance = 2n + account.maintenanceMarginUnits / 1000n;
    if (absBig(ours - account.maintenanceMarginUnits) <= tolerance) return null;
    return `hyperliquid venue ${spec.id}: venue maintenance margin ${account.maintenanceMarginUnits} units, model ${ours} (a margin tier or isolated position the model does not know)`;
  },
};

/**
 * A position the keeper did not cause: the venue's size minus the size the keeper expects after
 * its own fills, per asset (asset units). Empty when they agree; the caller reports it and replans
 * from the venue's figure, never adding its own expectation on top.
 */
export function positionDrift(expected: Readonly<Record<AssetId, bigint>>, actual: Readonly<Record<AssetId, bigint>>): Record<AssetId, bigint> {
  const drift: Record<AssetId, bigint> = {};
  for (const asset of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const d = (actual[asset] ?? 0n) - (expected[asset] ?? 0n);
    if (d !== 0n) drift[asset] = d;
  }
  return drift;
}
