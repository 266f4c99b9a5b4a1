import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics, parseMetricsText, seriesKey } from '../../src/monitor/metrics.js';
import { lpGammaMatrixUsd } from '../../src/core/risk/portfolio-gamma.js';
import { deltaGammaNormalVar, normalScenarios, uniformCovariance } from '../../src/core/risk/portfolio-var.js';
import { formatPortfolioStatus } from '../../src/runner/portfolio-status.js';
import { useDevnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';

/**
 * The portfolio risk engine wired into the keeper (issue 12, item 7) on the devnet's demo
 * portfolio (ETH + BTC, LPs in WETH/USDC and WBTC/WETH, perp + Aave): the tick line, `status`
 * and /metrics carry the VaR, ES, vols, correlations and liquidation distances in sigmas.
 * A fresh devnet has no price history: the figures are the documented prior's, and say so.
 */

const E8 = 10n ** 8n;
const DAILY_PRIOR_VOL = 0.8 / Math.sqrt(365);

describe('portfolio risk on the devnet demo portfolio', () => {
  const devnet = useDevnet();

  it('the tick line, the status risk table and /metrics carry VaR, ES, vol, correlation and liquidation sigmas', async () => {
    const d = devnet();
    const metrics = createMetrics();
    const { keeper, portfolio, config, lines } = await portfolioKeeperOn(d, { telemetry: metrics });
    const r = await keeper.tickOnce();
    const risk = r.risk!;

    // The VaR is the prior's delta-gamma normal VaR of the assessed net deltas and the LPs' gamma.
    const delta = r.assessment.assets.map((x) => Number(x.netUsdE8) / 1e8);
    const gamma = lpGammaMatrixUsd(portfolio.assets, portfolio.pools, portfolio.quote, r.snapshot.lps, r.assessment.prices.pricesE8, r.assessment.prices.quotePriceE8);
    expect(gamma).not.toBeNull(); // the demo's LPs are in range: short gamma
    expect(gamma![0]![0]).toBeLessThan(0);
    const expected = deltaGammaNormalVar(delta, gamma, uniformCovariance(portfolio.assets.map(() => DAILY_PRIOR_VOL), 0.7), 0.99, normalScenarios(portfolio.assets.length));
    expect(risk.varModel).toBe('prior-normal');
    expect(risk.var99Usd).toBeCloseTo(expected.varUsd, 8); // prior per hour × 24 vs per day: rounding only
    expect(risk.es99Usd).toBeCloseTo(expected.esUsd, 8);
    expect(risk.var99Usd).toBeGreaterThan(0);

    const tick = lines().find((l) => l['event'] === 'tick')!;
    expect(tick['var99Usd']).toBe(Math.round(risk.var99Usd * 100) / 100);
    expect(tick['es99Usd']).toBe(Math.round(risk.es99Usd * 100) / 100);
    expect(tick['volAnnualPct']).toEqual({ ETH: 80, BTC: 80, SOL: 80 });
    expect(tick['varModel']).toBe('prior-normal');
    expect(tick['riskBasis']).toBe('prior');

    // Liquidation distance in daily sigmas: ln(liquidation / price) / (vol √(1 day)) for every bucket's price.
    const liqs = r.assessment.venues.flatMap((v) => v.buckets.flatMap((b) => Object.entries(b.liquidationPricesE8).map(([asset, p]) => ({ v: v.venue, b: b.asset ?? 'account', asset, p }))));
    expect(liqs.some((l) => l.p !== null)).toBe(true);
    expect(risk.liquidation.map((l) => [l.venue, l.bucket, l.asset])).toEqual(liqs.map((l) => [l.v, l.b, l.asset]));
    for (const [i, l] of liqs.entries()) {
      const px = r.assessment.prices.pricesE8[l.asset]!;
      const sigmas = risk.liquidation[i]!.sigmas;
      if (l.p === null) expect(sigmas).toBeNull();
      else expect(sigmas).toBeCloseTo(Math.log(Number(l.p) / Number(px)) / DAILY_PRIOR_VOL, 12);
    }

    const status = formatPortfolioStatus(portfolio, r.snapshot, r.assessment, r.doubts, { risk });
    expect(status).toContain('risk (PRIOR: too few hourly returns yet)');
    expect(status).toMatch(new RegExp(`1-day 99% VaR\\s+\\$${risk.var99Usd.toFixed(2)}`));
    expect(status).toMatch(new RegExp(`1-day 99% ES\\s+\\$${risk.es99Usd.toFixed(2)}`));
    expect(status).toMatch(/ETH\s+80\.0%\s+1\.00\s+0\.70/);
    expect(status).toMatch(/BTC\s+80\.0%\s+0\.70\s+1\.00/);
    const perpEth = risk.liquidation.find((l) => l.venue === 'perp' && l.asset === 'ETH' && l.sigmas !== null)!;
    expect(status).toMatch(new RegExp(`perp\\s+${perpEth.bucket}\\s+ETH\\s+${perpEth.sigmas!.toFixed(2)} daily sigmas`));
    expect(status).toContain('default model (fhs-ewma)  warming up');

    const m = parseMetricsText(await metrics.text());
    expect(m.get('keeper_portfolio_var99_usd')).toBe(risk.var99Usd);
    expect(m.get('keeper_portfolio_es99_usd')).toBe(risk.es99Usd);
    expect(m.get(seriesKey('keeper_asset_vol_annual', { asset: 'BTC' }))).toBeCloseTo(0.8, 12);
    expect(m.get(seriesKey('keeper_asset_correlation', { asset: 'ETH', other: 'BTC' }))).toBeCloseTo(0.7, 12);
    expect(m.get(seriesKey('keeper_asset_correlation', { asset: 'BTC', other: 'BTC' }))).toBe(1);
    expect(m.get(seriesKey('keeper_venue_liquidation_distance_sigmas', { venue: 'perp', bucket: perpEth.bucket, asset: 'ETH' }))).toBe(perpEth.sigmas);

    // The readings were kept beside the journal, one record per chain and asset, for the next start.
    const dir = dirname(config.safety.journalPath);
    const files = portfolio.assets.map((a) => join(dir, `portfolio-prices-31337-${a.id}.jsonl`));
    await expect.poll(() => files.map((f) => existsSync(f) && readFileSync(f, 'utf8').includes(`"blockNumber":"${r.snapshot.blockNumber}"`)), { timeout: 10_000 }).toEqual(portfolio.assets.map(() => true));
  });

  it('a price move changes the assessed deltas, and the VaR with them, on the next tick', async () => {
    const d = devnet();
    const { keeper } = await portfolioKeeperOn(d);
    const before = (await keeper.tickOnce()).risk!;
    await setPortfolioPrices(d, { eth: 1_800n * E8, btc: 60_000n * E8 });
    const after = (await keeper.tickOnce()).risk!;
    expect(after.deltaUsd).not.toEqual(before.deltaUsd);
    expect(after.var99Usd).not.toBe(before.var99Usd);
  });
});
