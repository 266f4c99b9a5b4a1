import type { LpPosition } from '../core/types.js';
import { Q96, sqrtPriceX96FromPriceE8, sqrtRatioAtTick, tickAtSqrtRatio, MAX_TICK, MIN_TICK } from './tick-math.js';

/**
 * A Uniswap V3 LP position for the backtest. Amounts use the pool's own SqrtPriceMath in
 * bigint (getAmount0Delta / getAmount1Delta, rounded down), which is what `positionBaseQuote`
 * gets from @uniswap/v3-sdk, to the wei (test/unit/backtest-lp-model.test.ts), but without a
 * JSBI round trip per step: a backtest asks for the amounts ~100,000 times.
 */

const SIZE_PRICE_TO_UNITS = 10n ** 20n;

export interface LpRange {
  liquidity: bigint;
  tickLower: number;
  tickUpper: number;
  sqrtLowerX96: bigint;
  sqrtUpperX96: bigint;
  baseIsToken0: boolean;
}

export interface LpAmounts {
  amountBaseWei: bigint;
  amountQuoteUnits: bigint;
  /** The pool's definition: tickLower <= tick < tickUpper, i.e. sqrtLower <= sqrtP < sqrtUpper. */
  inRange: boolean;
}

/** SqrtPriceMath.getAmount0Delta(a, b, L, roundUp = false), a < b. */
function amount0Delta(sqrtA: bigint, sqrtB: bigint, liquidity: bigint): bigint {
  return ((liquidity << 96n) * (sqrtB - sqrtA)) / sqrtB / sqrtA;
}

/** SqrtPriceMath.getAmount1Delta(a, b, L, roundUp = false), a < b. */
function amount1Delta(sqrtA: bigint, sqrtB: bigint, liquidity: bigint): bigint {
  return (liquidity * (sqrtB - sqrtA)) / Q96;
}

/** Position.amount0 / amount1 at a pool sqrt price, mapped to base / quote. */
export function lpAmountsAt(range: LpRange, sqrtPriceX96: bigint): LpAmounts {
  const { sqrtLowerX96: a, sqrtUpperX96: b, liquidity: l } = range;
  let amount0 = 0n;
  let amount1 = 0n;
  if (sqrtPriceX96 < a) amount0 = amount0Delta(a, b, l);
  else if (sqrtPriceX96 < b) {
    amount0 = amount0Delta(sqrtPriceX96, b, l);
    amount1 = amount1Delta(a, sqrtPriceX96, l);
  } else amount1 = amount1Delta(a, b, l);
  const inRange = sqrtPriceX96 >= a && sqrtPriceX96 < b;
  return range.baseIsToken0
    ? { amountBaseWei: amount0, amountQuoteUnits: amount1, inRange }
    : { amountBaseWei: amount1, amountQuoteUnits: amount0, inRange };
}

/** USDC units of base + quote at priceE8 (base rounded down). */
export function lpValueUnits(amounts: LpAmounts, priceE8: bigint): bigint {
  return (amounts.amountBaseWei * priceE8) / SIZE_PRICE_TO_UNITS + amounts.amountQuoteUnits;
}

export interface LpRangeInput {
  priceE8: bigint;
  /** Value to put in the position, USDC units. */
  valueUnits: bigint;
  /**
   * The range as multiples of the price: [price * low, price * high], widened outward to the
   * tick spacing (0 < low < 1 < high; asymmetric allowed).
   */
  low: number;
  high: number;
  tickSpacing: number;
  baseIsToken0: boolean;
}

const alignDown = (tick: number, spacing: number): number => Math.floor(tick / spacing) * spacing;

/** Ticks covering [price * low, price * high], widened outward to the spacing (as uniswap-math's ticksAroundPrice). */
export function rangeTicks(input: Omit<LpRangeInput, 'valueUnits'>): { tickLower: number; tickUpper: number } {
  const { priceE8, low, high, tickSpacing, baseIsToken0 } = input;
  if (!(low > 0 && low < 1 && high > 1 && Number.isFinite(high))) throw new RangeError(`LP range ${low}:${high}: need 0 < low < 1 < high`);
  if (!Number.isInteger(tickSpacing) || tickSpacing <= 0) throw new RangeError('tickSpacing must be a positive integer');
  const scaled = (m: number): bigint => (priceE8 * BigInt(Math.round(m * 1e9))) / 1_000_000_000n;
  const a = tickAtSqrtRatio(sqrtPriceX96FromPriceE8(scaled(low), baseIsToken0));
  const b = tickAtSqrtRatio(sqrtPriceX96FromPriceE8(scaled(high), baseIsToken0));
  return {
    tickLower: Math.max(alignDown(MIN_TICK + tickSpacing - 1, tickSpacing), alignDown(Math.min(a, b), tickSpacing)),
    // The upper tick must lie strictly above the tick holding the band's top price.
    tickUpper: Math.min(alignDown(MAX_TICK, tickSpacing), alignDown(Math.max(a, b), tickSpacing) + tickSpacing),
  };
}

/**
 * A position worth `valueUnits` at priceE8: the liquidity of a unit position is scaled to the
 * value (rounded down, so it never needs more than it is given).
 */
export function createLpRange(input: LpRangeInput): LpRange {
  const { tickLower, tickUpper } = rangeTicks(input);
  const unit: LpRange = {
    liquidity: 10n ** 18n,
    tickLower,
    tickUpper,
    sqrtLowerX96: sqrtRatioAtTick(tickLower),
    sqrtUpperX96: sqrtRatioAtTick(tickUpper),
    baseIsToken0: input.baseIsToken0,
  };
  const sqrtP = sqrtPriceX96FromPriceE8(input.priceE8, input.baseIsToken0);
  const unitValue = lpValueUnits(lpAmountsAt(unit, sqrtP), input.priceE8);
  if (unitValue <= 0n) throw new RangeError('createLpRange: a unit of liquidity is worth nothing at this price');
  return { ...unit, liquidity: (unit.liquidity * input.valueUnits) / unitValue };
}

/** The LpPosition a snapshot reader would return for this range at a price. */
export function lpPositionAt(
  range: LpRange,
  amounts: LpAmounts,
  fees: { baseWei: bigint; quoteUnits: bigint } = { baseWei: 0n, quoteUnits: 0n },
): LpPosition {
  return {
    tokenId: 1n,
    liquidity: range.liquidity,
    tickLower: range.tickLower,
    tickUpper: range.tickUpper,
    amountBaseWei: amounts.amountBaseWei,
    amountQuoteUnits: amounts.amountQuoteUnits,
    feesBaseWei: fees.baseWei,
    feesQuoteUnits: fees.quoteUnits,
    inRange: amounts.inRange,
    baseIsToken0: range.baseIsToken0,
  };
}
