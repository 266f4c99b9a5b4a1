import { describe, expect, it } from 'vitest';
import {
  createRng,
  deltaGammaVar,
  historicalVar,
  normPdf,
  normQuantile,
  parametricVar,
  portfolioVar,
  quantileSorted,
} from '../../src/core/risk/index.js';

const Z99 = 2.3263478740408408;
const Z95 = 1.6448536269514722;

describe('parametricVar (delta-normal)', () => {
  it.each([
    // 1 ETH at $2000, 5%/day: sd = 2000 * 0.05 = 100 USD; VaR99 = 100 * 2.32635 = 232.635
    { deltaUsd: 2000, vol: 0.05, c: 0.99, h: 1, varUsd: 100 * Z99, esUsd: 100 * normPdf(Z99) / 0.01 },
    { deltaUsd: 2000, vol: 0.05, c: 0.95, h: 1, varUsd: 100 * Z95, esUsd: 100 * normPdf(Z95) / 0.05 },
    // 4 periods: sqrt(4) = 2 times the 1-period figure
    { deltaUsd: 2000, vol: 0.05, c: 0.99, h: 4, varUsd: 200 * Z99, esUsd: 200 * normPdf(Z99) / 0.01 },
    // a short of the same size has the same risk
    { deltaUsd: -2000, vol: 0.05, c: 0.99, h: 1, varUsd: 100 * Z99, esUsd: 100 * normPdf(Z99) / 0.01 },
    // no delta, no risk
    { deltaUsd: 0, vol: 0.05, c: 0.99, h: 1, varUsd: 0, esUsd: 0 },
  ])('delta $deltaUsd, vol $vol, c $c, h $h', ({ deltaUsd, vol, c, h, varUsd, esUsd }) => {
    const res = parametricVar({ deltaUsd, volPerPeriod: vol, confidence: c, horizonPeriods: h });
    expect(res.varUsd).toBeCloseTo(varUsd, 9);
    expect(res.esUsd).toBeCloseTo(esUsd, 9);
    expect(res.esUsd).toBeGreaterThanOrEqual(res.varUsd);
  });

  it('hand-checked ES multipliers: phi(z)/(1-c) = 2.66521 (99%), 2.06271 (95%)', () => {
    expect(parametricVar({ deltaUsd: 1, volPerPeriod: 1, confidence: 0.99 }).esUsd).toBeCloseTo(2.665214220345808, 12);
    expect(parametricVar({ deltaUsd: 1, volPerPeriod: 1, confidence: 0.95 }).esUsd).toBeCloseTo(2.0627128075074275, 12);
  });

  it('a positive drift reduces a long position\'s VaR by delta * mu * h', () => {
    const res = parametricVar({ deltaUsd: 2000, volPerPeriod: 0.05, confidence: 0.99, meanPerPeriod: 0.001 });
    expect(res.varUsd).toBeCloseTo(100 * Z99 - 2, 9);
  });

  it('rejects nonsense', () => {
    expect(() => parametricVar({ deltaUsd: 1, volPerPeriod: 0.1, confidence: 99 })).toThrow(RangeError);
    expect(() => parametricVar({ deltaUsd: 1, volPerPeriod: -0.1, confidence: 0.99 })).toThrow(RangeError);
  });
});

describe('historicalVar', () => {
  // Simple returns -5%,-2%,+1%,+3%,-1%,0,+2%,-3%,+4%,+1% on a $1000 long: losses
  // 50,20,-10,-30,10,0,-20,30,-40,-10; sorted: -40,-30,-20,-10,-10,0,10,20,30,50.
  const simple = [-0.05, -0.02, 0.01, 0.03, -0.01, 0, 0.02, -0.03, 0.04, 0.01];
  const returns = simple.map((s) => Math.log1p(s));
  it.each([
    // type 7: position (n-1) q = 9 q
    { c: 0.95, varUsd: 41, esUsd: 50 }, // 8.55 -> 30 + 0.55 * 20
    { c: 0.9, varUsd: 32, esUsd: 50 }, //  8.1  -> 30 + 0.1 * 20
    { c: 0.8, varUsd: 22, esUsd: 40 }, //  7.2  -> 20 + 0.2 * 10; tail {30, 50}
  ])('c=$c: VaR $varUsd, ES $esUsd', ({ c, varUsd, esUsd }) => {
    const res = historicalVar({ returns, deltaUsd: 1000, confidence: c });
    expect(res.varUsd).toBeCloseTo(varUsd, 9);
    expect(res.esUsd).toBeCloseTo(esUsd, 9);
  });

  it('a short loses on the up moves; horizon scales by sqrt(h)', () => {
    // short $1000: losses are -1 x the long's: 40,30,20,10,10,0,-10,-20,-30,-50 -> 95%: 30 + 0.55 * 10
    expect(historicalVar({ returns, deltaUsd: -1000, confidence: 0.95 }).varUsd).toBeCloseTo(35.5, 9);
    expect(historicalVar({ returns, deltaUsd: 1000, confidence: 0.95, horizonPeriods: 9 }).varUsd).toBeCloseTo(123, 9);
  });

  it('quantileSorted interpolates like numpy', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([7], 0.99)).toBe(7);
  });
});

describe('portfolioVar', () => {
  // vols 2% and 3%, correlation 0.5: cov = [[4e-4, 3e-4], [3e-4, 9e-4]]
  const cov = [
    [4e-4, 3e-4],
    [3e-4, 9e-4],
  ];
  it('hand-checked two-asset VaR and its Euler components', () => {
    // d = [1000, -500]: d'Sd = 400 - 300 + 225 = 325; S d = [0.25, -0.15]
    const res = portfolioVar({ deltasUsd: [1000, -500], covariance: cov, confidence: 0.99 });
    expect(res.sdUsd).toBeCloseTo(Math.sqrt(325), 12);
    expect(res.varUsd).toBeCloseTo(Z99 * Math.sqrt(325), 12);
    expect(res.componentVarUsd[0]).toBeCloseTo((Z99 * 250) / Math.sqrt(325), 12);
    expect(res.componentVarUsd[1]).toBeCloseTo((Z99 * 75) / Math.sqrt(325), 12);
    expect(res.componentVarUsd[0]! + res.componentVarUsd[1]!).toBeCloseTo(res.varUsd, 12);
  });

  it('one asset equals the delta-normal VaR; perfect correlation adds VaRs', () => {
    const one = portfolioVar({ deltasUsd: [2000], covariance: [[0.0025]], confidence: 0.99, horizonPeriods: 4 });
    expect(one.varUsd).toBeCloseTo(parametricVar({ deltaUsd: 2000, volPerPeriod: 0.05, confidence: 0.99, horizonPeriods: 4 }).varUsd, 9);
    const perfect = portfolioVar({ deltasUsd: [1000, 1000], covariance: [[4e-4, 6e-4], [6e-4, 9e-4]], confidence: 0.95 });
    expect(perfect.varUsd).toBeCloseTo(Z95 * (20 + 30), 9);
    expect(() => portfolioVar({ deltasUsd: [1, 2], covariance: [[1]], confidence: 0.99 })).toThrow(/2x2/);
    // correlation 2 is impossible: d = [1, -1] gets variance 1 + 1 - 4 < 0
    expect(() => portfolioVar({ deltasUsd: [1, -1], covariance: [[1, 2], [2, 1]], confidence: 0.99 })).toThrow(/semi-definite/);
  });
});

describe('deltaGammaVar', () => {
  const base = { priceUsd: 2000, volPerPeriod: 0.05, confidence: 0.99 };

  it('without gamma it is the delta-normal VaR', () => {
    const dg = deltaGammaVar({ ...base, deltaBase: 1, gammaBasePerUsd: 0 });
    const dn = parametricVar({ deltaUsd: 2000, volPerPeriod: 0.05, confidence: 0.99 });
    expect(dg.varUsd).toBeCloseTo(dn.varUsd, 9);
    expect(dg.esUsd).toBeCloseTo(dn.esUsd, 9);
  });

  it('delta-hedged short gamma (an LP hedged to zero delta): loss = |B| z^2, a scaled chi-square(1)', () => {
    // B = gamma S^2 vol^2 / 2 = -0.005 * 4e6 * 0.0025 / 2 = -25 USD; VaR99 = 25 * 6.634897
    const res = deltaGammaVar({ ...base, deltaBase: 0, gammaBasePerUsd: -0.005 });
    expect(res.varUsd).toBeCloseTo(25 * 6.6348966010212145, 6);
    // ES = 25 E[z^2 | |z| >= a] = 25 * 2 (a phi(a) + 0.005) / 0.01, a = z_0.995
    const a = normQuantile(0.995);
    expect(res.esUsd).toBeCloseTo((25 * 2 * (a * normPdf(a) + 0.005)) / 0.01, 6);
  });

  it('delta-hedged long gamma never loses more than the 1% quantile of -B z^2', () => {
    const res = deltaGammaVar({ ...base, deltaBase: 0, gammaBasePerUsd: 0.005 });
    expect(res.varUsd).toBeCloseTo(-25 * 0.00015708785790970184, 8);
  });

  it('matches a Monte Carlo of the quadratic P&L with delta and short gamma', () => {
    const input = { ...base, deltaBase: 1, gammaBasePerUsd: -0.01, horizonPeriods: 2 };
    const res = deltaGammaVar(input);
    const rng = createRng(99);
    const s = 0.05 * Math.sqrt(2);
    const losses = Array.from({ length: 100_000 }, () => {
      const dS = 2000 * s * rng.normal();
      return -(1 * dS + 0.5 * -0.01 * dS * dS);
    }).sort((x, y) => x - y);
    const mcVar = quantileSorted(losses, 0.99);
    const tail = losses.filter((l) => l >= mcVar);
    const mcEs = tail.reduce((x, y) => x + y, 0) / tail.length;
    expect(Math.abs(res.varUsd / mcVar - 1)).toBeLessThan(0.02);
    expect(Math.abs(res.esUsd / mcEs - 1)).toBeLessThan(0.02);
    // Short gamma makes the loss worse than delta-normal alone.
    expect(res.varUsd).toBeGreaterThan(parametricVar({ deltaUsd: 2000, volPerPeriod: s, confidence: 0.99 }).varUsd);
  });
});
