import { describe, expect, it } from 'vitest';
import { backtestEwmaVar, backtestVar, createRng, kupiecPof } from '../../src/core/risk/index.js';

/** The closed form, written out independently of the implementation. */
function lrClosedForm(x: number, n: number, p: number): number {
  const phat = x / n;
  const logNull = (n - x) * Math.log(1 - p) + (x === 0 ? 0 : x * Math.log(p));
  const logAlt = (x === n ? 0 : (n - x) * Math.log(1 - phat)) + (x === 0 ? 0 : x * Math.log(phat));
  return -2 * (logNull - logAlt);
}

describe('kupiecPof', () => {
  it.each([
    // [x, n, p, p-value (scipy.stats.chi2.sf(LR, 1))]
    [0, 250, 0.01, 0.02498150305344973], // LR = -2 * 250 * ln(0.99) = 5.02517
    [2, 250, 0.01, 0.7419327009526281],
    [5, 250, 0.01, 0.1618549171960387],
    [10, 1000, 0.01, 1], // exactly as expected: LR = 0
    [25, 1000, 0.01, 6.192122972318636e-5],
    [9, 100, 0.05, 0.09719387348261453],
    [250, 250, 0.01, 0], // every period an exceedance: LR = -2 n ln p
  ])('x=%i n=%i p=%f', (x, n, p, pValue) => {
    const res = kupiecPof({ exceedances: x, observations: n, expectedRate: p });
    expect(res.lr).toBeCloseTo(lrClosedForm(x, n, p), 9);
    expect(res.pValue).toBeCloseTo(pValue, 12);
    expect(res.rejectedAt5pct).toBe(pValue < 0.05);
    expect(res.observedRate).toBe(x / n);
  });

  it('x = 0 has the closed form -2 n ln(1 - p)', () => {
    expect(kupiecPof({ exceedances: 0, observations: 250, expectedRate: 0.01 }).lr).toBeCloseTo(-500 * Math.log(0.99), 12);
  });

  it('rejects impossible counts', () => {
    expect(() => kupiecPof({ exceedances: 11, observations: 10, expectedRate: 0.01 })).toThrow(RangeError);
    expect(() => kupiecPof({ exceedances: 1.5, observations: 10, expectedRate: 0.01 })).toThrow(RangeError);
    expect(() => kupiecPof({ exceedances: 1, observations: 10, expectedRate: 0 })).toThrow(RangeError);
  });
});

describe('rolling VaR backtest', () => {
  it('counts long and short exceedances against ex-ante thresholds', () => {
    const returns = [0.01, -0.03, 0.02, -0.01, 0.05, -0.06];
    const varForecast = (i: number) => (i === 0 ? undefined : 0.025);
    const long = backtestVar({ returns, varForecast, confidence: 0.99 });
    expect(long).toMatchObject({ side: 'long', observations: 5, exceedances: 2, exceedanceIndices: [1, 5] });
    const short = backtestVar({ returns, varForecast, confidence: 0.99, side: 'short' });
    expect(short.exceedanceIndices).toEqual([4]);
    expect(long.kupiec.lr).toBeCloseTo(lrClosedForm(2, 5, 0.01), 9);
  });

  it('an EWMA VaR on i.i.d. normal returns with known vol passes Kupiec; a halved vol fails', () => {
    const rng = createRng(2024);
    const returns = Array.from({ length: 20_000 }, () => 0.01 * rng.normal());
    const ok = backtestEwmaVar({ returns, confidence: 0.99, ewma: { lambda: 0.97 }, warmup: 200 });
    expect(ok.observations).toBe(19_800);
    expect(ok.kupiec.observedRate).toBeGreaterThan(0.007);
    expect(ok.kupiec.observedRate).toBeLessThan(0.014);
    expect(ok.kupiec.rejectedAt5pct).toBe(false);
    // A VaR that assumes 1% vol on returns of 2% vol: P(z < -1.16) ~ 12% exceedances.
    const bad = backtestVar({
      returns: returns.map((r) => 2 * r),
      confidence: 0.99,
      varForecast: (i) => (i < 200 ? undefined : 2.3263478740408408 * 0.01),
    });
    expect(bad.kupiec.observedRate).toBeGreaterThan(0.1);
    expect(bad.kupiec.rejectedAt5pct).toBe(true);
    expect(() => backtestEwmaVar({ returns, confidence: 0.99, warmup: 10 })).toThrow(/seed window/);
  });
});
