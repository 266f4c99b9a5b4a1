import { describe, expect, it } from 'vitest';
import { annualiseVol, ewmaHalfLifePeriods, ewmaVolatility, lambdaForInterval } from '../../src/core/risk/index.js';

describe('ewmaVolatility', () => {
  it('follows the RiskMetrics recursion on a hand-checked series', () => {
    // lambda 0.9, seed 1e-4, returns 0.01, -0.02, 0.03:
    //   v0 = 0.9 * 1e-4   + 0.1 * 0.0001 = 1.0e-4
    //   v1 = 0.9 * 1e-4   + 0.1 * 0.0004 = 1.3e-4
    //   v2 = 0.9 * 1.3e-4 + 0.1 * 0.0009 = 1.17e-4 + 0.9e-4 = 2.07e-4
    const res = ewmaVolatility([0.01, -0.02, 0.03], { lambda: 0.9, seedVariance: 1e-4 });
    expect(res.variances.map((v) => v * 1e4)).toEqual([expect.closeTo(1, 12), expect.closeTo(1.3, 12), expect.closeTo(2.07, 12)]);
    // The ex-ante forecast of return i is the variance after return i - 1.
    expect(res.forecasts.map((v) => v * 1e4)).toEqual([expect.closeTo(1, 12), expect.closeTo(1, 12), expect.closeTo(1.3, 12)]);
    expect(res.lastVariance).toBeCloseTo(2.07e-4, 16);
    expect(res.lastVol).toBeCloseTo(Math.sqrt(2.07e-4), 15);
    expect(res.volAnnual).toBeUndefined();
  });

  it('seeds with the mean square of the first returns and annualises with 24/7 periods', () => {
    // seedCount 2: seed = (0.01^2 + 0.02^2) / 2 = 2.5e-4; lambda 0.94:
    //   v0 = 0.94 * 2.5e-4 + 0.06 * 1e-4 = 2.41e-4;  v1 = 0.94 * 2.41e-4 + 0.06 * 4e-4 = 2.5054e-4
    const res = ewmaVolatility([0.01, 0.02], { seedCount: 2, intervalSec: 86_400 });
    expect(res.seedVariance).toBeCloseTo(2.5e-4, 16);
    expect(res.lastVariance).toBeCloseTo(2.5054e-4, 16);
    expect(res.volAnnual).toBeCloseTo(Math.sqrt(2.5054e-4) * Math.sqrt(365), 12);
    expect(annualiseVol(0.01, 3600)).toBeCloseTo(0.01 * Math.sqrt(8760), 12);
  });

  it('a constant return series converges to that variance', () => {
    const res = ewmaVolatility(new Array(2000).fill(0.02), { lambda: 0.97, seedVariance: 0 });
    expect(res.lastVol).toBeCloseTo(0.02, 10);
  });

  it('rejects a lambda outside (0, 1) and an empty series without seed', () => {
    expect(() => ewmaVolatility([0.01], { lambda: 1 })).toThrow(RangeError);
    expect(() => ewmaVolatility([])).toThrow(/no returns/);
  });
});

describe('lambda for another sampling interval', () => {
  it('keeps the half-life in wall-clock time', () => {
    const hourly = lambdaForInterval(3600);
    expect(hourly).toBeCloseTo(0.94 ** (1 / 24), 15);
    // ~11.2 days either way.
    expect(ewmaHalfLifePeriods(0.94)).toBeCloseTo(11.2023, 4);
    expect(ewmaHalfLifePeriods(hourly) / 24).toBeCloseTo(ewmaHalfLifePeriods(0.94), 9);
    expect(lambdaForInterval(86_400)).toBe(0.94);
  });
});
