import { describe, expect, it } from 'vitest';
import {
  christoffersenIndependence,
  createEwmaNormalModel,
  createFhsEwmaModel,
  createHistoricalModel,
  createOnlineEwma,
  createRng,
  DEFAULT_VAR_MODEL,
  lambdaForInterval,
  parametricVar,
  quantileSorted,
  ResidualDistribution,
  SortedWindow,
  unitT4Tail,
  validateVarModels,
  VAR_MODELS,
  type Rng,
} from '../../src/core/risk/index.js';

/** Student t(4) scaled to unit variance: z / sqrt(chi2(4) / 4) / sqrt(2). */
function unitT4(rng: Rng): number {
  let chi = 0;
  for (let i = 0; i < 4; i++) chi += rng.normal() ** 2;
  return rng.normal() / Math.sqrt(chi / 4) / Math.SQRT2;
}

/** GARCH(1,1) returns with unit-variance t(4) shocks: volatility clusters and tails are fat. */
function garchT4(n: number, seed: number): number[] {
  const rng = createRng(seed);
  const omega = 1e-6;
  const alpha = 0.08;
  const beta = 0.9;
  let v = omega / (1 - alpha - beta);
  const out: number[] = [];
  for (let t = 0; t < n; t++) {
    const r = Math.sqrt(v) * unitT4(rng);
    out.push(r);
    v = omega + alpha * r * r + beta * v;
  }
  return out;
}

describe('SortedWindow', () => {
  it('keeps the last n values sorted: quantiles and tail means equal a sort of them', () => {
    const rng = createRng(3);
    const w = new SortedWindow(50);
    const all: number[] = [];
    for (let i = 0; i < 500; i++) {
      const x = Math.round(rng.normal() * 100) / 10; // ties included
      w.push(x);
      all.push(x);
      const last = all.slice(-50).sort((a, b) => a - b);
      expect(w.count).toBe(last.length);
      for (const q of [0, 0.01, 0.05, 0.5, 0.95, 1]) expect(w.quantile(q)).toBeCloseTo(quantileSorted(last, q), 12);
    }
    const last = all.slice(-50).sort((a, b) => a - b);
    const q05 = w.quantile(0.05);
    const below = last.filter((x) => x <= q05);
    expect(w.meanAtOrBelow(q05)).toBeCloseTo(below.reduce((a, b) => a + b, 0) / below.length, 12);
    expect(() => w.push(NaN)).toThrow(/finite/);
    expect(() => new SortedWindow(0).count).toThrow(/capacity/);
  });
});

describe("Christoffersen's independence test", () => {
  it('counts transitions and computes LR as in the paper', () => {
    const hits = [false, false, true, true, false, false, false, true, false, false].map(Boolean);
    const res = christoffersenIndependence(hits);
    expect([res.n00, res.n01, res.n10, res.n11]).toEqual([4, 2, 2, 1]);
    const pi01 = 2 / 6;
    const pi11 = 1 / 3;
    const pi = 3 / 9;
    const lr = -2 * (6 * Math.log(1 - pi) + 3 * Math.log(pi) - (4 * Math.log(1 - pi01) + 2 * Math.log(pi01) + 2 * Math.log(1 - pi11) + Math.log(pi11)));
    expect(res.lr).toBeCloseTo(Math.max(0, lr), 12);
    expect(res.pValue).toBeCloseTo(1, 9); // pi01 = pi11: no evidence of dependence
  });

  it('rejects clustered exceptions and accepts independent ones', () => {
    const rng = createRng(5);
    const iid = Array.from({ length: 5000 }, () => rng.uniform() < 0.05);
    expect(christoffersenIndependence(iid).pValue).toBeGreaterThan(0.05);
    // Same 5% rate, but exceptions come in pairs.
    const paired: boolean[] = [];
    for (let i = 0; i < 2500; i++) {
      const hit = rng.uniform() < 0.05;
      paired.push(hit, hit);
    }
    const res = christoffersenIndependence(paired);
    expect(res.pi11).toBeGreaterThan(0.4);
    expect(res.pValue).toBeLessThan(1e-6);
    expect(christoffersenIndependence([false, false, false]).pValue).toBe(1);
  });
});

describe('VaR models', () => {
  it('the unit t(4) prior: quantile 3.7469 / sqrt 2 at 99%, and ES equal to the integral of the tail', () => {
    const { varMultiple, esMultiple } = unitT4Tail(0.99);
    expect(varMultiple * Math.SQRT2).toBeCloseTo(3.746947, 5);
    // ES of t(4): integral of t f(t) over [q, inf) / 0.01, Simpson on t = q + u / (1 - u).
    const f = (t: number): number => 0.375 * (1 + (t * t) / 4) ** -2.5;
    const q = varMultiple * Math.SQRT2;
    const n = 20_000;
    let integral = 0;
    for (let i = 0; i <= n; i++) {
      const u = (i / n) * 0.9999;
      const t = q + u / (1 - u);
      const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
      integral += (w * t * f(t)) / (1 - u) ** 2;
    }
    integral *= 0.9999 / n / 3;
    expect(esMultiple * Math.SQRT2).toBeCloseTo(integral / 0.01, 2);
    expect(varMultiple).toBeGreaterThan(2.3263); // fatter than normal at 99% ...
    expect(unitT4Tail(0.95).varMultiple).toBeLessThan(1.6449); // ... thinner at 95% (unit variance)
  });

  it('EWMA-normal is the delta-normal VaR on the online EWMA variance', () => {
    const returns = garchT4(400, 1);
    const model = createEwmaNormalModel(3600);
    const ewma = createOnlineEwma({ lambda: lambdaForInterval(3600) });
    for (const r of returns) {
      model.observe(r);
      ewma.observe(r);
    }
    const f = model.forecast(0.99)!;
    const ref = parametricVar({ deltaUsd: 1, volPerPeriod: Math.sqrt(ewma.variance!), confidence: 0.99 });
    expect(f.varReturn).toBeCloseTo(ref.varUsd, 15);
    expect(f.esReturn).toBeCloseTo(ref.esUsd, 15);
    expect(createEwmaNormalModel(3600).forecast(0.99)).toBeUndefined(); // nothing seen yet
  });

  it('FHS on normal returns gives the normal quantile; on t(4) returns a fatter 99% VaR than EWMA-normal', () => {
    const rng = createRng(8);
    const normal = createFhsEwmaModel(86_400);
    for (let i = 0; i < 20_000; i++) normal.observe(0.02 * rng.normal());
    const fn = normal.forecast(0.99)!;
    // 0.02 * 2.326 = 0.0465; EWMA sd has sampling noise of a few percent with lambda 0.94.
    expect(fn.varReturn).toBeGreaterThan(0.0465 * 0.85);
    expect(fn.varReturn).toBeLessThan(0.0465 * 1.15);
    expect(fn.esReturn).toBeGreaterThan(fn.varReturn);

    const returns = garchT4(20_000, 2);
    const fhs = createFhsEwmaModel(86_400);
    const ewma = createEwmaNormalModel(86_400);
    for (const r of returns) {
      fhs.observe(r);
      ewma.observe(r);
    }
    const ratio = fhs.forecast(0.99)!.varReturn / ewma.forecast(0.99)!.varReturn;
    expect(ratio).toBeGreaterThan(1.05);
    expect(fhs.forecast(0.99)!.source).toMatch(/^fhs\(10000 residuals, by state\)$/);
  });

  it('before 200 residuals FHS uses the t(4) prior on its own EWMA vol, and says so', () => {
    const m = createFhsEwmaModel(3600);
    const returns = garchT4(100, 4);
    returns.forEach((r) => m.observe(r));
    const f = m.forecast(0.99)!;
    expect(f.source).toBe('fhs(prior t4, 70 residuals)');
    const ewma = createOnlineEwma({ lambda: lambdaForInterval(3600) });
    returns.forEach((r) => ewma.observe(r));
    expect(f.varReturn).toBeCloseTo(unitT4Tail(0.99).varMultiple * Math.sqrt(ewma.variance!), 15);
  });

  it("a short's VaR (upper side) is a long's VaR of the mirrored returns", () => {
    const returns = garchT4(3000, 6);
    const up = createFhsEwmaModel(3600);
    const down = createFhsEwmaModel(3600);
    const hist = createHistoricalModel();
    const histMirror = createHistoricalModel();
    for (const r of returns) {
      up.observe(r);
      down.observe(-r);
      hist.observe(r);
      histMirror.observe(-r);
    }
    expect(up.forecast(0.99, 'upper')!.varReturn).toBeCloseTo(down.forecast(0.99, 'lower')!.varReturn, 14);
    expect(up.forecast(0.99, 'upper')!.esReturn).toBeCloseTo(down.forecast(0.99, 'lower')!.esReturn, 14);
    expect(hist.forecast(0.95, 'upper')!.varReturn).toBeCloseTo(histMirror.forecast(0.95)!.varReturn, 14);
  });

  it('residuals are conditioned on the previous tail state once each state was followed 50 times', () => {
    // A Markov chain: after a residual below -1.6 the next one is 3x as wide.
    const rng = createRng(12);
    const d = new ResidualDistribution();
    let prev = 0;
    let conditionedAt = -1;
    for (let i = 0; i < 6000; i++) {
      const z = rng.normal() * (prev < -1.6 ? 3 : 1);
      d.add(z);
      prev = z;
      if (conditionedAt < 0 && d.tail(0.99, 'lower').conditioned) conditionedAt = i;
    }
    // ~5% of residuals are tail states of each side: 50 followers after ~1,000 residuals.
    expect(conditionedAt).toBeGreaterThan(500);
    expect(conditionedAt).toBeLessThan(2500);
    // Now feed a lower-tail residual: the next quantile comes from the wide followers.
    d.add(-5);
    const afterCrash = d.tail(0.99, 'lower');
    d.add(0);
    const afterCalm = d.tail(0.99, 'lower');
    expect(afterCrash.conditioned && afterCalm.conditioned).toBe(true);
    expect(afterCrash.quantile).toBeLessThan(2 * afterCalm.quantile); // ~ -7 against ~ -2.4
  });

  it('on simulated GARCH-t returns the default passes Kupiec at 99% where EWMA-normal fails', () => {
    const rows = validateVarModels(garchT4(20_000, 21), VAR_MODELS, { periodSec: 3600, levels: [0.99] });
    const fhs = rows.find((r) => r.model === DEFAULT_VAR_MODEL.name)!;
    const ewma = rows.find((r) => r.model === 'ewma-normal')!;
    expect(fhs.observations).toBe(20_000 - 250);
    expect(fhs.kupiecP).toBeGreaterThan(0.05);
    expect(ewma.exceptions).toBeGreaterThan(fhs.exceptions);
    expect(ewma.kupiecP).toBeLessThan(0.05);
  });
});
