import type { LpHolding, PoolSpec, PoolState } from '../portfolio/model.js';
import { unitsToUsdE8 } from '../core/portfolio/exposure.js';
import { Q96, isqrt, sqrtRatioAtTick, tickAtSqrtRatio, MAX_TICK, MIN_TICK } from './tick-math.js';

/**
 * A Uniswap V3 position in any pool of a portfolio (asset/quote or asset/asset), for the
 * portfolio backtest. Amounts are the pool's SqrtPriceMath rounded down, as lp-model.ts does for
 * the single-asset backtest; here both tokens carry their own decimals and USD price, and the
 * pool trades at the ratio of the two feeds (no pool of its own is simulated).
 */

/** One side of a pool: its decimals and USD price, E8 (the quote at its own price). */
export interface PoolToken {
  readonly decimals: number;
  readonly priceE8: bigint;
}

export interface SimLpRange {
  readonly pool: string;
  readonly liquidity: bigint;
  readonly tickLower: number;
  readonly tickUpper: number;
  readonly sqrtLowerX96: bigint;
  readonly sqrtUpperX96: bigint;
}

const Q192 = Q96 * Q96;

/** Uniswap's tick spacing per fee tier (hundredths of a bip). */
export function tickSpacingOf(fee: number): number {
  const spacing = ({ 100: 1, 500: 10, 3000: 60, 10000: 200 } as Record<number, number>)[fee];
  if (spacing === undefined) throw new RangeError(`pool fee ${fee}: no standard tick spacing (100, 500, 3000, 10000)`);
  return spacing;
}

/** sqrt(token1 per token0, raw units) as Q64.96 at the two USD prices. */
export function poolSqrtPriceX96(t0: PoolToken, t1: PoolToken): bigint {
  if (t0.priceE8 <= 0n || t1.priceE8 <= 0n) throw new RangeError('pool price: both tokens need a positive price');
  return isqrt((t0.priceE8 * 10n ** BigInt(t1.decimals) * Q192) / (t1.priceE8 * 10n ** BigInt(t0.decimals)));
}

function amount0Delta(a: bigint, b: bigint, l: bigint): bigint {
  return ((l << 96n) * (b - a)) / b / a;
}

function amount1Delta(a: bigint, b: bigint, l: bigint): bigint {
  return (l * (b - a)) / Q96;
}

/** Position.amount0 / amount1 at a sqrt price, and whether the pool's tick is inside the range. */
export function rangeAmounts(r: SimLpRange, sqrtPriceX96: bigint): { amount0: bigint; amount1: bigint; inRange: boolean } {
  const { sqrtLowerX96: a, sqrtUpperX96: b, liquidity: l } = r;
  if (sqrtPriceX96 < a) return { amount0: amount0Delta(a, b, l), amount1: 0n, inRange: false };
  if (sqrtPriceX96 >= b) return { amount0: 0n, amount1: amount1Delta(a, b, l), inRange: false };
  return { amount0: amount0Delta(sqrtPriceX96, b, l), amount1: amount1Delta(a, sqrtPriceX96, l), inRange: true };
}

const alignDown = (tick: number, spacing: number): number => Math.floor(tick / spacing) * spacing;

/**
 * A position worth `valueUsdE8` at the tokens' prices, its range [low, high] multiples of the
 * risky side's price: of token0 in token1, or of token1 in token0 when token0 is the quote
 * (`token0IsQuote`), so a USDC/WETH pool's range reads in ETH's USD price either way.
 */
export function mintRange(pool: PoolSpec, t0: PoolToken, t1: PoolToken, token0IsQuote: boolean, valueUsdE8: bigint, low: number, high: number): SimLpRange {
  const spacing = tickSpacingOf(pool.fee);
  const sqrtP = poolSqrtPriceX96(t0, t1);
  const m = (x: number): bigint => BigInt(Math.round(x * 1e12));
  // sqrt(ratio × k) = sqrtP × sqrt(k): the bounds in raw units of the pool's own price.
  const at = (k: bigint): bigint => (sqrtP * isqrt(k * 10n ** 24n)) / 10n ** 18n;
  const [kLow, kHigh] = token0IsQuote ? [(10n ** 24n) / m(high), (10n ** 24n) / m(low)] : [m(low), m(high)];
  const tickLower = Math.max(alignDown(MIN_TICK + spacing - 1, spacing), alignDown(tickAtSqrtRatio(at(kLow)), spacing));
  const tickUpper = Math.min(alignDown(MAX_TICK, spacing), alignDown(tickAtSqrtRatio(at(kHigh)), spacing) + spacing);
  const unit: SimLpRange = { pool: pool.id, liquidity: 10n ** 18n, tickLower, tickUpper, sqrtLowerX96: sqrtRatioAtTick(tickLower), sqrtUpperX96: sqrtRatioAtTick(tickUpper) };
  const u = rangeAmounts(unit, sqrtP);
  const unitValue = unitsToUsdE8(u.amount0, t0.priceE8, t0.decimals) + unitsToUsdE8(u.amount1, t1.priceE8, t1.decimals);
  if (unitValue <= 0n) throw new RangeError(`pool ${pool.id}: a unit of liquidity is worth nothing at this price`);
  return { ...unit, liquidity: (unit.liquidity * valueUsdE8) / unitValue };
}

/** The pool's state and the account's holding, as the snapshot reader returns them. */
export function lpReading(r: SimLpRange, t0: PoolToken, t1: PoolToken, fees0: bigint, fees1: bigint): { pool: PoolState; holding: LpHolding } {
  const sqrtPriceX96 = poolSqrtPriceX96(t0, t1);
  const { amount0, amount1, inRange } = rangeAmounts(r, sqrtPriceX96);
  return {
    pool: { sqrtPriceX96, tick: tickAtSqrtRatio(sqrtPriceX96), liquidity: r.liquidity },
    holding: { pool: r.pool, tokenId: 1n, liquidity: r.liquidity, tickLower: r.tickLower, tickUpper: r.tickUpper, inRange, amount0, amount1, fees0, fees1 },
  };
}
