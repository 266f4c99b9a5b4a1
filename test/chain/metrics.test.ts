import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { createMetrics, parseMetricsText, seriesKey, type KeeperMetrics } from '../../src/monitor/metrics.js';
import { startHealthServer, type HealthServer } from '../../src/monitor/health-server.js';
import type { KeeperTelemetry } from '../../src/monitor/telemetry.js';
import type { TickResult } from '../../src/runner/tick.js';
import { startFork, useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, abs, keeperOn, setMarketPrice } from '../helpers/keeper.js';

/** Poll until `check` returns a value (not undefined); a generous deadline, not a timing claim. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const eth = (wei: bigint): number => new Decimal(wei.toString()).div(1e18).toNumber();

describe('metrics and /healthz of a running keeper (devnet)', () => {
  const devnet = useDevnet();
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A keeper ticking every 100 ms in the background, its metrics served on a free port. */
  async function runningKeeper(d: Devnet, opts: { rpcUrl?: string; maxTickAgeSec: number }) {
    const metrics = createMetrics();
    const ticks: TickResult[] = [];
    const telemetry: KeeperTelemetry = { ...metrics, tick: (r, ms) => (ticks.push(r), metrics.tick(r, ms)) };
    const { keeper } = await keeperOn(d, { TICK_MODE: 'interval', TICK_INTERVAL_MS: '100' }, { rpcUrl: opts.rpcUrl, telemetry });
    const server = await startHealthServer({ port: 0, metrics, maxTickAgeSec: opts.maxTickAgeSec });
    const running = keeper.run();
    cleanups.push(async () => {
      await keeper.stop();
      await running;
      await server.close();
    });
    return { keeper, metrics, server, ticks, running };
  }

  const scrape = async (server: HealthServer) => parseMetricsText(await (await fetch(`${server.url}/metrics`)).text());
  const health = async (server: HealthServer) => {
    const res = await fetch(`${server.url}/healthz`);
    return { code: res.status, body: (await res.json()) as { status: string; lastTickAgeSec: number | null } };
  };
  const ok = seriesKey('keeper_ticks_total', { result: 'ok' });
  const hedged = seriesKey('keeper_actions_total', { kind: 'adjustHedge', outcome: 'done' });
  const tradeMined = seriesKey('keeper_transactions_total', { kind: 'mined', label: 'perp.trade' });

  it('scraped gauges and counters follow a hedge', async () => {
    const d = devnet();
    const { keeper, server, ticks, running } = await runningKeeper(d, { maxTickAgeSec: 60 });
    const perpSize = async () =>
      (await d.as('perpDemo').publicClient.readContract({ address: d.addresses.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [d.addresses.demo.perp.account, BigInt(d.addresses.perpMarketId)] })).sizeWei;
    const sizeBefore = await perpSize();

    const before = await waitFor('two ticks', async () => {
      const m = await scrape(server);
      return (m.get(ok) ?? 0) >= 2 ? m : undefined;
    });
    expect((await health(server)).code).toBe(200);
    expect(before.get('keeper_price_usd')).toBe(2000);
    expect(before.get('keeper_in_band')).toBe(1);
    expect(before.get(hedged)).toBeUndefined();
    const deltaBefore = before.get('keeper_delta_eth') as number;

    await setMarketPrice(d, 1_900n * E8); // -5%: the LP buys ETH, the delta leaves the band
    await waitFor('a mined hedge and a tick after it', async () => {
      const m = await scrape(server);
      const hedgeTick = ticks.findIndex((t) => t.results.some((r) => r.action.kind === 'adjustHedge'));
      return (m.get(hedged) ?? 0) >= 1 && hedgeTick >= 0 && ticks.length > hedgeTick + 1 ? true : undefined;
    });
    await keeper.stop();
    await running;
    const after = await scrape(server);

    // The hedge happened on chain, and the counters saw exactly it.
    expect(await perpSize()).toBeLessThan(sizeBefore);
    const hedges = ticks.flatMap((t) => t.results).filter((r) => r.action.kind === 'adjustHedge');
    expect(hedges.map((r) => r.outcome)).toEqual(['done']);
    expect(after.get(hedged)).toBe(1);
    expect(after.get(tradeMined)).toBe(1);
    expect(after.get(seriesKey('keeper_transactions_total', { kind: 'sent', label: 'perp.trade' }))).toBe(1);
    expect(after.get(ok)).toBe(ticks.length);
    expect(after.get(seriesKey('keeper_tick_duration_seconds_count', { result: 'ok' }))).toBe(ticks.length);
    expect(after.get(seriesKey('keeper_rpc_requests_total', { endpoint: d.rpcUrl, method: 'eth_call' }))).toBeGreaterThanOrEqual(ticks.length);
    expect(after.get(seriesKey('keeper_rpc_requests_total', { endpoint: d.rpcUrl, method: 'eth_sendRawTransaction' }))).toBe(1);

    // The gauges moved: price, and a delta that went out of the band and came back.
    const breach = ticks.find((t) => t.results.length > 0) as TickResult;
    const last = ticks[ticks.length - 1] as TickResult;
    expect(breach.assessment.inBand).toBe(false);
    expect(after.get('keeper_price_usd')).toBe(1900);
    expect(after.get('keeper_in_band')).toBe(1);
    expect(after.get('keeper_delta_eth')).toBeCloseTo(eth(last.assessment.netDeltaWei), 12);
    expect(after.get('keeper_delta_eth')).not.toBeCloseTo(deltaBefore, 3);
    expect(abs(last.assessment.deviationWei)).toBeLessThanOrEqual(last.assessment.bandWei);
    expect(Math.abs(after.get('keeper_delta_eth') as number)).toBeLessThan(Math.abs(eth(breach.assessment.netDeltaWei)));
    expect(after.get('keeper_delta_usd')).toBeCloseTo(last.assessment.netDeltaUsd.toNumber(), 6);
    expect(after.get('keeper_margin_ratio')).toBeCloseTo(last.assessment.collateral.ratio.toNumber(), 12);
    expect(after.get('keeper_margin_ratio')).not.toBe(before.get('keeper_margin_ratio'));
    expect(after.get('keeper_liquidation_distance_pct')).toBeCloseTo(last.assessment.collateral.distancePct?.toNumber() ?? NaN, 8);
    expect(after.get('keeper_last_tick_block')).toBe(Number(last.assessment.blockNumber));
  });

  it('/healthz turns 503 once the RPC is gone and no tick succeeds', async () => {
    const d = devnet();
    const fork = await startFork(d.rpcUrl);
    cleanups.push(() => fork.stop());
    const { server, metrics } = await runningKeeper(d, { rpcUrl: fork.rpcUrl, maxTickAgeSec: 1 });
    await waitFor('a healthy keeper', async () => ((await health(server)).code === 200 ? true : undefined));
    const healthy = await health(server);
    expect(healthy.body.status).toBe('ok');

    await fork.stop();
    const sick = await waitFor('503', async () => {
      const h = await health(server);
      return h.code === 503 ? h : undefined;
    });
    expect(sick.body.status).toBe('stale');
    expect(sick.body.lastTickAgeSec).toBeGreaterThanOrEqual(1);
    const m = await scrape(server);
    expect(m.get(seriesKey('keeper_ticks_total', { result: 'failed' }))).toBeGreaterThan(0);
    expect(m.get(seriesKey('keeper_rpc_errors_total', { endpoint: fork.rpcUrl }))).toBeGreaterThan(0);
    expect(m.get(seriesKey('keeper_rpc_errors_total', { endpoint: d.rpcUrl }))).toBeUndefined();
    // The scrape agrees with /healthz: the last good tick is older than the limit.
    expect(Date.now() / 1000 - (m.get('keeper_last_tick_timestamp_seconds') as number)).toBeGreaterThanOrEqual(1);
    expect((metrics as KeeperMetrics).lastTickAtMs()).not.toBeNull();
  });
});

