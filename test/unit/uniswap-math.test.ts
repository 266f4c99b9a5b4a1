import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import {
  MAX_TICK,
  MIN_TICK,
  Q96,
  fullRangeTicks,
  lpDeltaWei,
  lpGammaWeiPerUsd,
  positionAmounts,
  positionBaseQuote,
  priceE8FromSqrtPriceX96,
  sqrtBigint,
  sqrtPriceX96AtTick,
  sqrtPriceX96FromPriceE8,
  tickAtSqrtPriceX96,
  ticksAroundPrice,
} from '../../src/spot/uniswap-math.js';
import { toJsbi, toBigint, v3Sdk } from '../../src/spot/sdk.js';

const E18 = 10n ** 18n;
const PRICE_E8 = 312_345_678_901n;

/** Uniswap's SqrtPriceMath.getAmount0Delta / getAmount1Delta with roundUp = false, written out. */
function refAmount0(sa: bigint, sb: bigint, liquidity: bigint): bigint {
  const [lo, hi] = sa < sb ? [sa, sb] : [sb, sa];
  return ((liquidity << 96n) * (hi - lo)) / hi / lo;
}
function refAmount1(sa: bigint, sb: bigint, liquidity: bigint): bigint {
  const [lo, hi] = sa < sb ? [sa, sb] : [sb, sa];
  return (liquidity * (hi - lo)) / Q96;
}

describe('sqrtBigint', () => {
  it.each([
    [0n, 0n],
    [1n, 1n],
    [2n, 1n],
    [3n, 1n],
    [4n, 2n],
    [15n, 3n],
    [16n, 4n],
    [17n, 4n],
    [1n << 200n, 1n << 100n],
    [((1n << 128n) - 1n) ** 2n, (1n << 128n) - 1n],
    [((1n << 128n) - 1n) ** 2n - 1n, (1n << 128n) - 2n],
  ])('sqrt(%s) = %s', (value, root) => {
    expect(sqrtBigint(value)).toBe(root);
  });
  it('rejects negatives', () => expect(() => sqrtBigint(-1n)).toThrow(RangeError));
});

describe('priceE8 <-> sqrtPriceX96', () => {
  it.each([
    // $1: raw token1/token0 is 1e6/1e18 with WETH as token0 and 1e18/1e6 with WETH as token1.
    { priceE8: 100_000_000n, baseIsToken0: true, sqrt: Q96 / 1_000_000n },
    { priceE8: 100_000_000n, baseIsToken0: false, sqrt: Q96 * 1_000_000n },
    // $10000: 1e-8 raw ratio, sqrt = 1e-4 * 2^96 (token1 base: 1e4 * 2^96... inverted: 1e8 -> sqrt 1e4)
    { priceE8: 10_000n * 100_000_000n, baseIsToken0: true, sqrt: Q96 / 10_000n },
    { priceE8: 10_000n * 100_000_000n, baseIsToken0: false, sqrt: Q96 * 10_000n },
  ])('$priceE8 base token0=$baseIsToken0 -> known sqrt price and back exactly', ({ priceE8, baseIsToken0, sqrt }) => {
    expect(sqrtPriceX96FromPriceE8(priceE8, baseIsToken0)).toBe(sqrt);
    expect(priceE8FromSqrtPriceX96(sqrt, baseIsToken0)).toBe(priceE8);
  });

  it.each([
    [true, 1n],
    [false, 1n],
    [true, PRICE_E8],
    [false, PRICE_E8],
    [true, 12_345_678_900_000n],
    [false, 12_345_678_900_000n],
  ])('base token0=%s price %s matches the SDK encodeSqrtRatioX96 and round-trips exactly', (baseIsToken0, priceE8) => {
    // token1/token0 raw amounts for 1 WETH: 1e18 wei against price * 1e6 / 1e8 USDC units (scaled by 1e8 for exactness).
    const wethSide = E18 * 100_000_000n;
    const usdcSide = priceE8 * 1_000_000n;
    const [amount1, amount0] = baseIsToken0 ? [usdcSide, wethSide] : [wethSide, usdcSide];
    const fromSdk = toBigint(v3Sdk().encodeSqrtRatioX96(amount1.toString(), amount0.toString()));
    const sqrt = sqrtPriceX96FromPriceE8(priceE8, baseIsToken0);
    expect(sqrt).toBe(fromSdk);
    const back = priceE8FromSqrtPriceX96(sqrt, baseIsToken0);
    expect(back).toBe(priceE8);
  });

  it('honours other decimals (an 8-decimal base against an 18-decimal quote)', () => {
    const sqrt = sqrtPriceX96FromPriceE8(PRICE_E8, true, 8, 18);
    // raw ratio = price * 1e18 / 1e8 = 3123.45... * 1e10
    const ratio = new Decimal(sqrt.toString()).div(Q96.toString()).pow(2);
    expect(ratio.div('31234567890100').sub(1).abs().lt('1e-15')).toBe(true);
    expect(priceE8FromSqrtPriceX96(sqrt, true, 8, 18)).toBe(PRICE_E8);
  });

  it('rejects non-positive input and prices outside the pool range', () => {
    expect(() => sqrtPriceX96FromPriceE8(0n, true)).toThrow(RangeError);
    expect(() => priceE8FromSqrtPriceX96(0n, true)).toThrow(RangeError);
    expect(() => sqrtPriceX96FromPriceE8(10n ** 60n, true)).toThrow(/outside/);
  });

  it('tick helpers agree with the price direction', () => {
    const sqrt = sqrtPriceX96FromPriceE8(PRICE_E8, true);
    const tick = tickAtSqrtPriceX96(sqrt);
    expect(sqrtPriceX96AtTick(tick) <= sqrt && sqrt < sqrtPriceX96AtTick(tick + 1)).toBe(true);
    // WETH as token0: raw price 3123.45e-12 -> floor(ln(3.12345678901e-9) / ln(1.0001)) = -195854
    expect(tick).toBe(-195854);
    expect(tickAtSqrtPriceX96(sqrtPriceX96FromPriceE8(PRICE_E8, false))).toBe(195853);
  });
});

describe('positionAmounts / positionBaseQuote', () => {
  const L = 123_456_789_012_345_678n;
  const tickLower = -196_000;
  const tickUpper = -193_000;
  const sa = sqrtPriceX96AtTick(tickLower);
  const sb = sqrtPriceX96AtTick(tickUpper);
  const sp = sqrtPriceX96FromPriceE8(PRICE_E8, true); // tick -194715, in range

  it.each([
    { name: 'in range', sqrt: sp, tick: undefined, a0: refAmount0(sp, sb, L), a1: refAmount1(sa, sp, L), inRange: true },
    { name: 'below range (all token0)', sqrt: sa - 1n, tick: tickLower - 1, a0: refAmount0(sa, sb, L), a1: 0n, inRange: false },
    { name: 'above range (all token1)', sqrt: sb + 1n, tick: tickUpper, a0: 0n, a1: refAmount1(sa, sb, L), inRange: false },
    { name: 'exactly at tickLower (in range)', sqrt: sa, tick: tickLower, a0: refAmount0(sa, sb, L), a1: 0n, inRange: true },
    { name: 'exactly at tickUpper (out of range)', sqrt: sb, tick: tickUpper, a0: 0n, a1: refAmount1(sa, sb, L), inRange: false },
  ])('$name', ({ sqrt, tick, a0, a1, inRange }) => {
    const input = { liquidity: L, tickLower, tickUpper, sqrtPriceX96: sqrt, ...(tick === undefined ? {} : { tick }) };
    expect(positionAmounts(input)).toEqual({ amount0: a0, amount1: a1 });
    expect(positionBaseQuote({ ...input, baseIsToken0: true })).toEqual({ amountBaseWei: a0, amountQuoteUnits: a1, inRange });
    const flipped = positionBaseQuote({ ...input, baseIsToken0: false });
    expect(flipped).toEqual({ amountBaseWei: a1, amountQuoteUnits: a0, inRange });
    expect(lpDeltaWei(flipped)).toBe(a1);
  });

  it('zero liquidity is worth nothing', () => {
    expect(positionAmounts({ liquidity: 0n, tickLower, tickUpper, sqrtPriceX96: sp })).toEqual({ amount0: 0n, amount1: 0n });
  });

  it('rejects ticks off the fee tier spacing and tokens out of order', () => {
    expect(() => positionAmounts({ liquidity: L, tickLower: tickLower + 5, tickUpper, sqrtPriceX96: sp })).toThrow();
    const tokens = { token0: '0x0000000000000000000000000000000000000002', token1: '0x0000000000000000000000000000000000000001' };
    expect(() => positionAmounts({ liquidity: L, tickLower, tickUpper, sqrtPriceX96: sp, ...tokens })).toThrow(/sort/);
  });

  it('the same USD range holds the same amounts whichever token is WETH', () => {
    const range0 = ticksAroundPrice(PRICE_E8, 10, 10, true);
    const range1 = ticksAroundPrice(PRICE_E8, 10, 10, false);
    const a = positionBaseQuote({ liquidity: L, ...range0, sqrtPriceX96: sqrtPriceX96FromPriceE8(PRICE_E8, true), baseIsToken0: true });
    const b = positionBaseQuote({ liquidity: L, ...range1, sqrtPriceX96: sqrtPriceX96FromPriceE8(PRICE_E8, false), baseIsToken0: false });
    // Mirrored ticks differ by at most one spacing at each end, so allow 1% on the amounts.
    const close = (x: bigint, y: bigint) => new Decimal((x - y).toString()).abs().div(y.toString()).lt(0.01);
    expect(close(a.amountBaseWei, b.amountBaseWei) && close(a.amountQuoteUnits, b.amountQuoteUnits)).toBe(true);
  });
});

describe('lpGammaWeiPerUsd', () => {
  const L = 10n ** 18n;
  it.each([true, false])('equals the finite difference of the base amount (WETH token0=%s)', (baseIsToken0) => {
    const range = ticksAroundPrice(PRICE_E8, 10, 10, baseIsToken0);
    const base = (priceE8: bigint) =>
      positionBaseQuote({ liquidity: L, ...range, sqrtPriceX96: sqrtPriceX96FromPriceE8(priceE8, baseIsToken0), baseIsToken0 }).amountBaseWei;
    const stepE8 = 1_000_000n; // $0.01
    const finiteDiff = new Decimal((base(PRICE_E8 + stepE8) - base(PRICE_E8 - stepE8)).toString()).div(0.02);
    const gamma = lpGammaWeiPerUsd({ liquidity: L, ...range, sqrtPriceX96: sqrtPriceX96FromPriceE8(PRICE_E8, baseIsToken0), baseIsToken0 });
    expect(gamma.isNegative()).toBe(true);
    expect(gamma.div(finiteDiff).sub(1).abs().lt('1e-6')).toBe(true);
  });

  it.each([
    { name: 'below range', priceE8: (PRICE_E8 * 80n) / 100n, liquidity: L },
    { name: 'above range', priceE8: (PRICE_E8 * 120n) / 100n, liquidity: L },
    { name: 'zero liquidity', priceE8: PRICE_E8, liquidity: 0n },
  ])('is 0 $name', ({ priceE8, liquidity }) => {
    for (const baseIsToken0 of [true, false]) {
      const range = ticksAroundPrice(PRICE_E8, 10, 10, baseIsToken0);
      const sqrtPriceX96 = sqrtPriceX96FromPriceE8(priceE8, baseIsToken0);
      expect(lpGammaWeiPerUsd({ liquidity, ...range, sqrtPriceX96, baseIsToken0 }).isZero()).toBe(true);
    }
  });
});

describe('ticksAroundPrice / fullRangeTicks', () => {
  it.each([
    [10, { tickLower: -887270, tickUpper: 887270 }],
    [60, { tickLower: -887220, tickUpper: 887220 }],
    [1, { tickLower: MIN_TICK, tickUpper: MAX_TICK }],
  ])('full range for spacing %s', (spacing, range) => {
    expect(fullRangeTicks(spacing)).toEqual(range);
  });

  it.each([
    [true, 10, 10],
    [false, 10, 10],
    [true, 2, 60],
    [false, 50, 200],
  ])('base token0=%s, ±%s percent, spacing %s: covers the band and is aligned', (baseIsToken0, widthPct, spacing) => {
    const r = ticksAroundPrice(PRICE_E8, widthPct, spacing, baseIsToken0);
    expect(Math.abs(r.tickLower % spacing)).toBe(0);
    expect(Math.abs(r.tickUpper % spacing)).toBe(0);
    const prices = [r.tickLower, r.tickUpper].map((t) => priceE8FromSqrtPriceX96(sqrtPriceX96AtTick(t), baseIsToken0));
    const [lowUsd, highUsd] = [prices[0]!, prices[1]!].sort((a, b) => (a < b ? -1 : 1));
    const w = BigInt(widthPct);
    expect(lowUsd! <= (PRICE_E8 * (100n - w)) / 100n).toBe(true);
    expect(highUsd! >= (PRICE_E8 * (100n + w)) / 100n).toBe(true);
    // Not wider than one spacing beyond the band on either side (1.0001^spacing).
    const slack = new Decimal('1.0001').pow(spacing);
    const d = (x: bigint) => new Decimal(x.toString());
    expect(d(lowUsd!).mul(slack).gte(d((PRICE_E8 * (100n - w)) / 100n))).toBe(true);
    expect(d(highUsd!).lte(d((PRICE_E8 * (100n + w)) / 100n).mul(slack))).toBe(true);
  });

  it('rejects a width outside (0, 100) and a bad spacing', () => {
    expect(() => ticksAroundPrice(PRICE_E8, 0, 10, true)).toThrow(RangeError);
    expect(() => ticksAroundPrice(PRICE_E8, 100, 10, true)).toThrow(RangeError);
    expect(() => ticksAroundPrice(PRICE_E8, 10, 0, true)).toThrow(RangeError);
  });
});

describe('sdk boundary', () => {
  it('round-trips bigint through the SDK JSBI exactly', () => {
    const big = (1n << 200n) + 12345n;
    expect(toBigint(toJsbi(big))).toBe(big);
  });
});
