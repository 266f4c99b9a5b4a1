import { Decimal } from 'decimal.js';
import { floorMulRatio, floorScaled } from '../format.js';

/**
 * Rebalancing bands: how far the net delta may drift before the keeper trades.
 * Inputs that are statistics (vol, cost, risk aversion) are numbers; bands that the planner
 * compares with on-chain deltas are bigint wei, converted exactly through decimal.js.
 */

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_FLOOR });

export interface VolScaledBandInput {
  /** Band at the reference volatility, wei. */
  baseBandWei: bigint;
  volAnnual: number;
  refVolAnnual: number;
  /** Clamp, wei. */
  min: bigint;
  max: bigint;
}

/**
 * base * vol / refVol, clamped to [min, max]: with a proportional cost, the optimal band
 * widens when the delta moves faster, and a higher vol moves it faster. Rounded down to wei.
 */
export function volScaledBandWei(input: VolScaledBandInput): bigint {
  const { baseBandWei, volAnnual, refVolAnnual, min, max } = input;
  if (!(refVolAnnual > 0)) throw new RangeError(`volScaledBandWei: refVolAnnual must be > 0, got ${refVolAnnual}`);
  if (!(volAnnual >= 0 && Number.isFinite(volAnnual))) throw new RangeError(`volScaledBandWei: bad volAnnual ${volAnnual}`);
  if (min > max) throw new RangeError(`volScaledBandWei: min ${min} > max ${max}`);
  // Exact, without a Decimal per tick (the backtester asks every tick): floor(base * vol / ref).
  const scaled = floorMulRatio(baseBandWei, volAnnual, refVolAnnual);
  return scaled < min ? min : scaled > max ? max : scaled;
}

export interface WhalleyWilmottInput {
  /** Proportional transaction cost lambda (fee + half-spread + slippage), e.g. 0.0005. */
  costProportional: number;
  /** Price S of the base asset, USD per base unit (ETH). */
  priceUsd: number;
  /** Gamma = d(delta)/dS of the position, base units per USD of price move; sign is irrelevant. */
  gammaBasePerUsd: number;
  /** Absolute risk aversion gamma of the hedger's exponential utility, 1/USD. */
  riskAversionPerUsd: number;
  /** Interest rate r, per year. Default 0. */
  rateAnnual?: number;
  /** T - t, years. Default 0 (the discount factor is then 1). */
  timeToHorizonYears?: number;
}

/**
 * Whalley & Wilmott (1997) asymptotic no-trade band around the target delta, half-width
 *   H = ( 3/2 * exp(-r (T-t)) * lambda * S * Gamma^2 / gamma )^(1/3)   in base units (ETH).
 * Units check: lambda [-] * S [USD/ETH] * Gamma^2 [ETH^2/USD]^2 / gamma [1/USD] = ETH^3,
 * so H is in ETH, where Gamma = d(delta)/dS is ETH per (USD/ETH) = ETH^2/USD.
 * H grows with cost and |gamma| (trading is expensive and the target moves fast) and
 * shrinks with risk aversion (tracking error hurts more). Gamma = 0 gives H = 0: a linear
 * position's target delta does not move, so any drift is worth correcting.
 */
export function whalleyWilmottHalfWidth(input: WhalleyWilmottInput): number {
  const { costProportional: cost, priceUsd: s, gammaBasePerUsd: g, riskAversionPerUsd: ra } = input;
  if (!(cost >= 0 && s > 0 && ra > 0 && Number.isFinite(g))) {
    throw new RangeError('whalleyWilmottHalfWidth: need cost >= 0, price > 0, risk aversion > 0, finite gamma');
  }
  const discount = Math.exp(-(input.rateAnnual ?? 0) * (input.timeToHorizonYears ?? 0));
  return Math.cbrt((1.5 * discount * cost * s * g * g) / ra);
}

/** A base-asset quantity (ETH, a statistic) -> wei, rounded down. */
export function baseToWei(amountBase: number, decimals = 18): bigint {
  if (!Number.isFinite(amountBase)) throw new RangeError(`baseToWei: not finite: ${amountBase}`);
  return floorScaled(amountBase, decimals);
}

export interface UniswapV3GammaInput {
  /** Position liquidity L, raw (as in the NFT). */
  liquidity: bigint;
  priceUsd: number;
  priceLowerUsd: number;
  priceUpperUsd: number;
  baseDecimals?: number;
  quoteDecimals?: number;
}

/**
 * Gamma of a Uniswap V3 LP in base units per USD. In range, the base held is
 * L * (1/sqrt(p) - 1/sqrt(p_upper)) in raw units with p = raw quote per raw base, so
 * d(base)/dp = -L / (2 p^1.5); this holds whichever token is token0, because p is always
 * the base asset's price. Converting raw units: p = P * 10^(qd - bd), base = raw / 10^bd,
 * so Gamma = -L * 10^(qd - 2 bd) / (2 p^1.5). Out of range the position is all one token: 0.
 */
export function uniswapV3GammaBasePerUsd(input: UniswapV3GammaInput): number {
  const bd = input.baseDecimals ?? 18;
  const qd = input.quoteDecimals ?? 6;
  if (input.priceUsd <= input.priceLowerUsd || input.priceUsd >= input.priceUpperUsd) return 0;
  const pRaw = new D(input.priceUsd).mul(new D(10).pow(qd - bd));
  return new D(input.liquidity.toString())
    .neg()
    .mul(new D(10).pow(qd - 2 * bd))
    .div(pRaw.pow(1.5).mul(2))
    .toNumber();
}

/** Time-based rebalancing: due when never done, or when a full period has passed. */
export function timeRebalanceDue(
  lastSec: bigint | number | undefined,
  nowSec: bigint | number,
  periodSec: bigint | number,
): boolean {
  if (lastSec === undefined) return true;
  return BigInt(nowSec) - BigInt(lastSec) >= BigInt(periodSec);
}
