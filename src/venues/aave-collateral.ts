import { shortCostAprE18 } from './venue-rates.js';
import type { AaveReserveHolding, AaveVenueAccount, AaveVenueSpec, AssetId, AssetSpec } from '../portfolio/model.js';
import type { CollateralBucket, PriceContext, VenueChange, VenueModel } from '../portfolio/venue-model.js';
import { MAX_UINT256, WAD, aaveBaseValueE8, percentDiv, percentMul, wadDiv } from './aave-math.js';
import { largestPassing, smallestPassing } from '../core/bisect.js';

/**
 * Pure collateral model of an Aave V3 (3.0.2) account: one bucket (key null) for the whole
 * account. Every figure is `GenericLogic.calculateUserAccountData` over ALL the account's
 * reserves, valued with Aave's own oracle price of each reserve (`priceE8` of the holding), in
 * Aave's integer order: per-reserve value truncated, Σ(value×LT) / Σvalue floored, then
 * percentMul(totalCollateral, avgLT).wadDiv(totalDebt). E-mode is not modelled (the consistency
 * check reports an account whose figures it changes).
 */

interface Position {
  readonly token: string;
  readonly decimals: bigint;
  readonly priceE8: bigint;
  readonly supplied: bigint;
  readonly debt: bigint;
  readonly collateral: boolean;
  readonly ltBps: bigint;
  readonly ltvBps: bigint;
}

export interface AaveTotals {
  readonly totalCollateralBaseE8: bigint;
  readonly totalDebtBaseE8: bigint;
  readonly ltvBps: bigint;
  readonly liquidationThresholdBps: bigint;
  readonly healthFactorE18: bigint;
  /** A collateral with LTV 0: Aave then refuses withdrawals of LTV > 0 collateral while borrowing. */
  readonly hasZeroLtvCollateral: boolean;
}

/** GenericLogic.calculateUserAccountData over the positions (sums are order-free in integers). */
function totalsOf(positions: readonly Position[]): AaveTotals {
  let collateral = 0n, debt = 0n, ltvSum = 0n, ltSum = 0n, hasZeroLtvCollateral = false;
  for (const p of positions) {
    if (p.collateral && p.ltBps !== 0n) {
      const value = aaveBaseValueE8(p.supplied, p.priceE8, p.decimals);
      collateral += value;
      if (p.ltvBps !== 0n) ltvSum += value * p.ltvBps;
      else hasZeroLtvCollateral = true;
      ltSum += value * p.ltBps;
    }
    debt += aaveBaseValueE8(p.debt, p.priceE8, p.decimals);
  }
  const ltvBps = collateral !== 0n ? ltvSum / collateral : 0n;
  const liquidationThresholdBps = collateral !== 0n ? ltSum / collateral : 0n;
  const healthFactorE18 = debt === 0n ? MAX_UINT256 : wadDiv(percentMul(collateral, liquidationThresholdBps), debt);
  return { totalCollateralBaseE8: collateral, totalDebtBaseE8: debt, ltvBps, liquidationThresholdBps, healthFactorE18, hasZeroLtvCollateral };
}

function fromHolding(h: AaveReserveHolding): Position {
  return {
    token: h.token.toLowerCase(),
    decimals: BigInt(h.decimals),
    priceE8: h.priceE8,
    supplied: h.suppliedUnits,
    debt: h.debtUnits,
    collateral: h.usedAsCollateral,
    ltBps: h.liquidationThresholdBps,
    ltvBps: h.ltvBps,
  };
}

function positionsOf(account: AaveVenueAccount): Position[] {
  return Object.values(account.reserves).map(fromHolding);
}

function assetOf(spec: AaveVenueSpec, ctx: PriceContext, asset: AssetId): AssetSpec {
  const a = ctx.assets[asset];
  if (a === undefined) throw new Error(`aave venue ${spec.id}: asset ${asset} is not in the price context`);
  return a;
}

/**
 * The position of a borrowed asset. A reserve the account has never touched has no row in the
 * snapshot: it is valued with the keeper's own price then (the only one there is), as debt only.
 */
function debtPosition(spec: AaveVenueSpec, account: AaveVenueAccount, ctx: PriceContext, asset: AssetSpec): Position {
  const token = asset.token.toLowerCase();
  const found = positionsOf(account).find((p) => p.token === token);
  if (found !== undefined) return found;
  const priceE8 = ctx.pricesE8[asset.id];
  if (priceE8 === undefined) throw new Error(`aave venue ${spec.id}: no price for asset ${asset.id}`);
  return { token, decimals: BigInt(asset.decimals), priceE8, supplied: 0n, debt: 0n, collateral: false, ltBps: 0n, ltvBps: 0n };
}

function quotePosition(spec: AaveVenueSpec, account: AaveVenueAccount, ctx: PriceContext): Position {
  const token = ctx.quote.token.toLowerCase();
  const h = account.reserves[token] ?? Object.values(account.reserves).find((r) => r.token.toLowerCase() === token);
  if (h === undefined) throw new Error(`aave venue ${spec.id}: the snapshot has no reserve of the quote ${ctx.quote.id} (${token})`);
  return fromHolding(h);
}

function replace(positions: readonly Position[], next: Position): Position[] {
  const out = positions.filter((p) => p.token !== next.token);
  out.push(next);
  return out;
}

/** Debt changes by −delta (a short is a borrow), never below zero: a repay cannot overpay. */
function withDebtDelta(p: Position, deltaUnits: bigint): Position {
  const debt = p.debt - deltaUnits;
  return { ...p, debt: debt > 0n ? debt : 0n };
}

/** A first supply turns the reserve into collateral when its LTV allows (SupplyLogic, validateAutomaticUseAsCollateral). */
function withSupplyDelta(p: Position, deltaUnits: bigint): Position {
  const supplied = p.supplied + deltaUnits;
  if (supplied < 0n) throw new RangeError(`aave: withdrawal of ${-deltaUnits} exceeds the supplied ${p.supplied} of ${p.token}`);
  const collateral = p.collateral || (p.supplied === 0n && deltaUnits > 0n && p.ltvBps !== 0n && p.ltBps !== 0n);
  return { ...p, supplied, collateral };
}

function changedPositions(spec: AaveVenueSpec, account: AaveVenueAccount, ctx: PriceContext, change: VenueChange): Position[] {
  let positions = positionsOf(account);
  for (const [id, delta] of Object.entries(change.hedgeDeltaUnits ?? {})) {
    if (delta === 0n) continue;
    const asset = assetOf(spec, ctx, id);
    positions = replace(positions, withDebtDelta(debtPosition(spec, account, ctx, asset), delta));
  }
  if (change.bucket !== undefined && change.bucket !== null) throw new Error(`aave venue ${spec.id}: one bucket (null), not ${change.bucket}`);
  const extra = change.collateralDeltaUnits ?? 0n;
  if (extra !== 0n) {
    const quote = positions.find((p) => p.token === ctx.quote.token.toLowerCase()) ?? quotePosition(spec, account, ctx);
    positions = replace(positions, withSupplyDelta(quote, extra));
  }
  return positions;
}

function checkBucket(spec: AaveVenueSpec, bucket: AssetId | null): void {
  if (bucket !== null) throw new Error(`aave venue ${spec.id}: one bucket (null), not ${bucket}`);
}

/**
 * Price of `asset` at which the health factor crosses 1.0, others fixed; rounded toward the
 * current price (the last price still at HF >= 1). The closed form of the continuous HF
 * (Σ value×LT = 1e4 × debt) gives the direction and a bracket; the exact HF, whose floors move
 * the edge by more than one E8 step, then bisects it.
 */
function liquidationPrice(positions: readonly Position[], token: string): bigint | null {
  const x = positions.find((p) => p.token === token);
  if (x === undefined || x.debt === 0n) return null;
  const others = positions.filter((p) => p.token !== token);
  const supplied = x.collateral && x.ltBps !== 0n ? x.supplied : 0n;
  const slope = supplied * x.ltBps - 10_000n * x.debt; // d(Σ value×LT − 1e4×debt)/dQ × 10^dec
  if (slope === 0n) return null;
  const safe = (q: bigint): boolean => totalsOf([...others, { ...x, priceE8: q }]).healthFactorE18 >= WAD;
  const base = totalsOf(others);
  const gap = percentMul(base.totalCollateralBaseE8, base.liquidationThresholdBps) * 10_000n - 10_000n * base.totalDebtBaseE8;
  const unit = 10n ** x.decimals;
  const estimate = (gap * unit) / (slope < 0n ? -slope : slope);
  if (slope < 0n) {
    // The debt dominates: liquidated as the price rises.
    if (!safe(0n)) return 0n;
    let hi = (estimate > 0n ? estimate : 0n) * 2n + 2n;
    for (let i = 0; safe(hi); i++, hi *= 2n) if (i > 256) return null;
    return largestPassing(0n, hi, safe);
  }
  // The asset is mostly collateral: liquidated as it falls; never, if even a zero price is safe.
  if (safe(0n)) return null;
  let hi = (estimate < 0n ? -estimate : 0n) * 2n + 2n;
  for (let i = 0; !safe(hi); i++, hi *= 2n) if (i > 256) return null;
  return smallestPassing(0n, hi, safe);
}

/** Every declared asset with a reserve row or a swap pool here (those this venue can hedge). */
function liquidationPrices(spec: AaveVenueSpec, positions: readonly Position[], ctx: PriceContext): Record<AssetId, bigint | null> {
  const out: Record<AssetId, bigint | null> = {};
  for (const a of Object.values(ctx.assets)) {
    const token = a.token.toLowerCase();
    if (spec.swapPools[a.id] === undefined && !positions.some((p) => p.token === token)) continue;
    out[a.id] = liquidationPrice(positions, token);
  }
  return out;
}

/** The account's totals as the model computes them (what `getUserAccountData` should return). */
export function aaveAccountTotals(account: AaveVenueAccount): AaveTotals {
  return totalsOf(positionsOf(account));
}

export const aaveCollateralModel: VenueModel<AaveVenueSpec, AaveVenueAccount> = {
  shortCostAprE18: (spec, account, asset) => shortCostAprE18(spec, account, asset),

  hedgeUnits(_spec, account, asset) {
    const token = asset.token.toLowerCase();
    const p = positionsOf(account).find((r) => r.token === token);
    return p === undefined ? 0n : -p.debt;
  },

  buckets(spec, account, ctx): CollateralBucket[] {
    const positions = positionsOf(account);
    const quote = positions.find((p) => p.token === ctx.quote.token.toLowerCase());
    return [{
      venue: spec.id,
      asset: null,
      ratioE18: totalsOf(positions).healthFactorE18,
      venueRatioE18: account.accountData.healthFactorE18,
      liquidationRatioE18: WAD,
      collateralUnits: quote?.supplied ?? 0n,
      liquidationPricesE8: liquidationPrices(spec, positions, ctx),
    }];
  },

  ratioAfter(spec, account, ctx, change, bucket) {
    checkBucket(spec, bucket);
    return totalsOf(changedPositions(spec, account, ctx, change)).healthFactorE18;
  },

  /**
   * Quote supplied to the quote reserve: the continuous estimate (Σ value×LT / 1e4 = target × debt),
   * nudged up until the exact HF holds, then bisected down to the smallest amount that holds.
   */
  topUpToTarget(spec, account, ctx, bucket, targetE18, change = {}) {
    checkBucket(spec, bucket);
    const after = changedPositions(spec, account, ctx, change);
    if (totalsOf(after).healthFactorE18 >= targetE18) return 0n;
    const quote = after.find((p) => p.token === ctx.quote.token.toLowerCase()) ?? quotePosition(spec, account, ctx);
    // Counted if already collateral, or a first supply Aave turns into collateral (LTV > 0).
    const counts = quote.ltBps !== 0n && (quote.collateral || (quote.supplied === 0n && quote.ltvBps !== 0n));
    if (!counts || quote.priceE8 <= 0n) {
      throw new RangeError(`aave venue ${spec.id}: supplying ${ctx.quote.id} cannot raise the health factor (not collateral, or no price)`);
    }
    const holds = (x: bigint): boolean => totalsOf(replace(after, withSupplyDelta(quote, x))).healthFactorE18 >= targetE18;
    const t = totalsOf(after);
    const neededLt = (targetE18 * t.totalDebtBaseE8 * 10_000n) / WAD - t.totalCollateralBaseE8 * t.liquidationThresholdBps;
    let topUp = neededLt > 0n ? ((neededLt / quote.ltBps + 1n) * 10n ** quote.decimals) / quote.priceE8 + 1n : 1n;
    for (let i = 0; !holds(topUp); i++) {
      if (i >= 64) throw new Error(`aave venue ${spec.id}: top-up did not converge (target ${targetE18})`);
      topUp += i < 8 ? 1n : topUp / 1000n + 1n;
    }
    return smallestPassing(0n, topUp, holds);
  },

  /**
   * Extra borrow of `asset` such that (a) ValidationLogic.validateBorrow accepts it: HF > 1 before,
   * a non-zero LTV, and percentDiv(debt + floor(amount × price), avgLTV) <= collateral; and (b) the
   * HF after (per-reserve truncation, as Aave recomputes it) stays >= keep. Both fall as the borrow
   * grows, so a bisection finds the edge. 0 without a swap pool here: the borrow could not be sold.
   */
  shortCapacityUnits(spec, account, ctx, asset, keepRatioE18) {
    if (spec.swapPools[asset.id] === undefined) return 0n;
    const positions = positionsOf(account);
    const before = totalsOf(positions);
    const p = debtPosition(spec, account, ctx, asset);
    if (p.priceE8 <= 0n || before.ltvBps === 0n || before.totalCollateralBaseE8 === 0n || before.healthFactorE18 <= WAD) return 0n;
    const unit = 10n ** p.decimals;
    const holds = (x: bigint): boolean => {
      if (x === 0n) return before.healthFactorE18 >= keepRatioE18;
      const amountBase = (x * p.priceE8) / unit;
      if (percentDiv(before.totalDebtBaseE8 + amountBase, before.ltvBps) > before.totalCollateralBaseE8) return false;
      return totalsOf(replace(positions, withDebtDelta(p, -x))).healthFactorE18 >= keepRatioE18;
    };
    if (!holds(0n)) return 0n;
    // Past collateral × LTV the borrow check fails, which bounds the search.
    const hi = (((before.totalCollateralBaseE8 * before.ltvBps) / 10_000n + 2n) * unit) / p.priceE8 + 2n;
    if (holds(hi)) throw new Error(`aave venue ${spec.id}: borrow bound of ${asset.id} does not hold (${hi})`);
    return largestPassing(0n, hi, holds);
  },

  /**
   * Largest quote withdrawal keeping HF >= max(keep, 1.0) (ValidationLogic.validateHFAndLtv
   * refuses under 1.0), within the supplied balance; 0 when Aave would refuse any because another
   * collateral has LTV 0 while the account borrows.
   */
  withdrawableUnits(spec, account, ctx, bucket, keepRatioE18) {
    checkBucket(spec, bucket);
    const positions = positionsOf(account);
    const quote = positions.find((p) => p.token === ctx.quote.token.toLowerCase());
    if (quote === undefined || quote.supplied === 0n) return 0n;
    const before = totalsOf(positions);
    const counted = quote.collateral && quote.ltBps !== 0n;
    if (before.totalDebtBaseE8 === 0n || !counted) return quote.supplied;
    if (before.hasZeroLtvCollateral && quote.ltvBps !== 0n) return 0n;
    const keep = keepRatioE18 > WAD ? keepRatioE18 : WAD;
    const holds = (w: bigint): boolean => totalsOf(replace(positions, withSupplyDelta(quote, -w))).healthFactorE18 >= keep;
    if (!holds(0n)) return 0n;
    if (holds(quote.supplied)) return quote.supplied;
    return largestPassing(0n, quote.supplied, holds);
  },

  consistency(spec, account, ctx) {
    return aaveAccountConsistency(spec, account, ctx);
  },
};

/**
 * Does the model agree with Aave's own `getUserAccountData` of the same block? Exact on every
 * figure: the snapshot's balances (aToken / debt token `balanceOf`) are the same
 * scaledBalance.rayMul(index) GenericLogic reads, with the same oracle prices, and integer sums do
 * not depend on the order Aave walks its reserve list, so no rounding slack is owed. A reserve
 * with a balance whose token the portfolio does not declare comes first: the keeper counts it in
 * the health factor but cannot act on it. Null when all agree, else one line naming the difference.
 */
export function aaveAccountConsistency(spec: AaveVenueSpec, account: AaveVenueAccount, ctx: PriceContext): string | null {
  const declared = new Set([ctx.quote.token, ...Object.values(ctx.assets).map((a) => a.token)].map((t) => t.toLowerCase()));
  for (const r of Object.values(account.reserves)) {
    if ((r.suppliedUnits !== 0n || r.debtUnits !== 0n) && !declared.has(r.token.toLowerCase())) {
      return `aave venue ${spec.id}: not modelled: ${r.token} (supplied ${r.suppliedUnits}, debt ${r.debtUnits} in its own units), a position the portfolio does not declare`;
    }
  }
  const model = aaveAccountTotals(account);
  const venue = account.accountData;
  const pairs: readonly [string, bigint, bigint][] = [
    ['total collateral (base E8)', model.totalCollateralBaseE8, venue.totalCollateralBaseE8],
    ['total debt (base E8)', model.totalDebtBaseE8, venue.totalDebtBaseE8],
    ['liquidation threshold (bps)', model.liquidationThresholdBps, venue.liquidationThresholdBps],
    ['ltv (bps)', model.ltvBps, venue.ltvBps],
    ['health factor (E18)', model.healthFactorE18, venue.healthFactorE18],
  ];
  for (const [name, mine, theirs] of pairs) {
    if (mine !== theirs) return `aave venue ${spec.id}: ${name}: model ${mine}, Aave ${theirs}`;
  }
  return null;
}
