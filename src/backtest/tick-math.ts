/**
 * Uniswap V3 TickMath and the price -> sqrt price conversion for the backtest, in plain bigint.
 * The keeper's src/spot/uniswap-math.ts answers the same questions through @uniswap/v3-sdk
 * (JSBI); loading that SDK costs a worker thread ~0.3 s and every call a JSBI round trip, and a
 * backtest asks ~100,000 times. test/unit/backtest-tick-math.test.ts checks both agree exactly.
 */

const Q32 = 1n << 32n;
const MAX_UINT256 = (1n << 256n) - 1n;
export const MIN_TICK = -887272;
export const MAX_TICK = 887272;
export const Q96 = 1n << 96n;
const Q192 = 1n << 192n;

/** TickMath.getSqrtRatioAtTick's magic numbers: 2^128 / sqrt(1.0001)^(2^i), i = 0..19. */
const FACTORS = [
  0xfff97272373d413259a46990580e213an, 0xfff2e50f5f656932ef12357cf3c7fdccn, 0xffe5caca7e10e4e61c3624eaa0941cd0n,
  0xffcb9843d60f6159c9db58835c926644n, 0xff973b41fa98c081472e6896dfb254c0n, 0xff2ea16466c96a3843ec78b326b52861n,
  0xfe5dee046a99a2a811c461f1969c3053n, 0xfcbe86c7900a88aedcffc83b479aa3a4n, 0xf987a7253ac413176f2b074cf7815e54n,
  0xf3392b0822b70005940c7a398e4b70f3n, 0xe7159475a2c29b7443b29c7fa6e889d9n, 0xd097f3bdfd2022b8845ad8f792aa5825n,
  0xa9f746462d870fdf8a65dc1f90e061e5n, 0x70d869a156d2a1b890bb3df62baf32f7n, 0x31be135f97d08fd981231505542fcfa6n,
  0x9aa508b5b7a84e1c677de54f3e99bc9n, 0x5d6af8dedb81196699c329225ee604n, 0x2216e584f5fa1ea926041bedfe98n,
  0x48a170391f7dc42444e8fa2n,
];

/** sqrt(1.0001^tick) as Q64.96, rounded up like the contract (TickMath.getSqrtRatioAtTick). */
export function sqrtRatioAtTick(tick: number): bigint {
  if (!Number.isInteger(tick) || tick < MIN_TICK || tick > MAX_TICK) throw new RangeError(`tick ${tick} outside [${MIN_TICK}, ${MAX_TICK}]`);
  const absTick = Math.abs(tick);
  let ratio = (absTick & 1) !== 0 ? 0xfffcb933bd6fad37aa2d162d1a594001n : 1n << 128n;
  for (let i = 1; i < 20; i++) {
    if ((absTick & (1 << i)) !== 0) ratio = (ratio * FACTORS[i - 1]!) >> 128n;
  }
  if (tick > 0) ratio = MAX_UINT256 / ratio;
  return (ratio >> 32n) + (ratio % Q32 === 0n ? 0n : 1n);
}

/** The largest tick whose sqrt ratio is <= sqrtPriceX96 (TickMath.getTickAtSqrtRatio), by bisection. */
export function tickAtSqrtRatio(sqrtPriceX96: bigint): number {
  let lo = MIN_TICK;
  let hi = MAX_TICK;
  // A float first guess narrows the bisection to a few ticks.
  const guess = Math.floor(2 * Math.log(Number(sqrtPriceX96) / 2 ** 96) / Math.log(1.0001));
  if (Number.isFinite(guess)) {
    const a = Math.max(MIN_TICK, guess - 2);
    const b = Math.min(MAX_TICK, guess + 2);
    if (sqrtRatioAtTick(a) <= sqrtPriceX96) lo = a;
    if (sqrtRatioAtTick(b) > sqrtPriceX96) hi = b;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sqrtRatioAtTick(mid) <= sqrtPriceX96) lo = mid;
    else hi = mid;
  }
  return sqrtRatioAtTick(hi) <= sqrtPriceX96 ? hi : lo;
}

/** Floor integer square root, from a float guess corrected to the exact floor. */
export function isqrt(value: bigint): bigint {
  if (value < 0n) throw new RangeError('isqrt of a negative number');
  if (value < 2n) return value;
  let x = BigInt(Math.floor(Math.sqrt(Number(value))));
  // The guess is within ~2^-52 relative: Newton steps from above, then a final nudge.
  if (x * x > value || (x + 1n) * (x + 1n) <= value) {
    x = (x + value / x) >> 1n;
    for (;;) {
      const y = (x + value / x) >> 1n;
      if (y >= x) break;
      x = y;
    }
    while (x * x > value) x--;
    while ((x + 1n) * (x + 1n) <= value) x++;
  }
  return x;
}

/** 10^(8 + 18 - 6): the raw ratio of an 18-decimal base and 6-decimal quote, with priceE8. */
const PRICE_SCALE = 10n ** 20n;

/** sqrt(token1/token0) in raw units, Q64.96, floored (as uniswap-math's sqrtPriceX96FromPriceE8, 18/6 decimals). */
export function sqrtPriceX96FromPriceE8(priceE8: bigint, baseIsToken0: boolean): bigint {
  if (priceE8 <= 0n) throw new RangeError('priceE8 must be positive');
  return baseIsToken0 ? isqrt((priceE8 * Q192) / PRICE_SCALE) : isqrt((PRICE_SCALE * Q192) / priceE8);
}
