import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { ProxyHedge } from '../../src/core/portfolio/proxy.js';
import type { VarLimitDecision } from '../../src/core/portfolio/var-limit.js';
import { createPortfolioGauges } from '../../src/monitor/portfolio-metrics.js';
import { zeroParts, type PnlInterval } from '../../src/runner/portfolio-pnl.js';
import type { PortfolioTickResult } from '../../src/runner/portfolio-tick.js';

/**
 * The issue-12 risk gauges: per proxied asset the residual 1-day 99% VaR and h* per proxy leg;
 * the VaR limit (configured, before, after) on the ticks whose plan it drove; the P&L of the
 * last 24 h beside the since-start one.
 */

const steth: ProxyHedge = {
  asset: 'STETH', exposureUsd: 19_800, residualVarianceUsd2: 0, residualVar99Usd: 515.22, unhedgedVarianceUsd2: 0, source: 'ewma',
  legs: [
    { asset: 'ETH', ratio: 0.9145, ratioE18: 914_500_000_000_000_000n, targetUnits: -9n * 10n ** 18n },
    { asset: 'BTC', ratio: -0.0625, ratioE18: -62_500_000_000_000_000n, targetUnits: 1n },
  ],
};
const limit: VarLimitDecision = { limitUsd: 300, varBeforeUsd: 512.25, varAfterUsd: 287.5, trades: [], reachable: true };

function result(o: { proxies?: ProxyHedge[]; varLimit?: VarLimitDecision; pnl?: PortfolioTickResult['pnl'] }): PortfolioTickResult {
  return {
    assessment: { netUsdE8: 0n, assets: [], venues: [], prices: { pricesE8: {} }, ...(o.proxies ? { proxies: o.proxies } : {}) },
    plan: { actions: [], ...(o.varLimit ? { varLimit: o.varLimit } : {}) },
    doubts: { portfolio: null, assets: {}, venues: {} },
    ...(o.pnl ? { pnl: o.pnl } : {}),
  } as unknown as PortfolioTickResult;
}

async function scrape(update: (r: PortfolioTickResult) => void, r: PortfolioTickResult, registry: Registry): Promise<string> {
  update(r);
  return registry.metrics();
}

describe('portfolio risk gauges', () => {
  it('per proxied asset: the residual VaR, and h* per proxy leg', async () => {
    const registry = new Registry();
    const text = await scrape(createPortfolioGauges(registry, 'keeper_'), result({ proxies: [steth] }), registry);
    expect(text).toContain('keeper_proxy_residual_var99_usd{asset="STETH"} 515.22');
    expect(text).toContain('keeper_proxy_hedge_ratio{asset="STETH",proxy="ETH"} 0.9145');
    expect(text).toContain('keeper_proxy_hedge_ratio{asset="STETH",proxy="BTC"} -0.0625');
  });

  it('without proxy hedges, no proxy series at all', async () => {
    const registry = new Registry();
    const text = await scrape(createPortfolioGauges(registry, 'keeper_'), result({}), registry);
    expect(text).not.toMatch(/keeper_proxy_residual_var99_usd\{/);
    expect(text).not.toMatch(/keeper_proxy_hedge_ratio\{/);
  });

  it('the VaR limit: limit, VaR before and after when the plan used it; NaN and triggered 0 on the next tick without it', async () => {
    const registry = new Registry();
    const update = createPortfolioGauges(registry, 'keeper_');
    const used = await scrape(update, result({ varLimit: limit }), registry);
    expect(used).toContain('keeper_var_limit_usd 300');
    expect(used).toContain('keeper_var_limit_var_before_usd 512.25');
    expect(used).toContain('keeper_var_limit_var_after_usd 287.5');
    expect(used).toContain('keeper_var_limit_triggered 1');
    const idle = await scrape(update, result({}), registry);
    // prom-client writes NaN as `Nan`; Prometheus parses it in any case.
    expect(idle).toContain('keeper_var_limit_usd Nan');
    expect(idle).toContain('keeper_var_limit_var_before_usd Nan');
    expect(idle).toContain('keeper_var_limit_var_after_usd Nan');
    expect(idle).toContain('keeper_var_limit_triggered 0');
  });

  it('P&L: since start and the last 24 h, by line', async () => {
    const E8 = 10n ** 8n;
    const interval: PnlInterval = { ...zeroParts(), lpFees: 5n * E8, total: 5n * E8, fromBlock: 1n, toBlock: 2n, timeSec: 3n };
    const sinceStart = { ...zeroParts(), lpFees: 40n * E8, hedge: { perp: -12n * E8 }, total: 28n * E8 };
    const last24h = { ...zeroParts(), lpFees: 5n * E8, hedge: { perp: -250_000_000n }, total: 250_000_000n };
    const registry = new Registry();
    const text = await scrape(createPortfolioGauges(registry, 'keeper_'), result({ pnl: { interval, sinceStart, last24h } }), registry);
    expect(text).toContain('keeper_pnl_usd_total{component="lp_fees"} 40');
    expect(text).toContain('keeper_pnl_usd_total{component="total"} 28');
    expect(text).toContain('keeper_pnl_usd_24h{component="lp_fees"} 5');
    expect(text).toContain('keeper_pnl_usd_24h{component="hedge_perp"} -2.5');
    expect(text).toContain('keeper_pnl_usd_24h{component="total"} 2.5');
  });

  it('a tick without last24h (an older caller) leaves the 24 h series alone', async () => {
    const registry = new Registry();
    const interval: PnlInterval = { ...zeroParts(), fromBlock: 1n, toBlock: 2n, timeSec: 3n };
    const text = await scrape(createPortfolioGauges(registry, 'keeper_'), result({ pnl: { interval, sinceStart: zeroParts() } }), registry);
    expect(text).toContain('keeper_pnl_usd_total{component="total"} 0');
    expect(text).not.toMatch(/keeper_pnl_usd_24h\{/);
  });
});
