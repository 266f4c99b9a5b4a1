import { describe, expect, it } from 'vitest';
import { feeGrowthInsideX128, feesOwed, Q128, subUint256, type FeeGrowthInsideInput } from '../../src/spot/uniswap-math.js';
import { parsePoolFeeGrowth, poolFeeCalls, positionFeesOwed, ticksNeeded, type RawPosition } from '../../src/chain/lp-fee-reads.js';

const M256 = 1n << 256n;
const M128 = 1n << 128n;
const q = (n: bigint) => n * Q128;
const tick = (o0: bigint, o1: bigint) => ({ feeGrowthOutside0X128: o0, feeGrowthOutside1X128: o1 });

/** Range [-100, 100); global growth 100 (token0) and 1000 (token1), per unit of liquidity. */
const base: FeeGrowthInsideInput = {
  tickLower: -100,
  tickUpper: 100,
  tickCurrent: 0,
  feeGrowthGlobal0X128: q(100n),
  feeGrowthGlobal1X128: q(1000n),
  lower: tick(q(10n), q(100n)),
  upper: tick(q(20n), q(200n)),
};

describe('subUint256 (Solidity 0.7 unchecked uint256 subtraction)', () => {
  it.each([
    [5n, 3n, 2n],
    [3n, 5n, M256 - 2n],
    [0n, 1n, M256 - 1n],
    [0n, M256 - 1n, 1n],
    [M256 - 1n, M256 - 1n, 0n],
  ])('%s - %s = %s', (a, b, r) => {
    expect(subUint256(a, b)).toBe(r);
  });
});

describe('feeGrowthInsideX128 (Tick.getFeeGrowthInside)', () => {
  it.each([
    // In range: global - lowerOutside - upperOutside.
    ['in range', 0, q(70n), q(700n)],
    // At the lower tick the range is active (tickCurrent >= tickLower).
    ['at the lower tick', -100, q(70n), q(700n)],
    // At the upper tick it is not (tickCurrent < tickUpper is false): upperOutside - lowerOutside.
    ['at the upper tick', 100, q(10n), q(100n)],
    // Below: global - (global - lowerOutside) - upperOutside = lowerOutside - upperOutside, wraps.
    ['below the range', -101, subUint256(q(10n), q(20n)), subUint256(q(100n), q(200n))],
    ['above the range', 150, q(10n), q(100n)],
  ])('%s (tick %s)', (_name, tickCurrent, inside0, inside1) => {
    expect(feeGrowthInsideX128({ ...base, tickCurrent })).toEqual({ feeGrowthInside0X128: inside0, feeGrowthInside1X128: inside1 });
  });

  it('wraps when the outside values exceed the global one (ticks initialized above the price)', () => {
    // lowerOutside > global: global - lowerOutside - upperOutside underflows.
    const wrapped = feeGrowthInsideX128({ ...base, lower: tick(q(150n), q(0n)), upper: tick(q(20n), q(0n)) });
    expect(wrapped.feeGrowthInside0X128).toBe(M256 - q(70n));
    expect(wrapped.feeGrowthInside1X128).toBe(q(1000n));
  });
});

const position = {
  liquidity: 1_000n,
  feeGrowthInside0LastX128: 0n,
  feeGrowthInside1LastX128: 0n,
  tokensOwed0: 0n,
  tokensOwed1: 0n,
  feeGrowthInside0X128: q(70n),
  feeGrowthInside1X128: q(700n),
};

describe('feesOwed (what collect pays: Position.update + NonfungiblePositionManager.collect)', () => {
  it.each([
    ['growth times liquidity', position, 70_000n, 700_000n],
    ['plus tokensOwed', { ...position, tokensOwed0: 5n, tokensOwed1: 7n }, 70_005n, 700_007n],
    ['only the growth since the checkpoint', { ...position, feeGrowthInside0LastX128: q(69n), feeGrowthInside1LastX128: q(700n) }, 1_000n, 0n],
    // 3 * 0.5 = 1.5 -> 1: mulDiv floors.
    ['floored', { ...position, liquidity: 3n, feeGrowthInside0X128: Q128 / 2n, feeGrowthInside1X128: Q128 / 3n }, 1n, 0n],
    ['zero liquidity: tokensOwed only', { ...position, liquidity: 0n, tokensOwed0: 9n, tokensOwed1: 4n }, 9n, 4n],
    // The checkpoint was taken before the counter wrapped: now - last is still the small growth.
    ['checkpoint before a wrap', { ...position, feeGrowthInside0LastX128: M256 - q(10n), feeGrowthInside0X128: q(5n) }, 15_000n, 700_000n],
    // The position manager adds in uint128 (Solidity 0.7, unchecked): the sum wraps.
    ['tokensOwed overflow wraps like the contract', { ...position, tokensOwed0: M128 - 1n }, 70_000n - 1n, 700_000n],
  ])('%s', (_name, input, amount0, amount1) => {
    expect(feesOwed(input)).toEqual({ amount0, amount1 });
  });

  it('truncates the earned amount to uint128 as the cast does', () => {
    // liquidity 2^127 and growth 2^130 per unit: 2^129 earned, truncated to 0 mod 2^128.
    const r = feesOwed({ ...position, liquidity: 1n << 127n, feeGrowthInside0X128: 1n << 130n, feeGrowthInside1X128: 0n });
    expect(r.amount0).toBe((1n << 129n) % M128);
  });
});

const A = '0x00000000000000000000000000000000000000aa';
const B = '0x00000000000000000000000000000000000000bb';
const raw = (tickLower: number, tickUpper: number, liquidity: bigint, last0 = 0n, last1 = 0n, owed0 = 0n, owed1 = 0n): RawPosition =>
  [0n, A, A, B, 500, tickLower, tickUpper, liquidity, last0, last1, owed0, owed1] as const;

describe('LP fee reads for the snapshot multicall', () => {
  it('reads fee, both global growths, then one ticks() per distinct tick of positions with liquidity', () => {
    const ticks = ticksNeeded([raw(-100, 100, 5n), raw(-100, 200, 1n), raw(-300, 300, 0n)]);
    expect(ticks).toEqual([-100, 100, 200]);
    const calls = poolFeeCalls(A, ticks);
    expect(calls.map((c) => c.functionName)).toEqual(['fee', 'feeGrowthGlobal0X128', 'feeGrowthGlobal1X128', 'ticks', 'ticks', 'ticks']);
    expect(calls.slice(3).map((c) => c.args)).toEqual([[-100], [100], [200]]);
  });

  it('prices a position from the parsed results, and refuses one whose ticks were not read', () => {
    const tickRow = (o0: bigint, o1: bigint) => [1n, 1n, o0, o1, 0n, 0n, 0, true];
    const growth = parsePoolFeeGrowth([500, q(100n), q(1000n), tickRow(q(10n), q(100n)), tickRow(q(20n), q(200n))], [-100, 100]);
    expect(growth.fee).toBe(500);
    expect(positionFeesOwed(raw(-100, 100, 1_000n, q(60n), 0n, 3n, 0n), growth, 0)).toEqual({ amount0: 10_003n, amount1: 700_000n });
    expect(positionFeesOwed(raw(-300, 300, 0n, 0n, 0n, 3n, 4n), growth, 0)).toEqual({ amount0: 3n, amount1: 4n });
    expect(() => positionFeesOwed(raw(-100, 200, 1n), growth, 0)).toThrow(/ticks -100\/200 of the position were not read/);
  });
});
