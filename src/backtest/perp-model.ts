import type { PerpAccount } from '../core/types.js';
import { E18, MAX_UINT256, absBig, ceilDiv } from '../core/format.js';

/**
 * One isolated-margin account on our reference PerpExchange (contracts/PerpExchange*.sol),
 * replayed in bigint with the contract's own roundings, so the backtest's fees, funding, margin
 * ratios and liquidations are the ones the devnet would produce:
 * - fee = ceil(|size delta| * fill * feeBps / (1e20 * 1e4)), out of margin;
 * - PnL floored, notional rounded up, margin ratio = value * 1e18 / notional, rounded down;
 * - funding index += ratePerSecE18 * elapsed * price; a position owes
 *   ceil(size * (index - lastIndex) / 1e38) (positive = paid: with a positive rate longs pay);
 * - below the maintenance ratio the account is closed at the price, the liquidator takes 1% of
 *   the notional from what is left, and a negative remainder is bad debt (the house pays it).
 * The one difference: the contract fills at the oracle price, the backtest at a price worse by
 * its slippage assumption (passed in as the fill price).
 */

const SIZE_PRICE_TO_UNITS = 10n ** 20n;
const FUNDING_TO_UNITS = 10n ** 38n;
const BPS = 10_000n;
const SECONDS_PER_YEAR = 365 * 24 * 3600;

export interface PerpParams {
  takerFeeBps: bigint;
  initialRatioE18: bigint;
  maintenanceRatioE18: bigint;
  liquidationPenaltyBps: bigint;
  /** Contract convention: positive = longs pay shorts. */
  fundingRatePerSecE18: bigint;
}

/** The reference exchange's constants (10% initial, 5% maintenance, 1% penalty, 5 bps taker). */
export function perpParams(o: { takerFeeBps?: number; fundingAprPaidByShorts?: number } = {}): PerpParams {
  const apr = o.fundingAprPaidByShorts ?? 0;
  return {
    takerFeeBps: BigInt(o.takerFeeBps ?? 5),
    initialRatioE18: E18 / 10n,
    maintenanceRatioE18: E18 / 20n,
    liquidationPenaltyBps: 100n,
    // Shorts pay a positive APR, so the contract rate (longs pay when positive) is its negative.
    fundingRatePerSecE18: BigInt(Math.round((-apr / SECONDS_PER_YEAR) * 1e18)),
  };
}

export interface PerpState {
  sizeWei: bigint;
  entryPriceE8: bigint;
  marginUnits: bigint;
  /** Market funding index and its last accrual time. */
  indexE26: bigint;
  lastAccrualSec: number;
  /** The index at the position's last settlement. */
  lastIndexE26: bigint;
}

export type TradeResult =
  | { status: 'ok'; feeUnits: bigint; realizedUnits: bigint; fundingPaidUnits: bigint }
  | { status: 'revert'; reason: string };

export interface LiquidationResult {
  closedSizeWei: bigint;
  /** The liquidator's reward. */
  penaltyUnits: bigint;
  /** The part of it the account paid (the rest, with any negative value, is bad debt). */
  penaltyPaidUnits: bigint;
  badDebtUnits: bigint;
  fundingPaidUnits: bigint;
}

function floorDiv(x: bigint, d: bigint): bigint {
  const q = x / d;
  return x % d !== 0n && x < 0n ? q - 1n : q;
}

function ceilDivSigned(x: bigint, d: bigint): bigint {
  const q = x / d;
  return x % d !== 0n && x > 0n ? q + 1n : q;
}

export function pnlUnits(sizeWei: bigint, entryPriceE8: bigint, priceE8: bigint): bigint {
  return sizeWei === 0n ? 0n : floorDiv(sizeWei * (priceE8 - entryPriceE8), SIZE_PRICE_TO_UNITS);
}

export function notionalUnits(sizeWei: bigint, priceE8: bigint): bigint {
  return ceilDiv(absBig(sizeWei) * priceE8, SIZE_PRICE_TO_UNITS);
}

export function fundingOwedUnits(sizeWei: bigint, indexDelta: bigint): bigint {
  return sizeWei === 0n || indexDelta === 0n ? 0n : ceilDivSigned(sizeWei * indexDelta, FUNDING_TO_UNITS);
}

export function marginRatioE18(valueUnits: bigint, sizeWei: bigint, priceE8: bigint): bigint {
  if (sizeWei === 0n) return MAX_UINT256;
  if (valueUnits <= 0n) return 0n;
  return (valueUnits * E18) / notionalUnits(sizeWei, priceE8);
}

export function createPerpState(startSec: number): PerpState {
  return { sizeWei: 0n, entryPriceE8: 0n, marginUnits: 0n, indexE26: 0n, lastAccrualSec: startSec, lastIndexE26: 0n };
}

/** Advance the market's funding index to nowSec at priceE8 (the contract's _accrue). */
export function accrueFunding(s: PerpState, p: PerpParams, nowSec: number, priceE8: bigint): void {
  const elapsed = nowSec - s.lastAccrualSec;
  if (elapsed <= 0) return;
  if (p.fundingRatePerSecE18 !== 0n) s.indexE26 += p.fundingRatePerSecE18 * BigInt(elapsed) * priceE8;
  s.lastAccrualSec = nowSec;
}

export function pendingFundingUnits(s: PerpState): bigint {
  return fundingOwedUnits(s.sizeWei, s.indexE26 - s.lastIndexE26);
}

/** Settle pending funding into margin (every interaction does); returns what was paid. */
function settleFunding(s: PerpState): bigint {
  const paid = pendingFundingUnits(s);
  s.lastIndexE26 = s.indexE26;
  s.marginUnits -= paid;
  return paid;
}

export function accountValueUnits(s: PerpState, priceE8: bigint): bigint {
  return s.marginUnits + pnlUnits(s.sizeWei, s.entryPriceE8, priceE8) - pendingFundingUnits(s);
}

/** The account as the snapshot reader would return it. */
export function perpAccountView(s: PerpState, p: PerpParams, priceE8: bigint): PerpAccount {
  const value = accountValueUnits(s, priceE8);
  return {
    venue: 'perp',
    sizeWei: s.sizeWei,
    entryPriceE8: s.entryPriceE8,
    marginUnits: s.marginUnits,
    accountValueUnits: value,
    marginRatioE18: marginRatioE18(value, s.sizeWei, priceE8),
    maintenanceRatioE18: p.maintenanceRatioE18,
    initialRatioE18: p.initialRatioE18,
    takerFeeBps: p.takerFeeBps,
  };
}

export function depositMargin(s: PerpState, amountUnits: bigint): bigint {
  if (amountUnits <= 0n) throw new RangeError('depositMargin: amount must be positive');
  const paid = settleFunding(s);
  s.marginUnits += amountUnits;
  return paid;
}

/** The contract's _fill: new size, entry and realized PnL (entry rounded against the trader). */
function fill(oldSize: bigint, oldEntry: bigint, delta: bigint, price: bigint): { size: bigint; entry: bigint; realized: bigint } {
  const size = oldSize + delta;
  if (oldSize === 0n || (oldSize > 0n) === (delta > 0n)) {
    const weighted = absBig(oldSize) * oldEntry + absBig(delta) * price;
    const absNew = absBig(oldSize) + absBig(delta);
    return { size, entry: size > 0n ? ceilDiv(weighted, absNew) : weighted / absNew, realized: 0n };
  }
  const closed = absBig(delta) < absBig(oldSize) ? -delta : oldSize;
  const realized = pnlUnits(closed, oldEntry, price);
  const entry = size === 0n ? 0n : absBig(delta) > absBig(oldSize) ? price : oldEntry;
  return { size, entry, realized };
}

/** PerpExchange.trade at fillPriceE8; a trade the contract would revert leaves the state unchanged. */
export function tradePerp(s: PerpState, p: PerpParams, sizeDeltaWei: bigint, fillPriceE8: bigint): TradeResult {
  if (sizeDeltaWei === 0n) return { status: 'revert', reason: 'ZeroSize' };
  const pending = pendingFundingUnits(s);
  const f = fill(s.sizeWei, s.entryPriceE8, sizeDeltaWei, fillPriceE8);
  const feeUnits = ceilDiv(absBig(sizeDeltaWei) * fillPriceE8 * p.takerFeeBps, SIZE_PRICE_TO_UNITS * BPS);
  const newMargin = s.marginUnits - pending + f.realized - feeUnits;
  const flipped = f.size !== 0n && s.sizeWei !== 0n && (f.size > 0n) !== (s.sizeWei > 0n);
  if (absBig(f.size) > absBig(s.sizeWei) || flipped) {
    const ratio = marginRatioE18(newMargin + pnlUnits(f.size, f.entry, fillPriceE8), f.size, fillPriceE8);
    if (ratio < p.initialRatioE18) return { status: 'revert', reason: `InitialMarginNotMet(${ratio})` };
  }
  if (newMargin < 0n) return { status: 'revert', reason: `NegativeMargin(${newMargin})` };
  const fundingPaidUnits = settleFunding(s);
  s.sizeWei = f.size;
  s.entryPriceE8 = f.entry;
  s.marginUnits = newMargin;
  return { status: 'ok', feeUnits, realizedUnits: f.realized, fundingPaidUnits };
}

/** PerpExchange.liquidate at priceE8 when the margin ratio is under maintenance; null otherwise. */
export function liquidateIfDue(s: PerpState, p: PerpParams, priceE8: bigint, valueUnits = accountValueUnits(s, priceE8)): LiquidationResult | null {
  if (s.sizeWei === 0n) return null;
  if (marginRatioE18(valueUnits, s.sizeWei, priceE8) >= p.maintenanceRatioE18) return null;
  const fundingPaidUnits = settleFunding(s);
  const value = s.marginUnits + pnlUnits(s.sizeWei, s.entryPriceE8, priceE8);
  const penaltyUnits = ceilDiv(notionalUnits(s.sizeWei, priceE8) * p.liquidationPenaltyBps, BPS);
  const remaining = value - penaltyUnits;
  const closedSizeWei = s.sizeWei;
  s.sizeWei = 0n;
  s.entryPriceE8 = 0n;
  s.marginUnits = remaining < 0n ? 0n : remaining;
  const penaltyPaidUnits = value <= 0n ? 0n : value < penaltyUnits ? value : penaltyUnits;
  return { closedSizeWei, penaltyUnits, penaltyPaidUnits, badDebtUnits: remaining < 0n ? -remaining : 0n, fundingPaidUnits };
}
