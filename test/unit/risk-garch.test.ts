import { describe, expect, it } from 'vitest';
import { createRng, fitGarch11, garch11LogLikelihood, garch11Variances, minimize, nelderMead, simulateGarch11 } from '../../src/core/risk/index.js';

describe('nelderMead', () => {
  it('finds the Rosenbrock minimum (1, 1)', () => {
    const rosen = ([x, y]: readonly number[]) => (1 - x!) ** 2 + 100 * (y! - x! * x!) ** 2;
    const res = nelderMead(rosen, [-1.2, 1], { maxIterations: 5000, tolF: 1e-14, tolX: 1e-10 });
    expect(res.converged).toBe(true);
    expect(res.x[0]).toBeCloseTo(1, 5);
    expect(res.x[1]).toBeCloseTo(1, 5);
  });
});

describe('seeded PRNG', () => {
  it('is reproducible and standard normal in distribution', () => {
    const a = createRng(7);
    const b = createRng(7);
    const xs = Array.from({ length: 20_000 }, () => a.normal());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.normal()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    // Standard errors: 1/sqrt(n) = 0.007 for the mean, sqrt(2/n) = 0.01 for the variance.
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
  });
});

describe('fitGarch11', () => {
  const truth = { omega: 2e-6, alpha: 0.1, beta: 0.85 };

  it.each([1, 2, 3])('recovers omega, alpha=0.1, beta=0.85 from 8,000 simulated returns (seed %i)', (seed) => {
    const returns = simulateGarch11(truth, 8000, createRng(seed));
    const fit = fitGarch11(returns, { intervalSec: 3600 });
    expect(fit.converged).toBe(true);
    expect(Math.abs(fit.alpha - truth.alpha)).toBeLessThan(0.03);
    expect(Math.abs(fit.beta - truth.beta)).toBeLessThan(0.05);
    expect(fit.omega).toBeGreaterThan(truth.omega / 2);
    expect(fit.omega).toBeLessThan(truth.omega * 2);
    expect(fit.persistence).toBeLessThan(1);
    // The simulated mean is 0: the estimate is within a few standard errors (sd / sqrt(n) ~ 7e-5).
    expect(Math.abs(fit.mu)).toBeLessThan(3e-4);
    // It is the maximum: at least as likely as the truth, and as any nudge off the optimum in mu too.
    expect(fit.logLikelihood).toBeCloseTo(garch11LogLikelihood(returns, fit), 8);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(garch11LogLikelihood(returns, { ...truth, mu: 0 }));
    expect(fit.logLikelihood).toBeGreaterThan(garch11LogLikelihood(returns, { ...fit, alpha: fit.alpha * 1.01 }));
    expect(fit.logLikelihood).toBeGreaterThan(garch11LogLikelihood(returns, { ...fit, mu: fit.mu + 1e-5 }));
    expect(fit.logLikelihood).toBeGreaterThan(garch11LogLikelihood(returns, { ...fit, mu: fit.mu - 1e-5 }));
    // Long-run vol: sqrt(2e-6 / 0.05) = 0.00632 per hour, 0.592 a year.
    expect(fit.longRunVolAnnual).toBeGreaterThan(0.45);
    expect(fit.longRunVolAnnual).toBeLessThan(0.75);
  });

  it("starts the variance as fGarch does: h1 = omega + (alpha + beta) mean((r - mu)^2), full normal constant", () => {
    const r = [0.5, -1, 2, 0.25];
    const p = { mu: 0.25, omega: 0.2, alpha: 0.1, beta: 0.8 };
    const m2 = r.reduce((s, x) => s + (x - p.mu) ** 2, 0) / r.length;
    let h = p.omega + (p.alpha + p.beta) * m2;
    let llh = 0;
    for (const x of r) {
      llh += -0.5 * Math.log(2 * Math.PI * h) - (x - p.mu) ** 2 / (2 * h);
      h = p.omega + p.alpha * (x - p.mu) ** 2 + p.beta * h;
    }
    expect(garch11LogLikelihood(r, p)).toBeCloseTo(llh, 12);
    expect(garch11Variances(r, p)[0]).toBeCloseTo(p.omega + 0.9 * m2, 14);
  });

  it('forecasts mean-revert geometrically to the long-run variance', () => {
    const fit = fitGarch11(simulateGarch11(truth, 5000, createRng(11)));
    const f = fit.forecast(500);
    expect(f[0]).toBe(fit.nextVariance);
    // E[s2(t+k)] - LR = p^k (s2(t+1) - LR)
    expect(f[10]! - fit.longRunVariance).toBeCloseTo(fit.persistence ** 10 * (fit.nextVariance - fit.longRunVariance), 15);
    expect(f[499]! / fit.longRunVariance).toBeCloseTo(1, 6);
    expect(fit.horizonVariance(24)).toBeCloseTo(fit.forecast(24).reduce((a, b) => a + b, 0), 18);
  });

  it('variance targeting pins the long-run variance to the mean square about mu', () => {
    const returns = simulateGarch11(truth, 5000, createRng(5));
    const fit = fitGarch11(returns, { varianceTargeting: true });
    const m2 = returns.reduce((s, r) => s + (r - fit.mu) ** 2, 0) / returns.length;
    expect(fit.longRunVariance / m2).toBeCloseTo(1, 9);
    expect(Math.abs(fit.alpha - 0.1)).toBeLessThan(0.03);
  });

  it('includeMean: false fixes mu at 0', () => {
    const returns = simulateGarch11(truth, 3000, createRng(9)).map((r) => r + 0.001);
    const fixed = fitGarch11(returns, { includeMean: false });
    const free = fitGarch11(returns);
    expect(fixed.mu).toBe(0);
    expect(free.mu).toBeGreaterThan(0.0005);
    expect(free.logLikelihood).toBeGreaterThan(fixed.logLikelihood);
  });

  it('rejects too-short or constant series', () => {
    expect(() => fitGarch11([0.01, 0.02])).toThrow(/at least 20/);
    expect(() => fitGarch11(new Array(50).fill(0.01))).toThrow(/zero variance/);
  });
});

describe('minimize', () => {
  it('finds the bottom of a narrow curved valley (Rosenbrock) to the gradient tolerance', () => {
    const rosen = ([x, y]: readonly number[]) => (1 - x!) ** 2 + 100 * (y! - x! * x!) ** 2;
    const res = minimize(rosen, [[-1.2, 1], [2, 2]]);
    expect(res.converged).toBe(true);
    expect(res.gradientNorm).toBeLessThanOrEqual(1e-6);
    expect(res.x[0]).toBeCloseTo(1, 6);
    expect(res.x[1]).toBeCloseTo(1, 6);
    expect(() => minimize(rosen, [])).toThrow(/no starting point/);
  });
});
