import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/risk/random.js';
import { rangeTicks } from '../../src/backtest/lp-model.js';
import { isqrt, sqrtPriceX96FromPriceE8, sqrtRatioAtTick, tickAtSqrtRatio } from '../../src/backtest/tick-math.js';
import * as sdk from '../../src/spot/uniswap-math.js';

/** The backtest's bigint TickMath against @uniswap/v3-sdk (through src/spot/uniswap-math.ts). */
describe('backtest tick math = the SDK', () => {
  const rng = createRng(17);
  const ticks = [-887271, -500000, -200000, -1, 0, 1, 2, 3, 193_000, 200_000, 500_000, 887271, ...Array.from({ length: 300 }, () => Math.round((rng.uniform() * 2 - 1) * 887_000))];

  it('sqrt ratio at a tick, to the unit', () => {
    for (const t of ticks) expect(sqrtRatioAtTick(t)).toBe(sdk.sqrtPriceX96AtTick(t));
  });

  it('the tick at a sqrt price, on and around tick boundaries', () => {
    for (const t of ticks) {
      const at = sdk.sqrtPriceX96AtTick(t);
      for (const s of [at, at + 1n, at - 1n, at + 12345n]) expect(tickAtSqrtRatio(s)).toBe(sdk.tickAtSqrtPriceX96(s));
    }
  });

  it('price -> sqrt price for both token orders, and the floor square root', () => {
    for (let k = 0; k < 300; k++) {
      const priceE8 = BigInt(Math.round(10 ** (2 + rng.uniform() * 12)));
      for (const b of [true, false]) expect(sqrtPriceX96FromPriceE8(priceE8, b)).toBe(sdk.sqrtPriceX96FromPriceE8(priceE8, b));
      const v = priceE8 ** 5n + BigInt(k);
      const r = isqrt(v);
      expect(r * r <= v && (r + 1n) * (r + 1n) > v).toBe(true);
    }
    expect([0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n].map(isqrt)).toEqual([0n, 1n, 1n, 1n, 2n, 3n, 4n, 4n]);
  });

  it('a symmetric --range gives the ticks of ticksAroundPrice', () => {
    for (const [price, width, spacing] of [[2000, 20, 10], [1234.56, 33.3333, 60], [30_000, 50, 1]] as const) {
      const priceE8 = BigInt(Math.round(price * 1e8));
      for (const b of [true, false]) {
        expect(rangeTicks({ priceE8, low: 1 - width / 100, high: 1 + width / 100, tickSpacing: spacing, baseIsToken0: b })).toEqual(sdk.ticksAroundPrice(priceE8, width, spacing, b));
      }
    }
  });
});
