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

/** Powers of ten by exponent: `new Dec(10).pow(n)` costs more than the division it serves. */
const POW10 = new Map<number, Decimal>();

function scaled(value: bigint, decimals: number): Decimal {
  let p = POW10.get(decimals);
  if (p === undefined) POW10.set(decimals, (p = new Dec(10).pow(decimals)));
  return new Dec(value.toString()).div(p);
}

/**
 * value / 10^decimals with dp decimals, rounded half to even, '-' kept on a negative value that
 * rounds to zero: exactly Dec's toFixed(dp), in bigint (reasons are built on every planned tick).
 */
export function fixedToString(value: bigint, decimals: number, dp: number): string {
  const neg = value < 0n;
  let abs = neg ? -value : value;
  if (dp < decimals) {
    const div = 10n ** BigInt(decimals - dp);
    const rem = abs % div;
    abs /= div;
    if (2n * rem > div || (2n * rem === div && (abs & 1n) === 1n)) abs++;
  } else abs *= 10n ** BigInt(dp - decimals);
  const digits = abs.toString().padStart(dp + 1, '0');
  const out = dp > 0 ? `${digits.slice(0, -dp)}.${digits.slice(-dp)}` : digits;
  return neg ? `-${out}` : out;
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

/**
 * A finite float as decimal.js reads it (its shortest decimal form, String(x)): x = digits * 10^exp.
 * Lets the band arithmetic stay exact without a Decimal per tick.
 */
export function decimalParts(x: number): { digits: bigint; exp: number } {
  if (!Number.isFinite(x)) throw new RangeError(`decimalParts: not finite: ${x}`);
  const [mantissa, e] = String(x).split('e') as [string, string | undefined];
  const dot = mantissa.indexOf('.');
  const frac = dot < 0 ? 0 : mantissa.length - dot - 1;
  return { digits: BigInt(dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1)), exp: Number(e ?? 0) - frac };
}

/** Floor division toward negative infinity. */
function floorDivBig(n: bigint, d: bigint): bigint {
  const q = n / d;
  return (n % d !== 0n) && ((n < 0n) !== (d < 0n)) ? q - 1n : q;
}

/** floor(x * 10^decimals), x read as decimal.js reads a number: exactly what Decimal(x).mul(10^decimals).floor() gives. */
export function floorScaled(x: number, decimals: number): bigint {
  const { digits, exp } = decimalParts(x);
  const k = exp + decimals;
  return k >= 0 ? digits * 10n ** BigInt(k) : floorDivBig(digits, 10n ** BigInt(-k));
}

/** floor(value * num / den) exactly, num and den read as decimal.js reads numbers (den != 0). */
export function floorMulRatio(value: bigint, num: number, den: number): bigint {
  const a = decimalParts(num);
  const b = decimalParts(den);
  if (b.digits === 0n) throw new RangeError('floorMulRatio: division by zero');
  const k = a.exp - b.exp;
  return k >= 0 ? floorDivBig(value * a.digits * 10n ** BigInt(k), b.digits) : floorDivBig(value * a.digits, b.digits * 10n ** BigInt(-k));
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
  return `${fixedToString(wei, 18, dp)} ETH`;
}

export function fmtUsdc(units: bigint, dp = 2): string {
  return `${fixedToString(units, 6, dp)} USDC`;
}

export function fmtPriceE8(priceE8: bigint, dp = 2): string {
  return `$${e8ToDecimal(priceE8).toFixed(dp)}`;
}

/** Ratio in E18 rendered with `dp` decimals; maxUint256 renders as `inf`. */
export function fmtRatioE18(ratioE18: bigint, dp = 4): string {
  if (ratioE18 >= MAX_UINT256) return 'inf';
  return fixedToString(ratioE18, 18, dp);
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
