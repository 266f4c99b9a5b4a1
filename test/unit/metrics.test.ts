import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { createMetrics, endpointLabel, parseMetricsText, seriesKey } from '../../src/monitor/metrics.js';
import { healthOf, startHealthServer, type HealthServer } from '../../src/monitor/health-server.js';
import type { TickResult } from '../../src/runner/tick.js';

const E18 = 10n ** 18n;

/** The fields of a TickResult the metrics read; the rest of the tick does not matter here. */
function tickResult(p: {
  priceE8?: bigint;
  netDeltaWei?: bigint;
  netDeltaUsd?: string;
  ratio?: Decimal;
  distancePct?: Decimal | null;
  actions?: Array<{ kind: 'topUp' | 'adjustHedge'; outcome: 'done' | 'simulated' | 'blocked' | 'failed' }>;
  safeMode?: boolean;
}): TickResult {
  const assessment = {
    blockNumber: 123n,
    priceE8: p.priceE8 ?? 2_000n * 10n ** 8n,
    poolPriceE8: p.priceE8 ?? 2_000n * 10n ** 8n,
    netDeltaWei: p.netDeltaWei ?? 0n,
    netDeltaUsd: new Decimal(p.netDeltaUsd ?? '0'),
    deviationWei: p.netDeltaWei ?? 0n,
    bandWei: E18,
    inBand: true,
    lpCount: 1,
    collateral: { ratio: p.ratio ?? new Decimal('0.25'), distancePct: p.distancePct === undefined ? new Decimal('-40') : p.distancePct },
  };
  return {
    assessment,
    results: (p.actions ?? []).map((a) => ({ action: { kind: a.kind }, outcome: a.outcome, txs: [] })),
    state: { policy: { lastHedgeAtSec: null, safeMode: p.safeMode ? { reason: 'stale oracle' } : null } },
  } as unknown as TickResult;
}

function fakeClock(startMs = 1_700_000_000_000) {
  let t = startMs;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('createMetrics', () => {
  it('sets the gauges from the tick assessment, in human units', async () => {
    const clock = fakeClock();
    const m = createMetrics({ now: clock.now, processMetrics: false });
    m.tick(tickResult({ priceE8: 195_012_345_678n, netDeltaWei: -1_250_000_000_000_000_000n, netDeltaUsd: '-2437.65', ratio: new Decimal('0.1834'), distancePct: new Decimal('-61.5') }), 42);
    const v = parseMetricsText(await m.text());
    expect(v.get('keeper_price_usd')).toBe(1950.12345678);
    expect(v.get('keeper_delta_eth')).toBe(-1.25);
    expect(v.get('keeper_delta_usd')).toBe(-2437.65);
    expect(v.get('keeper_margin_ratio')).toBe(0.1834);
    expect(v.get('keeper_liquidation_distance_pct')).toBe(-61.5);
    expect(v.get('keeper_band_eth')).toBe(1);
    expect(v.get('keeper_in_band')).toBe(1);
    expect(v.get('keeper_last_tick_block')).toBe(123);
    expect(v.get('keeper_last_tick_timestamp_seconds')).toBe(1_700_000_000);
    expect(v.get(seriesKey('keeper_ticks_total', { result: 'ok' }))).toBe(1);
    expect(v.get(seriesKey('keeper_tick_duration_seconds_sum', { result: 'ok' }))).toBe(0.042);
    expect(v.get(seriesKey('keeper_tick_duration_seconds_bucket', { result: 'ok', le: '0.05' }))).toBe(1);
    expect(v.get(seriesKey('keeper_tick_duration_seconds_bucket', { result: 'ok', le: '0.025' }))).toBe(0);
  });

  it('no hedge position: +Inf ratio and NaN distance, not a made-up number', async () => {
    const m = createMetrics({ processMetrics: false });
    m.tick(tickResult({ ratio: new Decimal(Infinity), distancePct: null }), 1);
    const text = await m.text();
    expect(text).toMatch(/^keeper_margin_ratio \+Inf$/m);
    // prom-client prints "Nan"; Prometheus parses NaN case-insensitively.
    expect(text).toMatch(/^keeper_liquidation_distance_pct nan$/im);
  });

  it('counts ticks, actions by kind and outcome, transactions and RPC traffic', async () => {
    const m = createMetrics({ processMetrics: false });
    const before = parseMetricsText(await m.text());
    expect(before.get(seriesKey('keeper_ticks_total', { result: 'failed' }))).toBe(0);
    m.tick(tickResult({ actions: [{ kind: 'topUp', outcome: 'done' }, { kind: 'adjustHedge', outcome: 'failed' }] }), 5);
    m.tick(tickResult({ actions: [{ kind: 'adjustHedge', outcome: 'done' }] }), 5);
    m.tickFailed(new Error('rpc down'), 3);
    for (const kind of ['sent', 'mined', 'sent', 'reverted', 'replaced'] as const) m.tx(kind, 'perp.trade');
    m.rpcRequest('https://eth.example.com/v3/SECRETKEY', 'eth_call');
    m.rpcRequest('https://eth.example.com/v3/SECRETKEY', 'eth_call');
    m.rpcRequest('https://eth.example.com/v3/SECRETKEY', 'eth_getBlockByNumber');
    m.rpcError('https://eth.example.com/v3/SECRETKEY', new Error('429'));
    const text = await m.text();
    const v = parseMetricsText(text);
    expect(v.get(seriesKey('keeper_ticks_total', { result: 'ok' }))).toBe(2);
    expect(v.get(seriesKey('keeper_ticks_total', { result: 'failed' }))).toBe(1);
    expect(v.get(seriesKey('keeper_tick_duration_seconds_count', { result: 'failed' }))).toBe(1);
    expect(v.get(seriesKey('keeper_actions_total', { kind: 'topUp', outcome: 'done' }))).toBe(1);
    expect(v.get(seriesKey('keeper_actions_total', { kind: 'adjustHedge', outcome: 'done' }))).toBe(1);
    expect(v.get(seriesKey('keeper_actions_total', { kind: 'adjustHedge', outcome: 'failed' }))).toBe(1);
    expect(v.get(seriesKey('keeper_transactions_total', { kind: 'sent', label: 'perp.trade' }))).toBe(2);
    expect(v.get(seriesKey('keeper_transactions_total', { kind: 'replaced', label: 'perp.trade' }))).toBe(1);
    const endpoint = 'https://eth.example.com';
    expect(v.get(seriesKey('keeper_rpc_requests_total', { endpoint, method: 'eth_call' }))).toBe(2);
    expect(v.get(seriesKey('keeper_rpc_errors_total', { endpoint }))).toBe(1);
    expect(text).not.toContain('SECRETKEY');
  });

  it('a failed tick does not refresh the last successful tick', () => {
    const clock = fakeClock();
    const m = createMetrics({ now: clock.now, processMetrics: false });
    expect(m.lastTickAtMs()).toBeNull();
    m.tick(tickResult({}), 1);
    const at = clock.now();
    clock.advance(5_000);
    m.tickFailed(new Error('x'), 1);
    expect(m.lastTickAtMs()).toBe(at);
  });

  it('registries are independent (no global registry)', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.tick(tickResult({}), 1);
    expect(parseMetricsText(await b.text()).get(seriesKey('keeper_ticks_total', { result: 'ok' }))).toBe(0);
  });

  it('labels an endpoint by origin only', () => {
    expect(endpointLabel('https://mainnet.infura.io/v3/abc?x=1')).toBe('https://mainnet.infura.io');
    expect(endpointLabel('not a url')).toBe('unknown');
  });
});

describe('healthOf', () => {
  it.each([
    { last: null, now: 1_000, max: 60, status: 'starting', age: null },
    { last: 1_000, now: 1_000, max: 60, status: 'ok', age: 0 },
    { last: 1_000, now: 60_999, max: 60, status: 'ok', age: 59.999 },
    { last: 1_000, now: 61_000, max: 60, status: 'stale', age: 60 },
    { last: 5_000, now: 1_000, max: 60, status: 'ok', age: 0 }, // clock stepped back: not stale
  ] as const)('last=$last now=$now max=$max -> $status', ({ last, now, max, status, age }) => {
    expect(healthOf(last, now, max)).toEqual({ status, lastTickAgeSec: age, maxTickAgeSec: max });
  });
});

describe('startHealthServer', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('/healthz: 503 before the first tick, 200 while fresh, 503 once older than the max age', async () => {
    const clock = fakeClock();
    const metrics = createMetrics({ now: clock.now, processMetrics: false });
    server = await startHealthServer({ port: 0, metrics, maxTickAgeSec: 10, now: clock.now });
    const health = async () => {
      const res = await fetch(`${server?.url}/healthz`);
      return { code: res.status, body: (await res.json()) as { status: string; lastTickAgeSec: number | null } };
    };
    expect(await health()).toEqual({ code: 503, body: { status: 'starting', lastTickAgeSec: null, maxTickAgeSec: 10 } });
    metrics.tick(tickResult({}), 1);
    clock.advance(4_000);
    expect(await health()).toEqual({ code: 200, body: { status: 'ok', lastTickAgeSec: 4, maxTickAgeSec: 10 } });
    clock.advance(6_000);
    metrics.tickFailed(new Error('rpc down'), 1);
    expect(await health()).toEqual({ code: 503, body: { status: 'stale', lastTickAgeSec: 10, maxTickAgeSec: 10 } });
    metrics.tick(tickResult({}), 1);
    expect((await health()).code).toBe(200);
  });

  it('/metrics serves the Prometheus text; anything else is 404, writes are 405', async () => {
    const metrics = createMetrics({ processMetrics: true });
    metrics.tick(tickResult({ priceE8: 2_100n * 10n ** 8n }), 1);
    server = await startHealthServer({ port: 0, metrics, maxTickAgeSec: 10 });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(parseMetricsText(text).get('keeper_price_usd')).toBe(2100);
    expect(text).toContain('keeper_process_resident_memory_bytes');
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metricsx`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('close() returns even with a keep-alive connection open', async () => {
    const metrics = createMetrics({ processMetrics: false });
    server = await startHealthServer({ port: 0, metrics, maxTickAgeSec: 10 });
    await fetch(`${server.url}/metrics`, { headers: { connection: 'keep-alive' } });
    await server.close();
    await expect(fetch(`${server.url}/metrics`)).rejects.toThrow();
  });
});
