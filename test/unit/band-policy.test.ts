import { describe, expect, it } from 'vitest';
import type { BandParams, HedgePolicy, LpPosition } from '../../src/core/types.js';
import { type BandInputs, DEFAULT_BAND_PARAMS, NO_TRADE_BAND_WEI, bandWeiFor, lpGammaBasePerUsd, rebalanceDue } from '../../src/core/band-policy.js';
import { loadConfig } from '../../src/config.js';
import { uniswapV3GammaBasePerUsd } from '../../src/core/risk/bands.js';
import { lpGammaWeiPerUsd, sqrtPriceX96FromPriceE8, ticksAroundPrice } from '../../src/spot/uniswap-math.js';

const ETH = 10n ** 18n;
const E16 = 10n ** 16n;
const band: BandParams = { volRefAnnual: 1, minWei: ETH / 10n, maxWei: 4n * ETH, wwCostBps: 10, wwRiskAversionPerUsd: 0.0006, rebalancePeriodSec: 3600 };
const base: HedgePolicy = {
  hedgeRatioE18: ETH, deltaBandWei: ETH / 2n, deltaBandPctE18: 5n * E16, hysteresisE18: 50n * E16, cooldownSec: 60,
  minTradeWei: ETH / 100n, maxTradeWei: 50n * ETH, marginTriggerE18: 15n * E16, marginTargetE18: 25n * E16,
  hfTriggerE18: 130n * E16, hfTargetE18: 160n * E16, maxSlippageBps: 50, includeNativeEth: false, bandMode: 'fixed', band,
};
const inputs: BandInputs = { grossSpotWei: 30n * ETH, priceE8: 2000n * 10n ** 8n, volAnnual: 1.5, gammaBasePerUsd: -0.04 };

describe('bandWeiFor', () => {
  // [name, policy, inputs, band wei]; fixed band of 30 ETH gross = max(0.5, 5% * 30) = 1.5 ETH.
  const cases: [string, HedgePolicy, BandInputs, bigint][] = [
    ['fixed: max(abs, pct * gross)', base, inputs, 15n * ETH / 10n],
    ['fixed: the absolute floor on a small position', base, { ...inputs, grossSpotWei: 2n * ETH }, ETH / 2n],
    ['vol: 1.5 ETH * 150% / 100%', { ...base, bandMode: 'vol' }, inputs, 225n * ETH / 100n],
    ['vol: calm market narrows it, 1.5 * 40% / 100%', { ...base, bandMode: 'vol' }, { ...inputs, volAnnual: 0.4 }, 6n * ETH / 10n],
    ['vol: clamped to the max', { ...base, bandMode: 'vol' }, { ...inputs, volAnnual: 5 }, 4n * ETH],
    ['vol: no estimate yet falls back to the fixed band', { ...base, bandMode: 'vol' }, { ...inputs, volAnnual: null }, 15n * ETH / 10n],
    ['ww: gamma 0 (linear position) gives the min', { ...base, bandMode: 'ww' }, { ...inputs, gammaBasePerUsd: 0 }, ETH / 10n],
  ];
  it.each(cases)('%s', (_name, policy, inp, expected) => {
    expect(bandWeiFor(policy, inp).bandWei).toBe(expected);
  });

  it('ww: (1.5 * 0.001 * 2000 * 0.04^2 / 0.0006)^(1/3) = 8^(1/3) = 2 ETH', () => {
    const { bandWei, note } = bandWeiFor({ ...base, bandMode: 'ww' }, inputs);
    // baseToWei floors a float: within 1e-12 ETH of 2.
    expect(bandWei > 2n * ETH - 10n ** 6n && bandWei <= 2n * ETH + 10n ** 6n).toBe(true);
    expect(note).toMatch(/^ww band 2\.0000 ETH/);
  });

  it('ww: grows with cost (cube root), shrinks with risk aversion', () => {
    const ww = (p: Partial<BandParams>): number =>
      Number(bandWeiFor({ ...base, bandMode: 'ww', band: { ...band, maxWei: 100n * ETH, ...p } }, inputs).bandWei) / 1e18;
    expect(ww({ wwCostBps: 80 }) / ww({})).toBeCloseTo(2, 6); // 8x cost -> 2x band
    expect(ww({ wwRiskAversionPerUsd: 0.0006 * 27 }) / ww({})).toBeCloseTo(1 / 3, 6);
  });

  it('time: band 0 when due (trade to target), no-trade band otherwise', () => {
    const p: HedgePolicy = { ...base, bandMode: 'time' };
    expect(bandWeiFor(p, { ...inputs, nowSec: 7200, lastRebalanceSec: null })).toMatchObject({ bandWei: 0n, rebalanceDue: true });
    expect(bandWeiFor(p, { ...inputs, nowSec: 7200 + 1800, lastRebalanceSec: 7200 })).toMatchObject({ bandWei: NO_TRADE_BAND_WEI, rebalanceDue: false });
    expect(bandWeiFor(p, { ...inputs, nowSec: 10_800, lastRebalanceSec: 7200 })).toMatchObject({ bandWei: 0n, rebalanceDue: true });
    expect(() => bandWeiFor(p, inputs)).toThrow(/needs nowSec/);
  });

  it('policies without band parameters use the defaults, which are loadConfig defaults', () => {
    const { band: _omit, ...noBand } = base;
    expect(bandWeiFor({ ...noBand, bandMode: 'vol' }, inputs).bandWei).toBe(225n * ETH / 100n);
    expect(loadConfig({}).policy.band).toEqual(DEFAULT_BAND_PARAMS);
  });
});

describe('rebalanceDue: on the period grid', () => {
  it.each([
    [null, 100, 3600, true],
    [3600, 7199, 3600, false],
    [3600, 7200, 3600, true],
    // A tick at :59 then one at :01 crosses the hour: due after 2 minutes, not after 60.
    [3540, 3660, 3600, true],
    [3660, 7199, 3600, false],
  ] as [number | null, number, number, boolean][])('last %s now %s period %s -> %s', (last, now, period, due) => {
    expect(rebalanceDue(last, now, period)).toBe(due);
  });
  it('rejects a zero period', () => expect(() => rebalanceDue(0, 1, 0)).toThrow(RangeError));
});

describe('lpGammaBasePerUsd', () => {
  const priceE8 = 2000n * 10n ** 8n;
  const lp = (baseIsToken0: boolean, atE8 = priceE8): LpPosition => {
    const { tickLower, tickUpper } = ticksAroundPrice(priceE8, 20, 10, baseIsToken0);
    return {
      tokenId: 1n, liquidity: 10n ** 17n, tickLower, tickUpper, amountBaseWei: 0n, amountQuoteUnits: 0n,
      feesBaseWei: 0n, feesQuoteUnits: 0n, inRange: atE8 === priceE8, baseIsToken0,
    };
  };
  it.each([true, false])('equals the sqrt-price formula of uniswap-math (baseIsToken0 %s)', (baseIsToken0) => {
    const p = lp(baseIsToken0);
    const expected = lpGammaWeiPerUsd({
      liquidity: p.liquidity, tickLower: p.tickLower, tickUpper: p.tickUpper, baseIsToken0,
      sqrtPriceX96: sqrtPriceX96FromPriceE8(priceE8, baseIsToken0),
    }).toNumber() / 1e18;
    expect(expected).toBeLessThan(0);
    expect(lpGammaBasePerUsd([p, p], priceE8) / (2 * expected)).toBeCloseTo(1, 9);
  });
  it('equals uniswapV3GammaBasePerUsd (Decimal) with the range from the ticks', () => {
    const p = lp(false);
    // baseIsToken0 false: USD price = 1e12 / 1.0001^tick, so the upper tick is the lower price.
    const expected = uniswapV3GammaBasePerUsd({
      liquidity: p.liquidity, priceUsd: 2000, priceLowerUsd: 1e12 / 1.0001 ** p.tickUpper, priceUpperUsd: 1e12 / 1.0001 ** p.tickLower,
    });
    expect(lpGammaBasePerUsd([p], priceE8) / expected).toBeCloseTo(1, 12);
  });
  it('out of range positions have no gamma', () => {
    expect(lpGammaBasePerUsd([lp(false, 1n)], priceE8)).toBe(0);
    expect(lpGammaBasePerUsd([], priceE8)).toBe(0);
  });
});
