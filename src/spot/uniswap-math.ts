/**
 * Uniswap V3 math the keeper needs: pool price <-> oracle-style price, LP token amounts, LP
 * gamma, and tick ranges. Pure: no network, no clock. Amounts are bigint base units in and out;
 * position amounts come from `@uniswap/v3-sdk` (the same rounding as the pool's `burn`, so they
 * equal what `decreaseLiquidity` would pay out).
 *
 * Price conventions: `priceE8` is the base asset (WETH) in the quote asset (USDC) with 8
 * decimals, like the Chainlink feed. `sqrtPriceX96` is the pool's sqrt(token1/token0) in raw
 * units, Q64.96, so its meaning flips with the address order of the two tokens (`baseIsToken0`).
 */
import { Decimal } from 'decimal.js';
import { sdkToken, toBigint, toJsbi, v3Sdk } from './sdk.js';

/** 2^96, the fixed-point one of sqrtPriceX96. */
export const Q96 = 1n << 96n;
const Q192 = 1n << 192n;
const E8_DECIMALS = 8;
/** 40 significant digits: a sqrtPriceX96 has ~25, so ratios of them stay exact enough. */
const D = Decimal.clone({ precision: 40 });

/** Bounds of the pool's sqrt price (TickMath.MIN_SQRT_RATIO / MAX_SQRT_RATIO). */
export const MIN_SQRT_RATIO = 4295128739n;
export const MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342n;
export const MIN_TICK = -887272;
export const MAX_TICK = 887272;

/** Floor integer square root. */
export function sqrtBigint(value: bigint): bigint {
  if (value < 0n) throw new RangeError('sqrt of a negative number');
  if (value < 2n) return value;
  // Newton from an over-estimate (2^ceil(bits/2)) decreases monotonically to the floor root.
  let x = 1n << BigInt(Math.ceil(value.toString(2).length / 2));
  for (;;) {
    const y = (x + value / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** 10^(8 + baseDecimals - quoteDecimals) as a fraction {num, den}, so negative exponents work. */
function scale(baseDecimals: number, quoteDecimals: number): { num: bigint; den: bigint } {
  const exp = E8_DECIMALS + baseDecimals - quoteDecimals;
  return exp >= 0 ? { num: 10n ** BigInt(exp), den: 1n } : { num: 1n, den: 10n ** BigInt(-exp) };
}

/**
 * Pool price as an oracle-style price: quote per base, 8 decimals, rounded to nearest.
 * token0 base: price = sqrtP^2 / 2^192 (token1 raw per token0 raw); token1 base: its inverse.
 */
export function priceE8FromSqrtPriceX96(
  sqrtPriceX96: bigint,
  baseIsToken0: boolean,
  baseDecimals = 18,
  quoteDecimals = 6,
): bigint {
  if (sqrtPriceX96 <= 0n) throw new RangeError('sqrtPriceX96 must be positive');
  const { num, den } = scale(baseDecimals, quoteDecimals);
  const sq = sqrtPriceX96 * sqrtPriceX96;
  const [n, d] = baseIsToken0 ? [sq * num, Q192 * den] : [Q192 * num, sq * den];
  // Nearest, not floor: the sqrt price is itself a floored square root, so flooring again would
  // bias every reading down and make priceE8 -> sqrtPriceX96 -> priceE8 lose a unit.
  return (2n * n + d) / (2n * d);
}

/** Inverse of `priceE8FromSqrtPriceX96` (floor sqrt), for pool initialization and swap limits. */
export function sqrtPriceX96FromPriceE8(
  priceE8: bigint,
  baseIsToken0: boolean,
  baseDecimals = 18,
  quoteDecimals = 6,
): bigint {
  if (priceE8 <= 0n) throw new RangeError('priceE8 must be positive');
  const { num, den } = scale(baseDecimals, quoteDecimals);
  // ratio token1/token0 in raw units: base token0 -> priceE8*den/num, else num/(priceE8*den).
  const sqrt = baseIsToken0 ? sqrtBigint((priceE8 * den * Q192) / num) : sqrtBigint((num * Q192) / (priceE8 * den));
  if (sqrt < MIN_SQRT_RATIO || sqrt >= MAX_SQRT_RATIO) throw new RangeError(`price ${priceE8} is outside the pool's range`);
  return sqrt;
}

/** The tick whose price is at or below sqrtPriceX96 (TickMath.getTickAtSqrtRatio). */
export function tickAtSqrtPriceX96(sqrtPriceX96: bigint): number {
  return v3Sdk().TickMath.getTickAtSqrtRatio(toJsbi(sqrtPriceX96));
}

/** sqrt(1.0001^tick) as Q64.96 (TickMath.getSqrtRatioAtTick). */
export function sqrtPriceX96AtTick(tick: number): bigint {
  return toBigint(v3Sdk().TickMath.getSqrtRatioAtTick(tick));
}

export interface PositionAmountsInput {
  liquidity: bigint;
  tickLower: number;
  tickUpper: number;
  sqrtPriceX96: bigint;
  /** The pool's slot0 tick. Omitted: derived from sqrtPriceX96 (differs from slot0 only exactly on a tick boundary). */
  tick?: number;
  /** Fee tier in hundredths of a bip; decides the tick spacing the ticks must align to. Default 500. */
  fee?: number;
  /** Only for the SDK objects; they do not change the amounts. Must be in address order. */
  token0?: string;
  token1?: string;
  decimals0?: number;
  decimals1?: number;
  chainId?: number;
}

const PLACEHOLDER0 = '0x0000000000000000000000000000000000000001';
const PLACEHOLDER1 = '0x0000000000000000000000000000000000000002';

/** Raw token amounts the position's liquidity is worth at the pool price (principal only, rounded down). */
export function positionAmounts(input: PositionAmountsInput): { amount0: bigint; amount1: bigint } {
  const { Pool, Position } = v3Sdk();
  const chainId = input.chainId ?? 1;
  const t0 = sdkToken(chainId, input.token0 ?? PLACEHOLDER0, input.decimals0 ?? 18);
  const t1 = sdkToken(chainId, input.token1 ?? PLACEHOLDER1, input.decimals1 ?? 18);
  if (!t0.sortsBefore(t1)) throw new Error('positionAmounts: token0 must sort before token1');
  const tick = input.tick ?? tickAtSqrtPriceX96(input.sqrtPriceX96);
  // Pool liquidity is irrelevant to a position's amounts; 0 keeps the input minimal.
  const pool = new Pool(t0, t1, input.fee ?? 500, input.sqrtPriceX96.toString(), '0', tick);
  const position = new Position({
    pool,
    liquidity: input.liquidity.toString(),
    tickLower: input.tickLower,
    tickUpper: input.tickUpper,
  });
  return { amount0: toBigint(position.amount0.quotient), amount1: toBigint(position.amount1.quotient) };
}

export interface BaseQuoteInput extends PositionAmountsInput {
  baseIsToken0: boolean;
}

export interface BaseQuoteAmounts {
  amountBaseWei: bigint;
  amountQuoteUnits: bigint;
  /** The pool's own definition of active liquidity: tickLower <= tick < tickUpper. */
  inRange: boolean;
}

/** `positionAmounts` mapped to the base (WETH) / quote (USDC) legs. */
export function positionBaseQuote(input: BaseQuoteInput): BaseQuoteAmounts {
  const tick = input.tick ?? tickAtSqrtPriceX96(input.sqrtPriceX96);
  const { amount0, amount1 } = positionAmounts({ ...input, tick });
  return {
    amountBaseWei: input.baseIsToken0 ? amount0 : amount1,
    amountQuoteUnits: input.baseIsToken0 ? amount1 : amount0,
    inRange: input.tickLower <= tick && tick < input.tickUpper,
  };
}

/** The LP's delta in base wei is its base amount: the quote leg has no base exposure. */
export function lpDeltaWei(amounts: BaseQuoteAmounts): bigint {
  return amounts.amountBaseWei;
}

export interface GammaInput {
  liquidity: bigint;
  tickLower: number;
  tickUpper: number;
  sqrtPriceX96: bigint;
  tick?: number;
  baseIsToken0: boolean;
  baseDecimals?: number;
  quoteDecimals?: number;
}

/**
 * LP gamma: d(amountBaseWei)/d(price), in **wei of base per 1 USD** of base price (price in
 * quote-per-base, human units). Negative in range (an LP sells base as price rises), 0 out of
 * range (the position is all one token and its base amount no longer moves).
 *
 * With q = raw quote per raw base = P * 10^(qd - bd), the base amount in range is
 * L * (1/sqrt(q) - 1/sqrt(q_upper)) whatever the token order, so dBase/dP = -L / (2 q^1.5) * 10^(qd - bd).
 */
export function lpGammaWeiPerUsd(input: GammaInput): Decimal {
  const tick = input.tick ?? tickAtSqrtPriceX96(input.sqrtPriceX96);
  if (input.liquidity === 0n || tick < input.tickLower || tick >= input.tickUpper) return new D(0);
  const sq = new D(input.sqrtPriceX96.toString()).pow(2).div(Q192.toString());
  const q = input.baseIsToken0 ? sq : new D(1).div(sq);
  const decShift = new D(10).pow((input.quoteDecimals ?? 6) - (input.baseDecimals ?? 18));
  return new D(input.liquidity.toString()).neg().div(q.pow(1.5).mul(2)).mul(decShift);
}

export interface TickRange {
  tickLower: number;
  tickUpper: number;
}

/** Largest multiple of `spacing` <= tick (never -0, which would read oddly in logs and JSON). */
function alignDown(tick: number, spacing: number): number {
  return Math.floor(tick / spacing) * spacing + 0;
}

/** Widest usable range for a tick spacing (the "full range" position). */
export function fullRangeTicks(tickSpacing: number): TickRange {
  return { tickLower: alignDown(MIN_TICK + tickSpacing - 1, tickSpacing), tickUpper: alignDown(MAX_TICK, tickSpacing) };
}

/**
 * A tick range covering price * (1 ± widthPct/100), widened outward to the tick spacing.
 * With base as token1 a higher USD price is a lower tick, hence the min/max.
 */
export function ticksAroundPrice(
  priceE8: bigint,
  widthPct: number,
  tickSpacing: number,
  baseIsToken0: boolean,
  baseDecimals = 18,
  quoteDecimals = 6,
): TickRange {
  if (!(widthPct > 0 && widthPct < 100)) throw new RangeError('widthPct must be in (0, 100)');
  if (!Number.isInteger(tickSpacing) || tickSpacing <= 0) throw new RangeError('tickSpacing must be a positive integer');
  const widthBps = BigInt(Math.round(widthPct * 100));
  const lowE8 = (priceE8 * (10_000n - widthBps)) / 10_000n;
  const highE8 = (priceE8 * (10_000n + widthBps)) / 10_000n;
  const a = tickAtSqrtPriceX96(sqrtPriceX96FromPriceE8(lowE8, baseIsToken0, baseDecimals, quoteDecimals));
  const b = tickAtSqrtPriceX96(sqrtPriceX96FromPriceE8(highE8, baseIsToken0, baseDecimals, quoteDecimals));
  const full = fullRangeTicks(tickSpacing);
  return {
    tickLower: Math.max(full.tickLower, alignDown(Math.min(a, b), tickSpacing)),
    // The upper tick must lie strictly above the tick holding the band's top price.
    tickUpper: Math.min(full.tickUpper, alignDown(Math.max(a, b), tickSpacing) + tickSpacing),
  };
}

// ---------------------------------------------------------------------------------------------
// Fees owed: what NonfungiblePositionManager.collect would pay now. The position manager only
// checkpoints `tokensOwed` when a position is touched, so the earned fees must be computed from
// the pool's fee growth, with the core contracts' uint256 arithmetic (subtractions wrap).
// ---------------------------------------------------------------------------------------------

/** 2^128, the fixed-point one of the pool's fee growth (FixedPoint128.Q128). */
export const Q128 = 1n << 128n;
const MAX_UINT256 = (1n << 256n) - 1n;
const MAX_UINT128 = Q128 - 1n;

/** a - b modulo 2^256, as Solidity 0.7 computes it (fee growth counters are meant to wrap). */
export function subUint256(a: bigint, b: bigint): bigint {
  return (a - b) & MAX_UINT256;
}

/** A tick's fee growth on the other side of the current price (pool.ticks(t) fields 2 and 3). */
export interface TickFeeGrowth {
  feeGrowthOutside0X128: bigint;
  feeGrowthOutside1X128: bigint;
}

export interface FeeGrowthInsideInput {
  tickLower: number;
  tickUpper: number;
  /** slot0.tick, the tick the pool itself compares with. */
  tickCurrent: number;
  feeGrowthGlobal0X128: bigint;
  feeGrowthGlobal1X128: bigint;
  lower: TickFeeGrowth;
  upper: TickFeeGrowth;
}

/** Tick.getFeeGrowthInside: fee growth per unit of liquidity inside [tickLower, tickUpper), mod 2^256. */
export function feeGrowthInsideX128(i: FeeGrowthInsideInput): { feeGrowthInside0X128: bigint; feeGrowthInside1X128: bigint } {
  const inside = (global: bigint, lowerOutside: bigint, upperOutside: bigint): bigint => {
    const below = i.tickCurrent >= i.tickLower ? lowerOutside : subUint256(global, lowerOutside);
    const above = i.tickCurrent < i.tickUpper ? upperOutside : subUint256(global, upperOutside);
    return subUint256(subUint256(global, below), above);
  };
  return {
    feeGrowthInside0X128: inside(i.feeGrowthGlobal0X128, i.lower.feeGrowthOutside0X128, i.upper.feeGrowthOutside0X128),
    feeGrowthInside1X128: inside(i.feeGrowthGlobal1X128, i.lower.feeGrowthOutside1X128, i.upper.feeGrowthOutside1X128),
  };
}

export interface FeesOwedInput {
  liquidity: bigint;
  /** The position manager's checkpoint of the position (positions(tokenId) fields 8 to 11). */
  feeGrowthInside0LastX128: bigint;
  feeGrowthInside1LastX128: bigint;
  tokensOwed0: bigint;
  tokensOwed1: bigint;
  /** The pool's fee growth inside the range now (`feeGrowthInsideX128`). */
  feeGrowthInside0X128: bigint;
  feeGrowthInside1X128: bigint;
}

/**
 * What collect(amount0Max = amount1Max = 2^128 - 1) pays: tokensOwed plus
 * uint128(mulDiv(inside - last, liquidity, 2^128)), added in uint128 as the position manager does
 * (Solidity 0.7: the cast truncates and the sum wraps; Position.update accepts that overflow).
 */
export function feesOwed(i: FeesOwedInput): { amount0: bigint; amount1: bigint } {
  const owed = (tokensOwed: bigint, now: bigint, last: bigint): bigint => {
    const earned = ((subUint256(now, last) * i.liquidity) / Q128) & MAX_UINT128;
    return (tokensOwed + earned) & MAX_UINT128;
  };
  return {
    amount0: owed(i.tokensOwed0, i.feeGrowthInside0X128, i.feeGrowthInside0LastX128),
    amount1: owed(i.tokensOwed1, i.feeGrowthInside1X128, i.feeGrowthInside1LastX128),
  };
}
