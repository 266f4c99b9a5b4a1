import { describe, expect, it } from 'vitest';
import { erc20Abi } from 'viem';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { DEMO_SOL_UNITS, DEVNET_SOL_PRICE_E8, SOL_DECIMALS } from '../../src/devnet/deploy-portfolio.js';
import { normQuantile } from '../../src/core/risk/normal.js';
import type { PortfolioSnapshot } from '../../src/portfolio/model.js';
import type { PortfolioTickResult } from '../../src/runner/portfolio-tick.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';
import { devnetSol, mintUsdc, send, setListedPrice, yamlReplaceLine as replaceLine } from '../helpers/third-asset.js';

/**
 * Issue 12, items 2 and 3 on the devnet. The devnet's SOL (9 decimals, its own feed, a pool with
 * USDC, no hedge instrument) is held by the multi-asset demo, and the demo keeper.yaml hedges it
 * by proxy through ETH. The keeper's risk engine is given an hourly history in which SOL follows
 * ETH (ρ ≈ 0.95, not 1), so its covariance is an EWMA one, not the prior; a SOL move is then
 * hedged on ETH's perp by exactly the minimum-variance amount computed here from that
 * covariance, and the residual it reports is the model's. Then a portfolio VaR limit triggers a
 * rebalance with every asset inside its band.
 */

const E8 = 10n ** 8n;
const E18 = 10n ** 18n;
const USDC = 10n ** 6n;
const ETH_USD = 2_000n * E8;
const BTC_USD = 60_000n * E8;
const SOL_USD = DEVNET_SOL_PRICE_E8;
const SOL_UNIT = 10n ** BigInt(SOL_DECIMALS);
const HELD = DEMO_SOL_UNITS;
const EXTRA_PERP_MARGIN = 20_000n * USDC;
const Z99 = normQuantile(0.99);

/** Room on the perp for the proxy short at its target ratio (a hedge increase never needs a top-up). */
async function extraPerpMargin(d: Devnet): Promise<void> {
  const a = d.addresses;
  const demo = d.as('portfolioDemo');
  await mintUsdc(d, d.address('portfolioDemo'), EXTRA_PERP_MARGIN);
  await send(demo, 'approve', { address: a.usdc, abi: erc20Abi, functionName: 'approve', args: [a.perp, EXTRA_PERP_MARGIN] });
  await send(demo, 'perp deposit ETH', { address: a.perp, abi: perpExchangeAbi, functionName: 'deposit', args: [BigInt(a.perpMarketId), EXTRA_PERP_MARGIN] });
}

/** keeper.yaml: the demo's (SOL by proxy already declared); ETH's band tightened to 0.1 so a 3% SOL move breaches it. */
const tightEth = (y: string) =>
  replaceLine(y, /^    ETH: \{ hedgeRatio.*$/m, '    ETH: { hedgeRatio: 1, band: 0.1, bandPct: 0, hysteresis: 0.5, minTrade: 0.01, maxTrade: 50, maxNotionalPerDayUsd: 10000000 }');

/**
 * 48 hourly readings ending an hour before `s`, at today's prices: ETH a fixed pseudo-random walk
 * (~1%/h), SOL = 0.9 × ETH's return + its own noise, BTC half of ETH's plus noise. Fed to the
 * keeper's own risk engine, as its price record would be replayed after a restart.
 */
function history(s: PortfolioSnapshot): PortfolioSnapshot[] {
  let seed = 12345;
  const u = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const n = 48;
  const cum = { ETH: [0], BTC: [0], SOL: [0] };
  for (let k = 1; k < n; k++) {
    const e = 0.03 * u();
    cum.ETH.push(cum.ETH[k - 1]! + e);
    cum.SOL.push(cum.SOL[k - 1]! + 0.9 * e + 0.01 * u());
    cum.BTC.push(cum.BTC[k - 1]! + 0.5 * e + 0.02 * u());
  }
  const t0 = s.blockTimestampSec - BigInt(n) * 3_600n;
  return Array.from({ length: n }, (_, k) => {
    const t = t0 + BigInt(k) * 3_600n;
    const at = (id: 'ETH' | 'BTC' | 'SOL') => {
      const p = s.prices[id]!.priceE8;
      return { priceE8: BigInt(Math.round(Number(p) * Math.exp(cum[id][k]! - cum[id][n - 1]!))), updatedAtSec: t };
    };
    return { ...s, blockTimestampSec: t, prices: { ETH: at('ETH'), BTC: at('BTC'), SOL: at('SOL') } };
  });
}

const perpEthSize = async (d: Devnet) =>
  (await d.as('portfolioDemo').publicClient.readContract({
    address: d.addresses.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [d.address('portfolioDemo'), BigInt(d.addresses.perpMarketId)],
  })).sizeWei;
const plannedOn = (r: PortfolioTickResult, instrument: string) =>
  r.plan.actions.reduce((s, a) => s + (a.kind === 'adjustHedge' && a.instrument === instrument ? a.sizeDeltaUnits : 0n), 0n);

/**
 * The test's own prediction from the covariance the keeper used: one proxy, so h = Σ_HS/Σ_HH
 * (= ρ σ_S/σ_H); ETH's target moves by -hedgeRatio × SOL × h × P_S/P_H (the keeper's formula on
 * its reported round(h × 1e18), one division); the residual's VaR is z σ_S sqrt(1 - ρ²) × exposure.
 */
function expectProxyHedge(r: PortfolioTickResult, solPriceE8: bigint): void {
  const c = r.covariance!;
  expect(c.source).toBe('ewma');
  expect(c.assets).toEqual(['ETH', 'BTC', 'SOL']);
  const [sHH, sHS, sSS] = [c.dailyCovariance[0]![0]!, c.dailyCovariance[0]![2]!, c.dailyCovariance[2]![2]!];
  const rho = sHS / Math.sqrt(sHH * sSS);
  expect(rho).toBeGreaterThan(0.8);
  expect(rho).toBeLessThan(0.99); // correlated, not equal
  const h = (rho * Math.sqrt(sSS)) / Math.sqrt(sHH);
  const proxy = r.assessment.proxies![0]!;
  const leg = proxy.legs[0]!;
  expect(leg.asset).toBe('ETH');
  expect(leg.ratio).toBeCloseTo(h, 12);
  expect(leg.ratioE18).toBe(BigInt(Math.round(leg.ratio * 1e18)));
  // proxy.ts proxyTargetUnits: SOL units × h × P_SOL × 10^18 (ETH) / (1e18 × P_ETH × 10^9 (SOL)).
  const shift = (-HELD * leg.ratioE18 * solPriceE8 * E18) / (E18 * ETH_USD * SOL_UNIT);
  const eth = r.assessment.assets.find((x) => x.asset === 'ETH')!;
  expect(eth.proxyTargetUnits).toBe(shift);
  expect(eth.targetHedgeUnits).toBe(-eth.spotUnits + shift);
  const sol = r.assessment.assets.find((x) => x.asset === 'SOL')!;
  expect([sol.spotUnits, sol.targetHedgeUnits, sol.hedgeUnits, sol.inBand]).toEqual([HELD, 0n, 0n, true]);
  const exposureUsd = Number((HELD * solPriceE8) / SOL_UNIT) / 1e8;
  expect(proxy.exposureUsd).toBe(exposureUsd);
  expect(proxy.residualVar99Usd).toBeCloseTo(Z99 * exposureUsd * Math.sqrt(sSS * (1 - rho * rho)), 6);
  expect(r.plan.proxies).toBe(r.assessment.proxies);
}

describe('proxy hedging and the portfolio VaR limit on the devnet', () => {
  const devnet = useDevnet();

  it('the devnet\'s SOL, with no instrument, is hedged through ETH\'s perp by h* = Σ_HH⁻¹Σ_HS, and a SOL move is re-hedged by exactly the planned amount', async () => {
    const d = devnet();
    const l = devnetSol(d);
    await extraPerpMargin(d);
    const { keeper, lines } = await portfolioKeeperOn(d, { yaml: tightEth });
    for (const s of history(await keeper.reader.read())) keeper.risk.observe(s);

    const size0 = await perpEthSize(d);
    const r1 = await keeper.tickOnce();
    expect(r1.doubts).toEqual({ portfolio: null, assets: {}, venues: {} });
    expect(r1.risk?.covarianceSource).toBe('ewma');
    expectProxyHedge(r1, SOL_USD);
    expect(r1.plan.actions.map((a) => (a.kind === 'adjustHedge' ? a.instrument : a.kind))).toEqual(['perp:ETH']);
    expect((r1.plan.actions[0] as { reason: string }).reason).toMatch(/of which -\d+\.\d{6} ETH hedges SOL by proxy/);
    expect(r1.results.map((x) => x.outcome)).toEqual(['done']);
    const size1 = await perpEthSize(d);
    expect(size1 - size0).toBe(plannedOn(r1, 'perp:ETH'));
    const tick = lines().filter((x) => x['event'] === 'tick').at(-1)!;
    expect(tick['proxyHedges']).toEqual({
      SOL: { via: { ETH: Math.round(r1.assessment.proxies![0]!.legs[0]!.ratio * 1e4) / 1e4 }, residualVar99Usd: Math.round(r1.assessment.proxies![0]!.residualVar99Usd * 100) / 100, covariance: 'ewma' },
    });
    expect((await keeper.tickOnce()).plan.actions).toEqual([]);

    // SOL +3%, ETH unchanged: only the proxy part of ETH's target moves, past ETH's band.
    const moved = (SOL_USD * 103n) / 100n;
    await setListedPrice(d, l, moved);
    const r2 = await keeper.tickOnce();
    expect(r2.snapshot.prices['ETH']?.priceE8).toBe(ETH_USD);
    expect(r2.doubts).toEqual({ portfolio: null, assets: {}, venues: {} });
    expectProxyHedge(r2, moved);
    expect(r2.plan.actions.map((a) => (a.kind === 'adjustHedge' ? a.instrument : a.kind))).toEqual(['perp:ETH']);
    expect(plannedOn(r2, 'perp:ETH')).toBeLessThan(0n); // SOL worth more: more ETH short
    expect(r2.results.map((x) => x.outcome)).toEqual(['done']);
    expect((await perpEthSize(d)) - size1).toBe(plannedOn(r2, 'perp:ETH'));
    const settled = await keeper.tickOnce();
    expect(settled.assessment.assets.map((x) => [x.asset, x.inBand])).toEqual([['ETH', true], ['BTC', true], ['SOL', true]]);
    keeper.close();
  });

  it('a residual VaR above policy.varLimitUsd, with every asset in its band, triggers a rebalance that lowers it', async () => {
    const d = devnet();
    const wide = (y: string) =>
      replaceLine(
        replaceLine(y, /^    ETH: \{ hedgeRatio.*$/m, '    ETH: { hedgeRatio: 1, band: 1000, bandPct: 0, hysteresis: 0.5, minTrade: 0.01, maxTrade: 1000, maxNotionalPerDayUsd: 100000000 }'),
        /^    BTC: \{ hedgeRatio.*$/m, '    BTC: { hedgeRatio: 1, band: 100, bandPct: 0, hysteresis: 0.5, minTrade: 0.0005, maxTrade: 100, maxNotionalPerDayUsd: 100000000 }',
      );
    // ETH -6%: the LPs buy ETH, the net ETH delta grows well inside the wide band.
    await setPortfolioPrices(d, { eth: (ETH_USD * 94n) / 100n, btc: BTC_USD });
    const observer = await portfolioKeeperOn(d, { yaml: wide, dryRun: true });
    const seen = await observer.keeper.tickOnce();
    observer.keeper.close();
    expect(seen.plan.actions).toEqual([]);
    const before = seen.risk!.var99Usd;
    const limit = Math.floor(before * 0.6);
    expect(limit).toBeGreaterThan(0);

    const { keeper } = await portfolioKeeperOn(d, { yaml: (y) => wide(y).replace('  cooldown: 0', `  cooldown: 0\n  varLimitUsd: ${limit}`) });
    expect(keeper.portfolio.policy.varLimitUsdE8).toBe(BigInt(limit) * E8);
    const r = await keeper.tickOnce();
    expect(r.risk!.var99Usd).toBe(before); // same block state, same prior covariance
    expect(r.assessment.assets.every((x) => x.inBand)).toBe(true);
    expect(r.plan.varLimit).toMatchObject({ limitUsd: limit, varBeforeUsd: before });
    expect(r.plan.actions.length).toBeGreaterThan(0);
    for (const a of r.plan.actions) {
      if (a.kind === 'adjustHedge') expect(a.reason).toMatch(new RegExp(`^portfolio VaR \\$${before.toFixed(2).replace('.', '\\.')} above the limit \\$${limit}\\.00: ${a.asset} removes \\$`));
    }
    expect(r.results.every((x) => x.outcome === 'done')).toBe(true);
    const next = await keeper.tickOnce();
    const afterVar = next.risk!.var99Usd;
    expect(afterVar).toBeLessThan(before);
    // The engine's VaR after the trades is the planner's prediction, but for what the venues did
    // differently (fees, Aave's swap) and the interest accrued meanwhile.
    expect(Math.abs(afterVar - r.plan.varLimit!.varAfterUsd)).toBeLessThan(0.02 * before);
    if (r.plan.varLimit!.reachable) expect(afterVar).toBeLessThanOrEqual(limit * 1.02);
    keeper.close();
  });
});
