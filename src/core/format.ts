import { Decimal } from 'decimal.js';

/**
 * Decimal helpers for human-facing and statistical figures. Amounts stay bigint everywhere
 * else; these convert at the edge (logs, ratios, distances). A private Decimal constructor
 * with 40 significant digits keeps a 1e18 wei amount exact and leaves room for ratios, without
 * touching decimal.js's global configuration, which other modules may rely on.
 */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });

export const WEI_PER_ETH = 10n ** 18n;
export const E18 = 10n ** 18n;
export const E8 = 10n ** 8n;
export const USDC_UNIT = 10n ** 6n;
/** maxUint256: what the venues report for a ratio with no position/debt. */
export const MAX_UINT256 = (1n << 256n) - 1n;

function scaled(value: bigint, decimals: number): Decimal {
  return new Dec(value.toString()).div(new Dec(10).pow(decimals));
}

/** Base-asset wei (1e18) -> ETH. */
export function weiToDecimal(wei: bigint): Decimal {
  return scaled(wei, 18);
}

/** USDC base units (1e6) -> USDC. */
export function unitsToDecimal(units: bigint): Decimal {
  return scaled(units, 6);
}

/** 8-decimal fixed point (Chainlink price, Aave base currency) -> number. */
export function e8ToDecimal(e8: bigint): Decimal {
  return scaled(e8, 8);
}

/** 18-decimal fixed point ratio -> number; maxUint256 (the venues' "no position") -> Infinity. */
export function e18ToDecimal(e18: bigint): Decimal {
  if (e18 >= MAX_UINT256) return new Dec(Infinity);
  return scaled(e18, 18);
}

/** Decimal -> 18-decimal fixed point, truncated toward zero; Infinity -> maxUint256. */
export function decimalToE18(value: Decimal.Value): bigint {
  const d = new Dec(value);
  if (!d.isFinite()) {
    if (d.isNaN()) throw new RangeError('decimalToE18: NaN');
    return d.isPositive() ? MAX_UINT256 : -MAX_UINT256;
  }
  return BigInt(d.mul(new Dec(10).pow(18)).toFixed(0, Decimal.ROUND_DOWN));
}

/** USD value (8 decimals) of a signed base amount at an 8-decimal price: wei * priceE8 / 1e18. */
export function weiToUsdE8(wei: bigint, priceE8: bigint): bigint {
  return (wei * priceE8) / WEI_PER_ETH;
}

/** USDC units worth of a signed base amount at an 8-decimal USD price (USDC taken at $1). */
export function weiToUnits(wei: bigint, priceE8: bigint): bigint {
  return (wei * priceE8) / 10n ** 20n;
}

/** `1.2345 ETH` style rendering for reason strings (fixed decimals, sign kept). */
export function fmtEth(wei: bigint, dp = 4): string {
  return `${weiToDecimal(wei).toFixed(dp)} ETH`;
}

export function fmtUsdc(units: bigint, dp = 2): string {
  return `${unitsToDecimal(units).toFixed(dp)} USDC`;
}

export function fmtPriceE8(priceE8: bigint, dp = 2): string {
  return `$${e8ToDecimal(priceE8).toFixed(dp)}`;
}

/** Ratio in E18 rendered with `dp` decimals; maxUint256 renders as `inf`. */
export function fmtRatioE18(ratioE18: bigint, dp = 4): string {
  if (ratioE18 >= MAX_UINT256) return 'inf';
  return e18ToDecimal(ratioE18).toFixed(dp);
}

export function absBig(x: bigint): bigint {
  return x < 0n ? -x : x;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** Ceiling division for a non-negative numerator and a positive denominator. */
export function ceilDiv(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new RangeError('ceilDiv: denominator must be positive');
  if (num <= 0n) return num / den;
  return (num + den - 1n) / den;
}
