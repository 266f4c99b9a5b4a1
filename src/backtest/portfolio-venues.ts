import type { AaveReserveHolding, AaveVenueAccount, AaveVenueSpec, AssetId, AssetSpec, PerpMarketAccount, PerpVenueAccount, PerpVenueSpec, Portfolio } from '../portfolio/model.js';
import type { PriceContext } from '../portfolio/venue-model.js';
import { E18, E8, MAX_UINT256, absBig, ceilDiv } from '../core/format.js';
import { pow10 } from '../core/portfolio/exposure.js';
import { perpCollateralModel, sizePriceToQuote, unitsToSizeE18 } from '../venues/perp-collateral.js';
import { aaveAccountTotals, aaveCollateralModel } from '../venues/aave-collateral.js';
import { percentMul } from '../venues/aave-math.js';
import { SECONDS_PER_YEAR } from '../core/risk/returns.js';

/**
 * The venue accounts of the portfolio backtest, simulated: an isolated-margin perp (one bucket
 * per market, the devnet PerpExchange's rules: 10% initial, 5% maintenance, 1% liquidation
 * penalty) and an Aave V3 account (the quote supplied as collateral, the hedge a borrow sold on
 * the asset's swap pool). Readings are the snapshot's VenueAccount shapes, so the keeper's own
 * venue models (src/venues/*-collateral.ts) measure them; the checks before an action ask the
 * same models, as the keeper's pre-send simulation asks the chain.
 */

export const PERP_INITIAL_E18 = 10n ** 17n;
export const PERP_MAINTENANCE_E18 = 5n * 10n ** 16n;
const PERP_PENALTY_BPS = 100n;
const BPS = 10_000n;
const YEAR = BigInt(SECONDS_PER_YEAR);

/** Aave V3 mainnet-like risk parameters (LTV, liquidation threshold, bps) by asset id; others get the last line. */
const AAVE_PARAMS: Record<string, { ltv: bigint; lt: bigint }> = {
  USDC: { ltv: 7700n, lt: 8000n }, ETH: { ltv: 8050n, lt: 8300n }, BTC: { ltv: 7300n, lt: 7800n }, other: { ltv: 7000n, lt: 7500n },
};
const AAVE_LIQUIDATION_BONUS_BPS = 500n;

export interface VenueCosts {
  readonly takerFeeBps: bigint;
  /** Annual rates, E18: perp funding paid by shorts, Aave borrow and supply. */
  readonly fundingAprE18: bigint;
  readonly borrowAprE18: bigint;
  readonly supplyAprE18: bigint;
  readonly slippageBps: bigint;
}

export interface SimPerpMarket {
  sizeE18: bigint;
  entryPriceE8: bigint;
  marginUnits: bigint;
  /** Funding owed and not yet settled into the margin (negative: owed to the account). */
  pendingUnits: bigint;
}

export interface SimAave {
  /** Quote supplied (collateral), quote units. */
  supplied: bigint;
  /** Borrowed, per asset, asset units. */
  debt: Record<AssetId, bigint>;
}

/** What one action cost beyond the venue's named fee: the fill or swap slippage, USD E8 (>= 0). */
export interface Executed {
  readonly slippageE8: bigint;
  /** Quote units released from the venue's collateral to pay a buy-back (as live: aave-portfolio.ts). */
  readonly releasedUnits?: bigint;
}
export type VenueResult = Executed | { readonly refused: string };

// ------------------------------------------------------------------------------------ perp

/** PnL of a market at a price in quote units, rounded as the live attribution reads it back. */
function upnlUnits(m: SimPerpMarket, priceE8: bigint, quoteDecimals: number): bigint {
  return (((m.sizeE18 * (priceE8 - m.entryPriceE8)) / E18) * pow10(quoteDecimals)) / E8;
}

export function perpValueUnits(m: SimPerpMarket, priceE8: bigint, quoteDecimals: number): bigint {
  return m.marginUnits + upnlUnits(m, priceE8, quoteDecimals) - m.pendingUnits;
}

function perpRatio(m: SimPerpMarket, priceE8: bigint, quoteDecimals: number): bigint {
  if (m.sizeE18 === 0n) return MAX_UINT256;
  const value = perpValueUnits(m, priceE8, quoteDecimals);
  if (value <= 0n) return 0n;
  const notional = ceilDiv(absBig(m.sizeE18) * priceE8, sizePriceToQuote(quoteDecimals));
  return notional === 0n ? MAX_UINT256 : (value * E18) / notional;
}

export function perpReading(spec: PerpVenueSpec, markets: Record<AssetId, SimPerpMarket>, ctx: PriceContext, c: VenueCosts): PerpVenueAccount {
  const out: Record<AssetId, PerpMarketAccount> = {};
  const shortCost: Record<AssetId, bigint> = {};
  for (const [asset, marketId] of Object.entries(spec.markets)) {
    const m = markets[asset]!;
    const p = ctx.pricesE8[asset] ?? 0n;
    out[asset] = {
      marketId, sizeE18: m.sizeE18, entryPriceE8: m.entryPriceE8, marginUnits: m.marginUnits,
      accountValueUnits: perpValueUnits(m, p, ctx.quote.decimals), marginRatioE18: perpRatio(m, p, ctx.quote.decimals),
      maintenanceRatioE18: PERP_MAINTENANCE_E18, initialRatioE18: PERP_INITIAL_E18, takerFeeBps: c.takerFeeBps,
    };
    shortCost[asset] = c.fundingAprE18;
  }
  return { kind: 'perp', venue: spec.id, markets: out, shortCostAprE18: shortCost };
}

/** Funding over dt at the price: shorts pay a positive APR, longs receive it. Returns what the account paid, quote units. */
export function perpAccrue(m: SimPerpMarket, priceE8: bigint, dtSec: bigint, c: VenueCosts, quoteDecimals: number): bigint {
  const owed = (-m.sizeE18 * priceE8 * c.fundingAprE18 * dtSec) / (E18 * YEAR * sizePriceToQuote(quoteDecimals));
  m.pendingUnits += owed;
  return owed;
}

/** Under maintenance: the exchange closes the market at the price and keeps a 1% penalty. Returns true if it did. */
export function perpLiquidateIfDue(m: SimPerpMarket, priceE8: bigint, quoteDecimals: number): boolean {
  if (m.sizeE18 === 0n || perpRatio(m, priceE8, quoteDecimals) >= PERP_MAINTENANCE_E18) return false;
  const value = perpValueUnits(m, priceE8, quoteDecimals);
  const penalty = ceilDiv(absBig(m.sizeE18) * priceE8 * PERP_PENALTY_BPS, sizePriceToQuote(quoteDecimals) * BPS);
  const left = value - penalty;
  Object.assign(m, { sizeE18: 0n, entryPriceE8: 0n, marginUnits: left > 0n ? left : 0n, pendingUnits: 0n });
  return true;
}

/**
 * A taker trade at the oracle price moved by the slippage. The whole position is marked to the
 * fill and the pending funding settled (the account's value moves only by the fee and the
 * slippage); a risk-increasing trade must leave the market at its initial ratio, as on the exchange.
 */
export function perpTrade(spec: PerpVenueSpec, account: PerpVenueAccount, m: SimPerpMarket, ctx: PriceContext, asset: AssetSpec, deltaUnits: bigint, c: VenueCosts): VenueResult {
  const p = ctx.pricesE8[asset.id] ?? 0n;
  if (p <= 0n) return { refused: `no ${asset.id} price` };
  const deltaE18 = unitsToSizeE18(deltaUnits, asset.decimals);
  const after = m.sizeE18 + deltaE18;
  if (absBig(after) > absBig(m.sizeE18)) {
    const ratio = perpCollateralModel.ratioAfter(spec, account, ctx, { hedgeDeltaUnits: { [asset.id]: deltaUnits } }, asset.id);
    if (ratio < PERP_INITIAL_E18) return { refused: `InitialMarginNotMet(${ratio}, ${PERP_INITIAL_E18})` };
  }
  const spq = sizePriceToQuote(ctx.quote.decimals);
  const fill = deltaE18 < 0n ? (p * (BPS - c.slippageBps)) / BPS : (p * (BPS + c.slippageBps)) / BPS;
  const fee = ceilDiv(absBig(deltaE18) * p * c.takerFeeBps, spq * BPS);
  m.marginUnits += upnlUnits(m, fill, ctx.quote.decimals) - m.pendingUnits - fee;
  m.pendingUnits = 0n;
  m.sizeE18 = after;
  m.entryPriceE8 = after === 0n ? 0n : fill;
  return { slippageE8: (absBig(deltaE18) * absBig(p - fill)) / E18 };
}

/** Quote out of a market (moveCollateral): only while the market stays at its initial ratio. */
export function perpWithdraw(m: SimPerpMarket, priceE8: bigint, units: bigint, quoteDecimals: number): string | null {
  const after = { ...m, marginUnits: m.marginUnits - units };
  if (after.marginUnits < 0n) return `withdrawal of ${units} exceeds the margin ${m.marginUnits}`;
  if (m.sizeE18 !== 0n && perpRatio(after, priceE8, quoteDecimals) < PERP_INITIAL_E18) return 'InitialMarginNotMet after the withdrawal';
  m.marginUnits = after.marginUnits;
  return null;
}

// ------------------------------------------------------------------------------------ aave

function aaveParams(id: string): { ltv: bigint; lt: bigint } {
  return AAVE_PARAMS[id] ?? AAVE_PARAMS['other']!;
}

export function aaveReading(p: Portfolio, spec: AaveVenueSpec, a: SimAave, ctx: PriceContext, c: VenueCosts): AaveVenueAccount {
  const reserves: Record<string, AaveReserveHolding> = {};
  const q = aaveParams(p.quote.id);
  reserves[p.quote.token.toLowerCase()] = {
    token: p.quote.token, decimals: p.quote.decimals, priceE8: ctx.quotePriceE8, suppliedUnits: a.supplied, debtUnits: 0n,
    usedAsCollateral: a.supplied > 0n, liquidationThresholdBps: q.lt, ltvBps: q.ltv,
  };
  const shortCost: Record<AssetId, bigint> = {};
  for (const asset of Object.keys(spec.swapPools)) {
    const s = ctx.assets[asset]!;
    const r = aaveParams(asset);
    reserves[s.token.toLowerCase()] = {
      token: s.token, decimals: s.decimals, priceE8: ctx.pricesE8[asset] ?? 0n, suppliedUnits: 0n, debtUnits: a.debt[asset] ?? 0n,
      usedAsCollateral: false, liquidationThresholdBps: r.lt, ltvBps: r.ltv,
    };
    shortCost[asset] = c.borrowAprE18;
  }
  const base = { kind: 'aave' as const, venue: spec.id, reserves, accountData: { totalCollateralBaseE8: 0n, totalDebtBaseE8: 0n, liquidationThresholdBps: 0n, ltvBps: 0n, healthFactorE18: 0n } };
  const t = aaveAccountTotals(base);
  return {
    ...base, shortCostAprE18: shortCost,
    accountData: { totalCollateralBaseE8: t.totalCollateralBaseE8, totalDebtBaseE8: t.totalDebtBaseE8, liquidationThresholdBps: t.liquidationThresholdBps, ltvBps: t.ltvBps, healthFactorE18: t.healthFactorE18 },
  };
}

/** Interest over dt: debt grows at the borrow rate, the supply at the supply rate (rounded toward zero). */
export function aaveAccrue(a: SimAave, dtSec: bigint, c: VenueCosts): void {
  a.supplied += (a.supplied * c.supplyAprE18 * dtSec) / (E18 * YEAR);
  for (const k of Object.keys(a.debt)) a.debt[k] = a.debt[k]! + (a.debt[k]! * c.borrowAprE18 * dtSec) / (E18 * YEAR);
}

/**
 * Under a health factor of 1: a liquidator repays half of each debt and seizes that much
 * collateral plus a 5% bonus, at the oracle prices. Returns true if it did.
 */
export function aaveLiquidateIfDue(p: Portfolio, spec: AaveVenueSpec, a: SimAave, ctx: PriceContext, c: VenueCosts): boolean {
  if (aaveReading(p, spec, a, ctx, c).accountData.healthFactorE18 >= E18) return false;
  for (const [asset, debt] of Object.entries(a.debt)) {
    const half = debt / 2n;
    const s = ctx.assets[asset]!;
    const quote = ((half * (ctx.pricesE8[asset] ?? 0n) * pow10(ctx.quote.decimals)) / (pow10(s.decimals) * ctx.quotePriceE8) * (BPS + AAVE_LIQUIDATION_BONUS_BPS)) / BPS;
    a.debt[asset] = debt - half;
    a.supplied = a.supplied > quote ? a.supplied - quote : 0n;
  }
  return true;
}

/** Quote units of `units` of an asset at the oracle prices, less the pool's fee tier and the slippage (a sale). */
function swapQuote(units: bigint, priceE8: bigint, decimals: number, ctx: PriceContext): bigint {
  return (units * priceE8 * pow10(ctx.quote.decimals)) / (pow10(decimals) * ctx.quotePriceE8);
}

/**
 * Short more (borrow and sell the asset for the quote, into the wallet) or less (buy it back with
 * the wallet's quote and repay). Aave refuses a borrow past the LTV; the wallet must pay a buy-back.
 */
export function aaveHedge(
  p: Portfolio, spec: AaveVenueSpec, a: SimAave, wallet: Record<string, bigint>, ctx: PriceContext, asset: AssetSpec, deltaUnits: bigint, c: VenueCosts,
): VenueResult {
  const price = ctx.pricesE8[asset.id] ?? 0n;
  if (price <= 0n) return { refused: `no ${asset.id} price` };
  const poolId = spec.swapPools[asset.id];
  const fee = BigInt(p.pools.find((x) => x.id === poolId)?.fee ?? 0);
  const size = absBig(deltaUnits);
  const notional = swapQuote(size, price, asset.decimals, ctx);
  const slip = (notional * (1_000_000n - fee) * c.slippageBps) / (1_000_000n * BPS);
  const q = p.quote.id;
  let releasedUnits = 0n;
  if (deltaUnits < 0n) {
    const debt = (a.debt[asset.id] ?? 0n) + size;
    const t = aaveAccountTotals(aaveReading(p, spec, { ...a, debt: { ...a.debt, [asset.id]: debt } }, ctx, c));
    if (t.totalDebtBaseE8 > percentMul(t.totalCollateralBaseE8, t.ltvBps)) return { refused: 'COLLATERAL_CANNOT_COVER_NEW_BORROW' };
    a.debt[asset.id] = debt;
    wallet[q] = (wallet[q] ?? 0n) + notional - (notional * fee) / 1_000_000n - slip;
  } else {
    // The fee tier on the notional, as the live attribution counts it (the exact-output premium is fee² small).
    const cost = notional + ceilDiv(notional * fee, 1_000_000n) + slip;
    // As live (aave-portfolio.ts): a wallet short of the cost draws the rest from this account's
    // quote collateral first, only what keeps its health factor at or above the trigger.
    const short = cost - (wallet[q] ?? 0n);
    if (short > 0n) {
      const room = aaveCollateralModel.withdrawableUnits(spec, aaveReading(p, spec, a, ctx, c), ctx, null, spec.collateral.triggerE18);
      if (short > room) return { refused: `the wallet has ${wallet[q] ?? 0n} ${q} units, the buy-back needs ${cost}, and ${spec.id} can release ${room} above its trigger` };
      a.supplied -= short;
      wallet[q] = (wallet[q] ?? 0n) + short;
      releasedUnits = short;
    }
    const debt = a.debt[asset.id] ?? 0n;
    if (size > debt) return { refused: `repay of ${size} exceeds the debt ${debt}` };
    wallet[q] = wallet[q]! - cost;
    a.debt[asset.id] = debt - size;
  }
  return { slippageE8: (slip * ctx.quotePriceE8) / pow10(ctx.quote.decimals), ...(releasedUnits > 0n ? { releasedUnits } : {}) };
}

/** Quote out of the Aave account (moveCollateral): Aave keeps the health factor at 1 or above. */
export function aaveWithdraw(p: Portfolio, spec: AaveVenueSpec, a: SimAave, ctx: PriceContext, units: bigint, c: VenueCosts): string | null {
  if (units > a.supplied) return `withdrawal of ${units} exceeds the supplied ${a.supplied}`;
  const account = aaveReading(p, spec, a, ctx, c);
  const ok = aaveCollateralModel.withdrawableUnits(spec, account, ctx, null, E18);
  if (units > ok) return `HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD (withdrawable ${ok})`;
  a.supplied -= units;
  return null;
}
