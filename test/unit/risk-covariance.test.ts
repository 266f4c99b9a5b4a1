import { describe, expect, it } from 'vitest';
import { createOnlineEwma, createRng, ewmaCovariance, minimumVarianceHedge, solveSpd } from '../../src/core/risk/index.js';

/** n rows of returns with covariance L L' (L lower triangular), zero mean. */
function correlated(L: number[][], n: number, seed: number): number[][] {
  const rng = createRng(seed);
  const k = L.length;
  const cols: number[][] = Array.from({ length: k }, () => []);
  for (let t = 0; t < n; t++) {
    const z = Array.from({ length: k }, () => rng.normal());
    for (let i = 0; i < k; i++) cols[i]!.push(L[i]!.reduce((acc, lij, j) => acc + lij * z[j]!, 0));
  }
  return cols;
}

const cholCov = (L: number[][]): number[][] => L.map((ri) => L.map((rj) => ri.reduce((acc, x, k) => acc + x * rj[k]!, 0)));

describe('EWMA covariance of several return series', () => {
  it('each variance is that series own online EWMA; covariances follow the same recursion', () => {
    const cols = correlated([[0.02, 0, 0], [0.012, 0.016, 0], [-0.005, 0.004, 0.01]], 300, 1);
    const lambda = 0.94;
    const res = ewmaCovariance(cols, { lambda });
    cols.forEach((c, i) => {
      const e = createOnlineEwma({ lambda });
      c.forEach((r) => e.observe(r));
      expect(res.covariance[i]![i]).toBeCloseTo(e.variance!, 15);
      expect(res.vols[i]).toBeCloseTo(Math.sqrt(e.variance!), 15);
    });
    let c01 = 0;
    for (let t = 0; t < 30; t++) c01 += (cols[0]![t]! * cols[1]![t]!) / 30;
    for (let t = 30; t < 300; t++) c01 = lambda * c01 + (1 - lambda) * cols[0]![t]! * cols[1]![t]!;
    expect(res.covariance[0]![1]).toBeCloseTo(c01, 15);
    expect(res.covariance[1]![0]).toBe(res.covariance[0]![1]);
    expect(res.correlation[0]![1]).toBeCloseTo(c01 / (res.vols[0]! * res.vols[1]!), 12);
  });

  it('recovers a known covariance from 40,000 simulated rows (slow decay)', () => {
    const L = [[0.02, 0], [0.016, 0.012]]; // sd 2% and 2%, correlation 0.8
    const res = ewmaCovariance(correlated(L, 40_000, 2), { lambda: 0.9998 });
    const truth = cholCov(L);
    // Effective sample (1 + lambda) / (1 - lambda) = 10,000: a variance ratio has a standard
    // error of sqrt(2 / 10,000) = 1.4%; allow 4 of them.
    expect(Math.abs(res.covariance[0]![0]! / truth[0]![0]! - 1)).toBeLessThan(0.06);
    expect(Math.abs(res.covariance[1]![1]! / truth[1]![1]! - 1)).toBeLessThan(0.06);
    expect(Math.abs(res.correlation[0]![1]! - 0.8)).toBeLessThan(0.03);
  });

  it('rejects ragged or short input, naming the column', () => {
    expect(() => ewmaCovariance([[1, 2, 3], [1, 2]], { lambda: 0.9, seedCount: 2 })).toThrow(/column 1 has 2 returns/);
    expect(() => ewmaCovariance([[0.1, 0.2]], { lambda: 0.9 })).toThrow(/seedCount = 30/);
    expect(() => ewmaCovariance([[0.1]], { lambda: 1 })).toThrow(/lambda/);
  });
});

describe('minimum-variance hedge h* = Sigma_HH^-1 Sigma_HS', () => {
  it('one instrument: h* = rho sigma_S / sigma_H, residual sigma_S^2 (1 - rho^2)', () => {
    // A token with 1.2x ETH's vol and 0.8 correlation, hedged with ETH.
    const sE = 0.04;
    const sT = 0.048;
    const rho = 0.8;
    const cov = [[sE * sE, rho * sE * sT], [rho * sE * sT, sT * sT]];
    const h = minimumVarianceHedge(cov, 1, [0]);
    expect(h.ratios[0]).toBeCloseTo((rho * sT) / sE, 14); // 0.96
    expect(h.residualVariance).toBeCloseTo(sT * sT * (1 - rho * rho), 16);
    expect(h.varianceReduction).toBeCloseTo(rho * rho, 12);
  });

  it('two correlated instruments: the 2x2 closed form', () => {
    // Var(H1) = a, Var(H2) = d, Cov(H1, H2) = b; Cov(S, H) = (p, q).
    const [a, b, d, p, q, s] = [4e-4, 1.5e-4, 9e-4, 2.5e-4, 3e-4, 6e-4];
    const cov = [[s, p, q], [p, a, b], [q, b, d]];
    const h = minimumVarianceHedge(cov, 0, [1, 2]);
    const det = a * d - b * b;
    expect(h.ratios[0]).toBeCloseTo((d * p - b * q) / det, 14);
    expect(h.ratios[1]).toBeCloseTo((a * q - b * p) / det, 14);
    // It is the minimum: the residual variance of h* is below that of any nudge.
    const resid = (x: number[]): number => s - 2 * (x[0]! * p + x[1]! * q) + a * x[0]! ** 2 + d * x[1]! ** 2 + 2 * b * x[0]! * x[1]!;
    expect(h.residualVariance).toBeCloseTo(resid(h.ratios), 16);
    for (const [dx, dy] of [[0.01, 0], [0, 0.01], [-0.01, 0.01]]) expect(resid([h.ratios[0]! + dx!, h.ratios[1]! + dy!])).toBeGreaterThan(h.residualVariance);
  });

  it('on simulated returns the hedged series has the predicted residual variance', () => {
    const L = [[0.02, 0, 0], [0.01, 0.015, 0], [0.014, 0.006, 0.008]];
    const cols = correlated(L, 50_000, 4);
    const cov = cholCov(L);
    const h = minimumVarianceHedge(cov, 2, [0, 1]);
    const hedged = cols[2]!.map((r, t) => r - h.ratios[0]! * cols[0]![t]! - h.ratios[1]! * cols[1]![t]!);
    const v = hedged.reduce((acc, x) => acc + x * x, 0) / hedged.length;
    expect(v / h.residualVariance).toBeCloseTo(1, 1);
    expect(h.residualVariance).toBeCloseTo(L[2]![2]! ** 2, 16); // what no instrument spans
  });

  it('refuses a singular instrument set and bad indices, naming them', () => {
    const cov = [[1, 0.5, 0.5], [0.5, 1, 1], [0.5, 1, 1]]; // instruments 1 and 2 are the same
    expect(() => minimumVarianceHedge(cov, 0, [1, 2])).toThrow(/singular/);
    expect(() => minimumVarianceHedge(cov, 0, [3])).toThrow(/hedge index 3/);
    expect(() => minimumVarianceHedge(cov, 0, [0])).toThrow(/also a hedge/);
    expect(() => minimumVarianceHedge(cov, 0, [])).toThrow(/no hedge/);
    expect(solveSpd([[4, 2], [2, 3]], [2, 1])).toEqual([0.5, 0].map((x) => expect.closeTo(x, 14)));
  });
});
