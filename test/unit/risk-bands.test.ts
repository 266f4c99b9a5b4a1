import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { baseToWei, timeRebalanceDue, uniswapV3GammaBasePerUsd, volScaledBandWei, whalleyWilmottHalfWidth } from '../../src/core/risk/index.js';

const ETH = 10n ** 18n;

describe('volScaledBandWei', () => {
  const base = { baseBandWei: ETH, refVolAnnual: 0.6, min: ETH / 4n, max: 3n * ETH };
  it.each([
    { volAnnual: 0.6, expected: ETH }, // at the reference vol: the base band
    { volAnnual: 0.8, expected: 1_333_333_333_333_333_333n }, // 1e18 * 0.8 / 0.6, floored
    { volAnnual: 1.2, expected: 2n * ETH },
    { volAnnual: 0.06, expected: ETH / 4n }, // 0.1 ETH clamped up to min
    { volAnnual: 6, expected: 3n * ETH }, // 10 ETH clamped down to max
    { volAnnual: 0, expected: ETH / 4n },
  ])('vol $volAnnual -> $expected wei', ({ volAnnual, expected }) => {
    expect(volScaledBandWei({ ...base, volAnnual })).toBe(expected);
  });

  it('rejects a zero reference vol, a NaN vol and min > max', () => {
    expect(() => volScaledBandWei({ ...base, volAnnual: 0.5, refVolAnnual: 0 })).toThrow(RangeError);
    expect(() => volScaledBandWei({ ...base, volAnnual: NaN })).toThrow(RangeError);
    expect(() => volScaledBandWei({ ...base, volAnnual: 0.5, min: 2n, max: 1n })).toThrow(RangeError);
  });
});

describe('whalleyWilmottHalfWidth', () => {
  const base = { costProportional: 0.001, priceUsd: 2000, gammaBasePerUsd: -0.01, riskAversionPerUsd: 1e-3 };

  it('hand-checked: (1.5 * 0.001 * 2000 * 0.01^2 / 0.001)^(1/3) = 0.3^(1/3) ETH', () => {
    expect(whalleyWilmottHalfWidth(base)).toBeCloseTo(Math.cbrt(0.3), 14);
    // discounting: exp(-r (T - t)) inside the cube root
    expect(whalleyWilmottHalfWidth({ ...base, rateAnnual: 0.05, timeToHorizonYears: 2 })).toBeCloseTo(Math.cbrt(0.3 * Math.exp(-0.1)), 14);
  });

  const scales = [0.5, 1, 2, 4];
  it.each([
    ['cost', (k: number) => ({ ...base, costProportional: base.costProportional * k }), 1],
    ['|gamma|', (k: number) => ({ ...base, gammaBasePerUsd: base.gammaBasePerUsd * k }), 1],
    ['price', (k: number) => ({ ...base, priceUsd: base.priceUsd * k }), 1],
    ['risk aversion', (k: number) => ({ ...base, riskAversionPerUsd: base.riskAversionPerUsd * k }), -1],
  ] as const)('monotone in %s', (_name, make, direction) => {
    const widths = scales.map((k) => whalleyWilmottHalfWidth(make(k)));
    for (let i = 1; i < widths.length; i++) expect(Math.sign(widths[i]! - widths[i - 1]!)).toBe(direction);
  });

  it('scales as cost^(1/3), |gamma|^(2/3), risk aversion^(-1/3); zero gamma gives no band', () => {
    const h = whalleyWilmottHalfWidth(base);
    expect(whalleyWilmottHalfWidth({ ...base, costProportional: 0.008 }) / h).toBeCloseTo(2, 12);
    expect(whalleyWilmottHalfWidth({ ...base, gammaBasePerUsd: -0.08 }) / h).toBeCloseTo(4, 12);
    expect(whalleyWilmottHalfWidth({ ...base, riskAversionPerUsd: 8e-3 }) / h).toBeCloseTo(0.5, 12);
    expect(whalleyWilmottHalfWidth({ ...base, gammaBasePerUsd: 0 })).toBe(0);
    expect(() => whalleyWilmottHalfWidth({ ...base, riskAversionPerUsd: 0 })).toThrow(RangeError);
  });

  it('converts to wei', () => {
    expect(baseToWei(0.5)).toBe(ETH / 2n);
    expect(baseToWei(1.25, 6)).toBe(1_250_000n);
  });
});

describe('uniswapV3GammaBasePerUsd', () => {
  // 1 ETH + ~2000 USDC LP, range 1800..2200, raw prices p = P * 1e-12 (USDC 6 dp, WETH 18 dp).
  const liquidity = 961_000_000_000_000n;
  const range = { priceLowerUsd: 1800, priceUpperUsd: 2200 };
  /** ETH held in range: L (1/sqrt(p) - 1/sqrt(p_upper)) / 1e18, computed in decimal. */
  const ethHeld = (priceUsd: number): Decimal => {
    const sqrt = (P: number) => new Decimal(P).mul('1e-12').sqrt();
    return new Decimal(liquidity.toString()).mul(new Decimal(1).div(sqrt(priceUsd)).sub(new Decimal(1).div(sqrt(2200)))).div('1e18');
  };

  it.each([1850, 2000, 2150])('equals the finite difference of the ETH held at $%i', (P) => {
    const fd = ethHeld(P + 0.01).sub(ethHeld(P - 0.01)).div(0.02).toNumber();
    const gamma = uniswapV3GammaBasePerUsd({ liquidity, priceUsd: P, ...range });
    expect(gamma).toBeLessThan(0);
    expect(gamma / fd).toBeCloseTo(1, 8);
  });

  it('is about -1 ETH per 200 USD over this range, and 0 out of range', () => {
    expect(ethHeld(2000).toNumber()).toBeCloseTo(1, 2);
    expect(uniswapV3GammaBasePerUsd({ liquidity, priceUsd: 2000, ...range })).toBeCloseTo(-0.00537, 4);
    expect(uniswapV3GammaBasePerUsd({ liquidity, priceUsd: 2300, ...range })).toBe(0);
    expect(uniswapV3GammaBasePerUsd({ liquidity, priceUsd: 1700, ...range })).toBe(0);
  });
});

describe('timeRebalanceDue', () => {
  it.each([
    [undefined, 1000n, 3600n, true],
    [1000n, 4599n, 3600n, false],
    [1000n, 4600n, 3600n, true],
    [1000, 10_000, 3600, true],
    [1000, 1000, 3600, false],
  ] as const)('last %s now %s period %s -> %s', (last, now, period, due) => {
    expect(timeRebalanceDue(last, now, period)).toBe(due);
  });
});
