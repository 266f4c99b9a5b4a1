import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lpGammaBasePerUsd } from '../../src/core/band-policy.js';
import type { PortfolioAssessment } from '../../src/core/portfolio/assess.js';
import { ewmaCovariance } from '../../src/core/risk/covariance.js';
import { normPdf, normQuantile } from '../../src/core/risk/normal.js';
import { lpGammaMatrixUsd } from '../../src/core/risk/portfolio-gamma.js';
import {
  createBarSampler, createOnlineCovariance, dailyRows, deltaGammaNormalVar, fhsPortfolioVar, linearNormalVar, normalScenarios, uniformCovariance,
} from '../../src/core/risk/portfolio-var.js';
import { createRng } from '../../src/core/risk/random.js';
import type { PriceObservation, PriceRecord } from '../../src/backtest/price-record.js';
import type { LpHolding, PoolSpec, PortfolioSnapshot } from '../../src/portfolio/model.js';
import { createPortfolioRisk, portfolioPriceRecords, riskTickFields, type PortfolioRiskFigures } from '../../src/runner/portfolio-risk.js';

const Z99 = normQuantile(0.99);
const YEAR = 365 * 24 * 3600;
const T0 = 1_700_006_400; // a UTC midnight (day 19,676 of the epoch)
const assets = [{ id: 'ETH', decimals: 18 }, { id: 'BTC', decimals: 8 }];
const usdc = { id: 'USDC', decimals: 6 };
const pools: PoolSpec[] = [
  { id: 'weth-usdc', address: '0x0000000000000000000000000000000000000001', token0: 'ETH', token1: 'USDC', fee: 500 },
  { id: 'wbtc-weth', address: '0x0000000000000000000000000000000000000002', token0: 'BTC', token1: 'ETH', fee: 3000 },
];

/** The snapshot fields the risk engine reads. */
function snap(timeSec: number, eth: number, btc: number, lps: LpHolding[] = [], block = BigInt(timeSec)): PortfolioSnapshot {
  const e8 = (x: number) => BigInt(Math.round(x * 1e8));
  return {
    blockNumber: block, blockTimestampSec: BigInt(timeSec),
    prices: { ETH: { priceE8: e8(eth), updatedAtSec: BigInt(timeSec) }, BTC: { priceE8: e8(btc), updatedAtSec: BigInt(timeSec) } },
    quotePriceE8: 100_000_000n, lps,
  } as unknown as PortfolioSnapshot;
}

/** The assessment fields the risk engine reads: net USD per asset, prices, venue buckets. */
function assess(s: PortfolioSnapshot, netUsd: { ETH: number; BTC: number }, venues: PortfolioAssessment['venues'] = []): PortfolioAssessment {
  const pricesE8 = { ETH: s.prices['ETH']!.priceE8, BTC: s.prices['BTC']!.priceE8 };
  return {
    assets: [{ asset: 'ETH', netUsdE8: BigInt(netUsd.ETH * 1e8) }, { asset: 'BTC', netUsdE8: BigInt(netUsd.BTC * 1e8) }],
    prices: { pricesE8, quotePriceE8: s.quotePriceE8 },
    venues,
  } as unknown as PortfolioAssessment;
}

/** Correlated GBM prices every `stepSec`, hourly vols 1% and 1.5%, correlation 0.6 (seeded). */
function* path(seconds: number, stepSec: number, seed = 7): Generator<{ t: number; eth: number; btc: number }> {
  const rng = createRng(seed);
  const perStep = Math.sqrt(stepSec / 3600);
  let eth = 2000;
  let btc = 60_000;
  for (let t = 0; t <= seconds; t += stepSec) {
    yield { t: T0 + t, eth, btc };
    const z1 = rng.normal();
    const z2 = 0.6 * z1 + 0.8 * rng.normal();
    eth *= Math.exp(0.01 * perStep * z1);
    btc *= Math.exp(0.015 * perStep * z2);
  }
}

/** A price record whose appends can be awaited (the engine fires and forgets them). */
function awaitable(inner: PriceRecord): PriceRecord & { settled(): Promise<void>; appends: number } {
  const pending: Promise<void>[] = [];
  return {
    path: inner.path,
    appends: 0,
    append(o: PriceObservation) {
      this.appends++;
      const p = inner.append(o);
      pending.push(p);
      return p;
    },
    read: () => inner.read(),
    settled: async () => void (await Promise.all(pending)),
  };
}

describe('portfolio VaR: closed forms', () => {
  it('normal VaR of a linear two-asset portfolio is z99 × sqrt(w\'Σw), and ES sd φ(z)/(1 - c)', () => {
    // w = ($10,000 ETH, -$5,000 BTC), daily vols 4% and 5%, correlation 0.7:
    // w'Σw = 1e8·0.0016 + 25e6·0.0025 - 2·0.7·5e7·0.002 = 160,000 + 62,500 - 140,000 = 82,500.
    const cov = uniformCovariance([0.04, 0.05], 0.7);
    const v = linearNormalVar([10_000, -5_000], cov, 0.99);
    expect(Z99).toBeCloseTo(2.3263478740408408, 13);
    expect(v.varUsd).toBeCloseTo(Z99 * Math.sqrt(82_500), 9);
    expect(v.varUsd).toBeCloseTo(668.1926, 3);
    expect(v.esUsd).toBeCloseTo((Math.sqrt(82_500) * normPdf(Z99)) / 0.01, 9);
    // Without gamma the delta-gamma model is the closed form, to the last bit.
    expect(deltaGammaNormalVar([10_000, -5_000], null, cov, 0.99, normalScenarios(2))).toEqual(v);
  });

  it('the engine on its prior (80%/yr, correlation 0.7) gives the same closed form from the first tick, marked prior', () => {
    const risk = createPortfolioRisk({ assets });
    const s = snap(T0, 2000, 60_000);
    const f = risk.figures(s, assess(s, { ETH: 10_000, BTC: -5_000 }));
    const sd = 0.8 / Math.sqrt(365); // daily
    const wSw = sd * sd * (1e8 + 25e6 - 2 * 0.7 * 5e7);
    expect(f.varModel).toBe('prior-normal');
    expect(f.covarianceSource).toBe('prior');
    expect(f.fhsVar99Usd).toBe('warming up');
    expect(f.var99Usd).toBeCloseTo(Z99 * Math.sqrt(wSw), 6);
    expect(f.volAnnual['ETH']).toBeCloseTo(0.8, 12);
    expect(f.correlation[0]![1]).toBeCloseTo(0.7, 12);
    expect(riskTickFields(f)).toMatchObject({ volAnnualPct: { ETH: 80, BTC: 80 }, varModel: 'prior-normal', riskBasis: 'prior' });
  });
});

describe('EWMA covariance', () => {
  it('converges on seeded correlated returns and equals the batch ewmaCovariance exactly', () => {
    const rng = createRng(42);
    const cols: number[][] = [[], []];
    const cov = createOnlineCovariance(2, { lambda: 0.999, seedCount: 30 });
    for (let t = 0; t < 20_000; t++) {
      const z1 = rng.normal();
      const r = [0.01 * z1, 0.02 * (0.6 * z1 + 0.8 * rng.normal())];
      cov.observe(r);
      cols[0]!.push(r[0]!);
      cols[1]!.push(r[1]!);
    }
    const s = cov.covariance!;
    const rho = s[0]![1]! / Math.sqrt(s[0]![0]! * s[1]![1]!);
    expect(Math.abs(rho - 0.6)).toBeLessThan(0.05);
    expect(Math.abs(Math.sqrt(s[0]![0]!) / 0.01 - 1)).toBeLessThan(0.05);
    expect(Math.abs(Math.sqrt(s[1]![1]!) / 0.02 - 1)).toBeLessThan(0.05);
    const batch = ewmaCovariance(cols, { lambda: 0.999, seedCount: 30 }).covariance;
    s.flat().forEach((x, i) => expect(x).toBeCloseTo(batch.flat()[i]!, 15));
  });

  it('is undefined (the prior answers) until the seed rows are in', () => {
    const cov = createOnlineCovariance(2, { lambda: 0.99, seedCount: 3 });
    cov.observe([0.01, 0.02]);
    cov.observe([0.01, 0.02]);
    expect(cov.covariance).toBeUndefined();
    cov.observe([0.01, 0.02]);
    expect(cov.covariance).toEqual([[0.0001, 0.0002], [0.0002, 0.0004]].map((r) => r.map((x) => expect.closeTo(x, 18))));
  });
});

describe('sampling', () => {
  it('one-second readings become one return per hourly bar (the bar closes on the first reading after it)', () => {
    const sampler = createBarSampler(2, { barSec: 3600 });
    const rows = [];
    // log price rises 0.001 per hour, read every second for three hours and one second.
    for (let t = 0; t <= 3 * 3600; t++) {
      for (const i of [0, 1]) rows.push(...sampler.observe(T0 + t, i, 100 * Math.exp((0.001 * (i + 1) * t) / 3600)));
    }
    expect(rows.map((r) => r.bar - T0 / 3600)).toEqual([1, 2]);
    for (const r of rows) {
      expect(r.r[0]).toBeCloseTo(0.001, 15);
      expect(r.r[1]).toBeCloseTo(0.002, 15);
    }
  });

  it('a silence longer than two bars breaks the chain: no return spans it', () => {
    const sampler = createBarSampler(1, { barSec: 3600 });
    const at = (h: number, p: number) => sampler.observe(T0 + h * 3600 + 10, 0, p);
    const rs = (rows: { r: number[] }[]) => rows.map((r) => r.r[0]);
    expect([...at(0, 100), ...at(1, 110)]).toEqual([]); // bar 0 closes: a first close, no return yet
    expect(rs(at(2, 121))).toEqual([Math.log(110 / 100)]);
    // Bars 3-5 silent (keeper down): bar 2 still closes on its own reading, then the chain breaks.
    expect(rs(at(6, 200))).toEqual([Math.log(121 / 110)]);
    expect(at(7, 220)).toEqual([]); // no return from 121 to 200 across the gap
    expect(rs(at(8, 242))).toEqual([Math.log(220 / 200)]);
  });

  it('the engine keeps a changed price at most once a minute and fills no more than one return per hour', async () => {
    const rec = awaitable(portfolioPriceRecords(mkdtempSync(join(tmpdir(), 'prisk-')), [{ id: 'ETH' }])['ETH']!);
    const risk = createPortfolioRisk({ assets, record: { ETH: rec } });
    let last: PortfolioRiskFigures | undefined;
    for (let t = 0; t <= 3 * 3600; t++) {
      const s = snap(T0 + t, 2000 * Math.exp(t / 3.6e6), 60_000);
      last = risk.figures(s, assess(s, { ETH: 1000, BTC: 0 }));
    }
    await rec.settled();
    expect(rec.appends).toBe(3 * 60 + 1);
    expect(last!.bars).toBe(2);
  });
});

describe('model ladder and persistence', () => {
  it('prior, then ewma-normal after 30 hourly returns, then the default model (fhs-ewma) after 30 days', () => {
    const risk = createPortfolioRisk({ assets });
    const seen = new Map<string, number>();
    let f: PortfolioRiskFigures | undefined;
    for (const p of path(32 * 86_400, 600)) {
      const s = snap(p.t, p.eth, p.btc);
      f = risk.figures(s, assess(s, { ETH: 10_000, BTC: 5_000 }));
      if (!seen.has(f.varModel)) seen.set(f.varModel, f.bars);
    }
    expect([...seen.entries()]).toEqual([['prior-normal', 0], ['ewma-normal', 30], ['fhs-ewma', 31 * 24 - 1]]);
    expect(f!.varModel).toBe('fhs-ewma');
    expect(f!.var99Usd).toBe(f!.fhsVar99Usd);
    expect(f!.varBasis).toMatch(/^fhs\(prior t4, \d+ residuals\) over 31 days$/);
    // The realised vols of the path: 1%/h and 1.5%/h are 93.6% and 140%/yr.
    expect(Math.abs(f!.volAnnual['ETH']! / (0.01 * Math.sqrt(8760)) - 1)).toBeLessThan(0.2);
    expect(Math.abs(f!.correlation[0]![1]! - 0.6)).toBeLessThan(0.2);
  });

  it('a new instance reading the same record gives the same figures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prisk-'));
    const records = portfolioPriceRecords(dir, assets);
    const wrapped = { ETH: awaitable(records['ETH']!), BTC: awaitable(records['BTC']!) };
    const first = createPortfolioRisk({ assets, pools, quote: usdc, record: wrapped });
    let s = snap(T0, 2000, 60_000);
    for (const p of path(2 * 86_400, 120)) {
      s = snap(p.t, p.eth, p.btc);
      first.observe(s);
    }
    await Promise.all([wrapped.ETH.settled(), wrapped.BTC.settled()]);
    const a = assess(s, { ETH: 7_000, BTC: -3_000 });
    const before = first.figures(s, a);
    expect(before.varModel).toBe('ewma-normal');
    expect(before.bars).toBe(2 * 24 - 1);
    const second = createPortfolioRisk({ assets, pools, quote: usdc, record: portfolioPriceRecords(dir, assets) });
    await second.load();
    expect(second.figures(s, a)).toEqual(before);
  });
});

describe('LP gamma', () => {
  // WETH (token0, 18) / USDC (token1, 6) at $2,000: raw price 2e-9, tick ≈ -200,311; ±10%.
  const ethLp: LpHolding = {
    pool: 'weth-usdc', tokenId: 1n, liquidity: 10n ** 15n, tickLower: -201_300, tickUpper: -199_300, inRange: true, amount0: 0n, amount1: 0n, fees0: 0n, fees1: 0n,
  };
  const prices = { ETH: 2000n * 10n ** 8n, BTC: 60_000n * 10n ** 8n };

  it('an in-range LP is short gamma: its diagonal is Γ S² of lpGammaBasePerUsd, negative', () => {
    const g = lpGammaMatrixUsd(assets, pools, usdc, [ethLp], prices, 10n ** 8n)!;
    const gammaEthPerUsd = lpGammaBasePerUsd([{ ...ethLp, baseIsToken0: true, amountBaseWei: 0n, amountQuoteUnits: 0n, feesBaseWei: 0n, feesQuoteUnits: 0n }], prices.ETH, 18, 6);
    expect(gammaEthPerUsd).toBeLessThan(0);
    expect(g[0]![0]).toBe(gammaEthPerUsd * 2000 * 2000);
    expect([g[0]![1], g[1]![0], g[1]![1]]).toEqual([0, 0, 0]);
    expect(lpGammaMatrixUsd(assets, pools, usdc, [{ ...ethLp, inRange: false }], prices, 10n ** 8n)).toBeNull();
  });

  it('a WBTC/WETH LP couples the two assets: its gamma is in their relative price', () => {
    // Raw WETH per raw WBTC = 30 × 1e18 / 1e8 = 3e11: tick ≈ 264,283.
    const btcLp: LpHolding = { ...ethLp, pool: 'wbtc-weth', tickLower: 263_300, tickUpper: 265_300 };
    const g = lpGammaMatrixUsd(assets, pools, usdc, [btcLp], prices, 10n ** 8n)!;
    expect(g[1]![1]).toBeLessThan(0);
    expect(g[0]![0]).toBe(g[1]![1]);
    expect(g[0]![1]).toBe(-g[1]![1]!);
    // Both assets moving together leave the relative price, and so the gamma P&L, at zero.
    const r = [0.05, 0.05];
    expect(r[0]! * r[0]! * g[0]![0]! + 2 * r[0]! * r[1]! * g[0]![1]! + r[1]! * r[1]! * g[1]![1]!).toBe(0);
  });

  it('short gamma adds to the VaR: a delta-neutral LP still loses, and a delta adds more than alone', () => {
    const g = lpGammaMatrixUsd(assets, pools, usdc, [ethLp], prices, 10n ** 8n)!;
    const cov = uniformCovariance([0.04, 0.04], 0.7);
    const z = normalScenarios(2);
    const neutral = deltaGammaNormalVar([0, 0], g, cov, 0.99, z);
    expect(neutral.varUsd).toBeGreaterThan(0);
    expect(neutral.esUsd).toBeGreaterThan(neutral.varUsd);
    // Loss of a pure short-gamma book at the 99% quantile: -½ G σ² z² with |z| = Φ⁻¹(0.995), two-sided (within the simulation's noise).
    const exact = -0.5 * g[0]![0]! * 0.04 ** 2 * normQuantile(0.995) ** 2;
    expect(Math.abs(neutral.varUsd / exact - 1)).toBeLessThan(0.05);
    const linear = deltaGammaNormalVar([5_000, 0], null, cov, 0.99, z);
    const both = deltaGammaNormalVar([5_000, 0], g, cov, 0.99, z);
    expect(both.varUsd).toBeGreaterThan(linear.varUsd);
    // The FHS revalues each day with the same quadratic: a delta-neutral book has risk only through its gamma.
    const days = dailyRows(Array.from({ length: 40 * 24 }, (_, h) => ({ bar: h, r: [0.01 * Math.sin(h * 1.7), 0.01 * Math.cos(h * 0.9)] })), 3600);
    expect(days).toHaveLength(40);
    expect(fhsPortfolioVar(days, [0, 0], null, 0.99)!.varReturn).toBe(0);
    expect(fhsPortfolioVar(days, [0, 0], g, 0.99)!.varReturn).toBeGreaterThan(0);
    // Out of range the engine's figures are linear again.
    const risk = createPortfolioRisk({ assets, pools, quote: usdc });
    const s = snap(T0, 2000, 60_000, [ethLp]);
    expect(risk.figures(s, assess(s, { ETH: 0, BTC: 0 })).var99Usd).toBeGreaterThan(0);
    expect(risk.figures(snap(T0, 2000, 60_000, [{ ...ethLp, inRange: false }]), assess(s, { ETH: 0, BTC: 0 })).var99Usd).toBe(0);
  });
});
