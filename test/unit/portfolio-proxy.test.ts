import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config-reader.js';
import { assessPortfolio } from '../../src/core/portfolio/assess.js';
import { initialPortfolioPolicyState, planPortfolio } from '../../src/core/portfolio/plan.js';
import { describeProxyHedge, priorRiskCovariance, proxyTargetUnits, type RiskCovariance } from '../../src/core/portfolio/proxy.js';
import { varLimitTrades } from '../../src/core/portfolio/var-limit.js';
import { normQuantile } from '../../src/core/risk/normal.js';
import { linearNormalVar } from '../../src/core/risk/portfolio-var.js';
import { parsePortfolioYaml } from '../../src/portfolio/file.js';
import type { AssetPolicy, AssetSpec, Portfolio } from '../../src/portfolio/model.js';
import {
  BTC, BTC_PRICE, E18, ETH, ETH_PRICE, NOW, USD, btcPolicy, btcSpec, ethPolicy, ethSpec, modelOf, portfolio, snapshot, stubAccount,
} from '../helpers/portfolio-stubs.js';

/**
 * Proxy hedging (issue 12, item 2) and the portfolio VaR limit (item 3), pure: a STETH-like asset
 * (18 decimals, no instrument) hedged on ETH's (and BTC's) instruments with h* = Σ_HH⁻¹ Σ_HS, and
 * the greedy VaR-per-dollar rebalance on a synthetic covariance.
 */

const STETH = 10n ** 18n;
const STETH_PRICE = 1_900n * 10n ** 8n;
const Z99 = normQuantile(0.99);
const stethSpec: AssetSpec = { id: 'STETH', token: `0x${'5'.repeat(40)}`, decimals: 18, feed: `0x${'6'.repeat(40)}`, heartbeatSec: 3600, wrapsNative: false };
const proxyPolicy = (proxy: string[], hedgeRatioE18 = E18): AssetPolicy => ({
  hedgeRatioE18, bandUnits: 0n, bandPctE18: 0n, hysteresisE18: 0n, minTradeUnits: 0n, maxTradeUnits: 0n, maxNotionalPerDayUsdE8: 0n, proxy,
});
const BIG = 10_000_000n * USD;

function proxied(proxy: string[], over: Partial<Portfolio['policy']> = {}): Portfolio {
  return portfolio({
    assets: [ethSpec, btcSpec, stethSpec],
    policyOver: { assets: { ETH: ethPolicy, BTC: btcPolicy, STETH: proxyPolicy(proxy) }, ...over },
  });
}

/** 6 ETH hedged -6 (at its own target), no BTC, 10 STETH in the wallet. */
function assess(p: Portfolio, covariance?: RiskCovariance, steth = 10n * STETH) {
  const s = snapshot({
    prices: { ...snapshot().prices, STETH: { priceE8: STETH_PRICE, updatedAtSec: BigInt(NOW) } },
    wallet: { nativeWei: 0n, balances: { ETH: 6n * ETH, BTC: 0n, STETH: steth, USDC: 0n } },
    venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: BIG, BTC: BIG }), beta: stubAccount('beta', {}, { ETH: BIG }) },
  });
  return assessPortfolio(p, s, modelOf, covariance ? { covariance } : {});
}

const cov = (m: number[][]): RiskCovariance => ({ assets: ['ETH', 'BTC', 'STETH'], dailyCovariance: m, source: 'ewma' });

describe('proxy hedge: h* = Σ_HH⁻¹ Σ_HS added to the proxies\' targets', () => {
  it('one proxy, exact: Σ_HH 4, Σ_HS 2, Σ_SS 4 -> h = ρ σ_S/σ_H = 0.5, residual σ_S²(1-ρ²) = 3 per USD²', () => {
    const a = assess(proxied(['ETH']), cov([[4, 0, 2], [0, 1, 0], [2, 0, 4]]));
    const h = a.proxies![0]!;
    expect(h.legs.map((l) => [l.asset, l.ratio, l.ratioE18])).toEqual([['ETH', 0.5, 5n * 10n ** 17n]]);
    // 10 STETH × 0.5 × 1900 / 2000 = 4.75 ETH more short, to the wei.
    expect(h.legs[0]!.targetUnits).toBe(-4_750_000_000_000_000_000n);
    const eth = a.assets.find((x) => x.asset === 'ETH')!;
    expect(eth.targetHedgeUnits).toBe(-6n * ETH - 4_750_000_000_000_000_000n);
    expect(eth.proxyTargetUnits).toBe(-4_750_000_000_000_000_000n);
    expect(eth.proxyFor).toEqual(['STETH']);
    expect(eth.deviationUnits).toBe(4_750_000_000_000_000_000n);
    // The proxied asset: own target 0, nothing to trade on it.
    const st = a.assets.find((x) => x.asset === 'STETH')!;
    expect([st.targetHedgeUnits, st.deviationUnits, st.inBand, st.proxied]).toEqual([0n, 0n, true, true]);
    expect(h.exposureUsd).toBe(19_000);
    expect(h.residualVarianceUsd2).toBe(19_000 * 19_000 * 3);
    expect(h.unhedgedVarianceUsd2).toBe(19_000 * 19_000 * 4);
    expect(h.residualVar99Usd).toBe(Z99 * Math.sqrt(19_000 * 19_000 * 3));
    expect(describeProxyHedge(h)).toBe(`STETH by proxy: ETH h*=0.5000; residual 1-day 99% VaR $${(Z99 * 19_000 * Math.sqrt(3)).toFixed(2)} (ewma covariance)`);
  });

  it('hedgeRatio 0.5: half the shift, and the residual of the half-hedged position, σ_S² - (2·0.5 - 0.25) h Σ_HS', () => {
    const p = portfolio({
      assets: [ethSpec, btcSpec, stethSpec],
      policyOver: { assets: { ETH: ethPolicy, BTC: btcPolicy, STETH: proxyPolicy(['ETH'], E18 / 2n) } },
    });
    const h = assess(p, cov([[4, 0, 2], [0, 1, 0], [2, 0, 4]])).proxies![0]!;
    expect(h.legs[0]!.targetUnits).toBe(-2_375_000_000_000_000_000n);
    expect(h.exposureUsd).toBe(9_500);
    expect(h.residualVarianceUsd2).toBe(19_000 * 19_000 * 3.25);
  });

  it('one proxy, realistic: σ_S 3%/day, σ_H 4%/day, ρ 0.8 -> h = 0.6, residual σ_S²(1-ρ²)', () => {
    const sS = 0.03;
    const sH = 0.04;
    const rho = 0.8;
    const a = assess(proxied(['ETH']), cov([[sH * sH, 0, rho * sS * sH], [0, 1e-4, 0], [rho * sS * sH, 0, sS * sS]]));
    const h = a.proxies![0]!;
    const leg = h.legs[0]!;
    expect(leg.ratio).toBeCloseTo((rho * sS) / sH, 14);
    expect(leg.ratioE18).toBe(BigInt(Math.round(leg.ratio * 1e18)));
    // The target shift is the documented one-division formula on ratioE18, to the wei...
    const shift = (-10n * STETH * leg.ratioE18 * STETH_PRICE * ETH) / (E18 * ETH_PRICE * STETH);
    expect(leg.targetUnits).toBe(shift);
    expect(proxyTargetUnits(-10n * STETH, { priceE8: STETH_PRICE, decimals: 18 }, leg.ratioE18, { priceE8: ETH_PRICE, decimals: 18 })).toBe(shift);
    expect(a.assets.find((x) => x.asset === 'ETH')!.targetHedgeUnits).toBe(-6n * ETH + shift);
    // ...which is 10 × 0.6 × 1900/2000 = 5.7 ETH within the float's last bits.
    expect(Math.abs(Number(shift + 5_700_000_000_000_000_000n))).toBeLessThan(1e4);
    expect(h.residualVarianceUsd2).toBeCloseTo(19_000 ** 2 * sS * sS * (1 - rho * rho), 6);
  });

  it('two proxies (ETH 18 decimals, BTC 8): solved by hand, h = (5/6, -1/6), residual Σ_SS - 7/3', () => {
    // Σ_HH = [[4,2],[2,4]], Σ_HS = (3, 1): 4a + 2b = 3, 2a + 4b = 1 -> a = 5/6, b = -1/6.
    const a = assess(proxied(['ETH', 'BTC']), cov([[4, 2, 3], [2, 4, 1], [3, 1, 4]]));
    const h = a.proxies![0]!;
    expect(h.legs.map((l) => l.asset)).toEqual(['ETH', 'BTC']);
    expect(h.legs[0]!.ratio).toBeCloseTo(5 / 6, 14);
    expect(h.legs[1]!.ratio).toBeCloseTo(-1 / 6, 14);
    const [eth, btc] = h.legs.map((l) => l.ratioE18) as [bigint, bigint];
    const ethShift = (-10n * STETH * eth * STETH_PRICE * ETH) / (E18 * ETH_PRICE * STETH);
    const btcShift = (-10n * STETH * btc * STETH_PRICE * BTC) / (E18 * BTC_PRICE * STETH);
    expect(btcShift).toBeGreaterThan(0n); // a negative ratio: long BTC
    expect(btcShift).toBe(5_277_777n); // 10 × 1/6 × 1900 / 60000 BTC = 0.0527777.. BTC, truncated
    expect(a.assets.find((x) => x.asset === 'ETH')!.targetHedgeUnits).toBe(-6n * ETH + ethShift);
    expect(a.assets.find((x) => x.asset === 'BTC')!.targetHedgeUnits).toBe(btcShift);
    expect(h.residualVarianceUsd2 / 19_000 ** 2).toBeCloseTo(4 - 7 / 3, 12);
  });

  it('no covariance handed in: the risk engine\'s prior (equal vols, ρ 0.7) gives h = 0.7', () => {
    const a = assess(proxied(['ETH']));
    const h = a.proxies![0]!;
    expect(h.source).toBe('prior');
    expect(h.legs[0]!.ratio).toBeCloseTo(0.7, 14);
    expect(priorRiskCovariance(['ETH', 'STETH']).dailyCovariance[0]![1]).toBeCloseTo(0.7 * 0.8 ** 2 / 365, 16);
    expect(h.residualVarianceUsd2).toBeCloseTo(19_000 ** 2 * (0.8 ** 2 / 365) * (1 - 0.49), 4);
  });

  it('the planner hedges the proxy exposure on ETH\'s instrument and says why; nothing is planned for STETH itself', () => {
    const p = proxied(['ETH']);
    const a = assess(p, cov([[4, 0, 2], [0, 1, 0], [2, 0, 4]]));
    const r = planPortfolio(a, initialPortfolioPolicyState(), p, NOW, { modelOf });
    // Deviation 4.75 outside band 0.5: back to 0.25 (hysteresis 50%) -> sell 4.5 ETH.
    expect(r.actions.map((x) => (x.kind === 'adjustHedge' ? [x.instrument, x.sizeDeltaUnits] : x.kind))).toEqual([['eth-alpha', -4_500_000_000_000_000_000n]]);
    expect((r.actions[0] as { reason: string }).reason).toContain('of which -4.750000 ETH hedges STETH by proxy');
    expect(r.proxies).toBe(a.proxies);
  });

  it('a doubted STETH price holds the ETH trade its proxy hedge sized', () => {
    const p = proxied(['ETH']);
    const a = assess(p, cov([[4, 0, 2], [0, 1, 0], [2, 0, 4]]));
    const r = planPortfolio(a, { ...initialPortfolioPolicyState(), safeAssets: { STETH: 'feed stale' } }, p, NOW, { modelOf });
    expect(r.actions).toEqual([]);
    expect(r.skipped).toEqual([expect.stringMatching(/^STETH in safe mode \(feed stale\): hedge sell 4\.500000 ETH not placed/)]);
  });
});

describe('portfolio VaR limit: greedy VaR removed per dollar traded', () => {
  // ETH: 6 spot, -5 hedge (net +1 ETH = $2,000); BTC: 0.1 spot, no hedge (net $6,000). Wide bands: both in band.
  const wide = (over: Partial<Portfolio['policy']> = {}) => portfolio({
    policyOver: { assets: { ETH: { ...ethPolicy, bandUnits: 10n * ETH }, BTC: { ...btcPolicy, bandUnits: BTC } }, ...over },
  });
  const s = snapshot({
    wallet: { nativeWei: 0n, balances: { ETH: 6n * ETH, BTC: BTC / 10n, USDC: 0n } },
    venues: { alpha: stubAccount('alpha', { ETH: -5n * ETH }, { ETH: BIG, BTC: BIG }), beta: stubAccount('beta', {}, { ETH: BIG }) },
  });
  // Daily variances 0.0025 (ETH) and 0.0016 (BTC), uncorrelated: VaR = z sqrt(2000² 0.0025 + 6000² 0.0016) = z × 260.
  const covariance: RiskCovariance = { assets: ['ETH', 'BTC'], dailyCovariance: [[0.0025, 0], [0, 0.0016]], source: 'ewma' };
  const risk = { covariance, deltaUsd: [2_000, 6_000], gammaUsd: null, var99Usd: Z99 * 260 };

  it('trades BTC first (more VaR per dollar), then ETH, in quarters of each deviation, until under the limit', () => {
    const p = wide({ varLimitUsdE8: 300n * 10n ** 8n });
    const a = assessPortfolio(p, s, modelOf);
    expect(a.assets.map((x) => x.inBand)).toEqual([true, true]);
    const d = varLimitTrades({ assessment: a, portfolio: p, risk, limitUsd: 300 })!;
    // By hand (σ of w = (ETH $, BTC $)): (2000,6000) 260 -> BTC (2000,4500) 205.9 -> BTC (2000,3000) 156.2
    // -> ETH (1500,3000) 141.5 [per $ 0.0294 z vs BTC's 0.0264] -> BTC (1500,1500) 96.0 = z × 96.05 = 223.44 < 300.
    expect(d.trades.map((t) => [t.asset, t.units])).toEqual([['BTC', -7_500_000n], ['ETH', -250_000_000_000_000_000n]]);
    expect(d.varAfterUsd).toBeCloseTo(linearNormalVar([1_500, 1_500], covariance.dailyCovariance, 0.99).varUsd, 9);
    expect(d.varBeforeUsd).toBe(Z99 * 260);
    expect(d.reachable).toBe(true);

    const r = planPortfolio(a, initialPortfolioPolicyState(), p, NOW, { modelOf, risk });
    expect(r.actions.map((x) => (x.kind === 'adjustHedge' ? [x.instrument, x.sizeDeltaUnits] : x.kind))).toEqual([
      ['btc-alpha', -7_500_000n], ['eth-alpha', -250_000_000_000_000_000n],
    ]);
    expect((r.actions[0] as { reason: string }).reason).toMatch(
      /^portfolio VaR \$604\.85 above the limit \$300\.00: BTC removes \$347\.23 of VaR for \$4500\.00 traded \(VaR to \$223\.44\): sell 0\.075000 BTC on btc-alpha/,
    );
    expect(r.varLimit).toEqual(d);
    expect(r.state.lastHedgeAtSecByAsset).toEqual({ BTC: NOW, ETH: NOW });
  });

  it('after the FHS model warms up: its reported VaR scales the normal model, so the limit is met on the reported scale', () => {
    const p = wide({ varLimitUsdE8: 600n * 10n ** 8n });
    const a = assessPortfolio(p, s, modelOf);
    // Reported (FHS) VaR twice the normal one: $1209.70 over $600 needs what $300 needed on the normal scale.
    const d = varLimitTrades({ assessment: a, portfolio: p, risk: { ...risk, var99Usd: 2 * Z99 * 260 }, limitUsd: 600 })!;
    expect(d.trades.map((t) => [t.asset, t.units])).toEqual([['BTC', -7_500_000n], ['ETH', -250_000_000_000_000_000n]]);
    expect(d.varAfterUsd).toBeCloseTo(2 * linearNormalVar([1_500, 1_500], covariance.dailyCovariance, 0.99).varUsd, 9);
  });

  it('band trades planned this tick count first: an asset already traded takes no VaR trade', () => {
    const p = wide({ varLimitUsdE8: 300n * 10n ** 8n });
    const a = assessPortfolio(p, s, modelOf);
    // BTC already brought to its target by a band trade: the VaR is z × 50 × ... ETH's alone, then ETH trades.
    const d = varLimitTrades({ assessment: a, portfolio: p, risk, limitUsd: 100, plannedUnits: { BTC: -BTC / 10n }, excluded: new Set(['BTC']) })!;
    expect(d.varBeforeUsd).toBeCloseTo(Z99 * 100, 9); // $2,000 × 5%
    expect(d.trades.map((t) => [t.asset, t.units])).toEqual([['ETH', -750_000_000_000_000_000n]]); // z × 25 = 58.2 < 100
    expect(d.varAfterUsd).toBeCloseTo(Z99 * 25, 9);
  });

  it('a limit above the VaR, no limit, or no risk figures: nothing', () => {
    const under = wide({ varLimitUsdE8: 700n * 10n ** 8n });
    expect(planPortfolio(assessPortfolio(under, s, modelOf), initialPortfolioPolicyState(), under, NOW, { modelOf, risk }).actions).toEqual([]);
    const none = wide();
    expect(planPortfolio(assessPortfolio(none, s, modelOf), initialPortfolioPolicyState(), none, NOW, { modelOf, risk }).actions).toEqual([]);
    const limited = wide({ varLimitUsdE8: 300n * 10n ** 8n });
    expect(planPortfolio(assessPortfolio(limited, s, modelOf), initialPortfolioPolicyState(), limited, NOW, { modelOf }).actions).toEqual([]);
  });

  it('out of candidates: trades everything toward target and says the limit is still exceeded', () => {
    const p = wide({ varLimitUsdE8: 10n * 10n ** 8n });
    const r = planPortfolio(assessPortfolio(p, s, modelOf), initialPortfolioPolicyState(), p, NOW, { modelOf, risk });
    // Both all the way to their targets: net 0, VaR 0 ≤ 10... reachable after all.
    expect(r.actions.map((x) => (x.kind === 'adjustHedge' ? [x.instrument, x.sizeDeltaUnits] : x.kind))).toEqual([
      ['btc-alpha', -10_000_000n], ['eth-alpha', -ETH],
    ]);
    expect(r.varLimit?.varAfterUsd).toBe(0);
    // A residual no instrument can touch (BTC unhedgeable here: no BTC instrument) stays above it.
    const noBtc = wide({ varLimitUsdE8: 10n * 10n ** 8n });
    const q = { ...noBtc, instruments: noBtc.instruments.filter((i) => i.asset !== 'BTC') };
    const r2 = planPortfolio(assessPortfolio(q, s, modelOf), initialPortfolioPolicyState(), q, NOW, { modelOf, risk });
    expect(r2.actions.map((x) => (x.kind === 'adjustHedge' ? [x.instrument, x.sizeDeltaUnits] : x.kind))).toEqual([['eth-alpha', -ETH]]);
    expect((r2.actions[0] as { reason: string }).reason).toContain('still above the limit: no other trade lowers it');
    expect(r2.varLimit?.varAfterUsd).toBeCloseTo(Z99 * 240, 9);
    // ETH already at its target: nothing left to trade, and the plan says so.
    const atTarget = snapshot({ ...s, venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: BIG }), beta: stubAccount('beta', {}, { ETH: BIG }) } });
    const r3 = planPortfolio(assessPortfolio(q, atTarget, modelOf), initialPortfolioPolicyState(), q, NOW, { modelOf, risk: { ...risk, deltaUsd: [0, 6_000], var99Usd: Z99 * 240 } });
    expect(r3.actions).toEqual([]);
    expect(r3.skipped).toEqual(['portfolio VaR $558.32 above the limit $10.00: no trade toward any asset\'s target lowers it']);
  });
});

describe('keeper.yaml: proxy and varLimitUsd', () => {
  const EXAMPLE = readFileSync(new URL('../../keeper.example.yaml', import.meta.url), 'utf8');
  const edit = (y: string, from: string, to: string) => {
    if (!y.includes(from)) throw new Error(`no ${from}`);
    return y.replace(from, to);
  };
  const withSteth = (policy: string) =>
    edit(
      edit(EXAMPLE, '    heartbeat: 3600\n\n', `    heartbeat: 3600\n  STETH:\n    token: 0x${'5'.repeat(40)}\n    decimals: 18\n    feed: 0x${'6'.repeat(40)}\n\n`),
      '      maxNotionalPerDayUsd: 500000\n', `      maxNotionalPerDayUsd: 500000\n    STETH: ${policy}\n`,
    );
  const problems = (text: string): readonly string[] => {
    try {
      parsePortfolioYaml(text, 'keeper.yaml');
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };

  it('parses a proxied asset and the VaR limit', () => {
    const p = parsePortfolioYaml(edit(withSteth('{ proxy: [ETH, BTC], hedgeRatio: 0.8 }'), '  includeNative: false', '  varLimitUsd: 5000.5\n  includeNative: false'), 'keeper.yaml');
    expect(p.policy.assets['STETH']).toMatchObject({ proxy: ['ETH', 'BTC'], hedgeRatioE18: 8n * 10n ** 17n, bandUnits: 0n });
    expect(p.policy.varLimitUsdE8).toBe(500_050_000_000n);
    expect(parsePortfolioYaml(EXAMPLE, 'keeper.yaml').policy.varLimitUsdE8).toBeUndefined();
  });

  it.each([
    ['{ proxy: [LINK] }', 'keeper.yaml: policy.assets.STETH.proxy[0]: no asset "LINK" is declared'],
    ['{ proxy: [STETH] }', 'keeper.yaml: policy.assets.STETH.proxy[0]: STETH cannot be its own proxy'],
    ['{ proxy: [] }', 'keeper.yaml: policy.assets.STETH.proxy: expected a non-empty list of asset names'],
    ['{ proxy: [ETH], band: 1 }', 'keeper.yaml: policy.assets.STETH.band: unknown key (expected one of proxy, hedgeRatio)'],
  ])('refuses %s', (policy, problem) => {
    expect(problems(withSteth(policy))).toContainEqual(expect.stringContaining(problem));
  });

  it('refuses a proxy with no instrument, and a proxied asset that has one', () => {
    const noInst = edit(withSteth('{ proxy: [ETH] }'), '  - { venue: perp, asset: ETH, priority: 1, weight: 1, maxSize: 100 }\n  - { venue: aave, asset: ETH, priority: 2 }\n', '');
    expect(problems(noInst)).toContainEqual('keeper.yaml: policy.assets.STETH.proxy[0]: ETH has no instrument to carry the hedge');
    const both = edit(withSteth('{ proxy: [ETH] }'), '  - { venue: aave, asset: BTC', '  - { venue: perp, asset: STETH }\n  - { venue: aave, asset: BTC');
    expect(problems(both)).toContainEqual(expect.stringContaining('policy.assets.STETH.proxy: STETH has an instrument (instruments[2]); an asset is hedged by its instruments or by proxy, not both'));
  });
});
