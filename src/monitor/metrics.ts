import { Decimal } from 'decimal.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TickResult } from '../runner/tick.js';
import type { KeeperTelemetry, TxEventKind } from './telemetry.js';
import { rpcOrigin } from '../config-reader.js';

/**
 * Prometheus metrics of one keeper, fed by the KeeperTelemetry hooks. Each keeper gets its own
 * Registry (never prom-client's global one), so tests and the bench can run several side by side.
 * Gauges carry human figures (ETH, USD, ratios) as floats: Prometheus has no other type, and
 * these numbers are read by people and alert rules, never fed back into calldata.
 */
export interface KeeperMetrics extends Required<KeeperTelemetry> {
  readonly registry: Registry;
  /** Clock reading (ms) of the last successful tick; null before the first one. */
  lastTickAtMs(): number | null;
  /** Prometheus text exposition of every metric. */
  text(): Promise<string>;
}

export interface MetricsOptions {
  /** Wall clock in ms (tests pass a fake one). Default Date.now. */
  now?: () => number;
  /** Also export prom-client's process metrics (RSS, CPU, event loop lag). Default true. */
  processMetrics?: boolean;
  /** Metric name prefix. Default `keeper_`. */
  prefix?: string;
}

const E8 = new Decimal(1e8);
const E18 = new Decimal(1e18);
const TICK_BUCKETS_SEC = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** bigint base units -> float for a gauge, through Decimal (never Number(bigint) on an amount). */
function scaled(value: bigint, unit: Decimal): number {
  return new Decimal(value.toString()).div(unit).toNumber();
}

/**
 * An RPC URL can carry an API key in its path or query (Infura, Alchemy): label with the origin
 * only, so the key never reaches a scrape.
 */
export function endpointLabel(url: string): string {
  return rpcOrigin(url, 'unknown');
}

export function createMetrics(opts: MetricsOptions = {}): KeeperMetrics {
  const now = opts.now ?? Date.now;
  const p = opts.prefix ?? 'keeper_';
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: p });
  const registers = [registry];
  const gauge = (name: string, help: string) => new Gauge({ name: p + name, help, registers });

  const price = gauge('price_usd', 'ETH/USD oracle price of the last tick');
  const poolPrice = gauge('pool_price_usd', 'ETH/USD Uniswap pool price of the last tick');
  const delta = gauge('delta_eth', 'Net delta (spot + hedge), ETH, long positive');
  const deltaUsd = gauge('delta_usd', 'Net delta valued at the oracle price, USD');
  const deviation = gauge('deviation_eth', 'Hedge minus target hedge, ETH');
  const band = gauge('band_eth', 'Half-width of the delta band, ETH');
  const inBand = gauge('in_band', '1 when the deviation is inside the band');
  const ratio = gauge('margin_ratio', 'Perp margin ratio or Aave health factor (+Inf without a position)');
  const liqDistance = gauge('liquidation_distance_pct', 'Oracle move to the liquidation price, percent, signed (NaN without one)');
  const safeMode = gauge('safe_mode', '1 while hedging is suspended by a sanity check');
  const lastTick = gauge('last_tick_timestamp_seconds', 'Unix time of the last successful tick');
  const lastBlock = gauge('last_tick_block', 'Block number the last successful tick read');
  const lpCount = gauge('lp_positions', 'LP positions counted in the last tick');

  const ticks = new Counter({ name: p + 'ticks_total', help: 'Ticks by result', labelNames: ['result'], registers });
  const actions = new Counter({ name: p + 'actions_total', help: 'Planned actions by kind and outcome', labelNames: ['kind', 'outcome'], registers });
  const txs = new Counter({ name: p + 'transactions_total', help: 'Transaction events by kind (sent, mined, reverted, replaced, simulated, blocked)', labelNames: ['kind', 'label'], registers });
  const rpcRequests = new Counter({ name: p + 'rpc_requests_total', help: 'JSON-RPC requests by endpoint origin and method', labelNames: ['endpoint', 'method'], registers });
  const rpcErrors = new Counter({ name: p + 'rpc_errors_total', help: 'Failed JSON-RPC requests by endpoint origin', labelNames: ['endpoint'], registers });
  const tickDuration = new Histogram({ name: p + 'tick_duration_seconds', help: 'Tick duration (read, decide, execute)', labelNames: ['result'], buckets: TICK_BUCKETS_SEC, registers });

  // Zero the series an alert rule would look for, so "no failure yet" reads 0, not absent.
  ticks.inc({ result: 'ok' }, 0);
  ticks.inc({ result: 'failed' }, 0);
  liqDistance.set(Number.NaN);
  let lastTickAtMs: number | null = null;

  return {
    registry,
    lastTickAtMs: () => lastTickAtMs,
    text: () => registry.metrics(),
    tick(result: TickResult, durationMs: number) {
      const a = result.assessment;
      price.set(scaled(a.priceE8, E8));
      poolPrice.set(scaled(a.poolPriceE8, E8));
      delta.set(scaled(a.netDeltaWei, E18));
      deltaUsd.set(a.netDeltaUsd.toNumber());
      deviation.set(scaled(a.deviationWei, E18));
      band.set(scaled(a.bandWei, E18));
      inBand.set(a.inBand ? 1 : 0);
      ratio.set(a.collateral.ratio.toNumber());
      liqDistance.set(a.collateral.distancePct?.toNumber() ?? Number.NaN);
      safeMode.set(result.state.policy.safeMode ? 1 : 0);
      lastBlock.set(Number(a.blockNumber)); // a block number, not an amount: exact below 2^53
      lpCount.set(a.lpCount);
      for (const r of result.results) actions.inc({ kind: r.action.kind, outcome: r.outcome });
      ticks.inc({ result: 'ok' });
      tickDuration.observe({ result: 'ok' }, durationMs / 1000);
      lastTickAtMs = now();
      lastTick.set(lastTickAtMs / 1000);
    },
    tickFailed(_error: unknown, durationMs: number) {
      ticks.inc({ result: 'failed' });
      tickDuration.observe({ result: 'failed' }, durationMs / 1000);
    },
    tx(kind: TxEventKind, label: string) {
      txs.inc({ kind, label });
    },
    rpcRequest(url: string, method: string) {
      rpcRequests.inc({ endpoint: endpointLabel(url), method });
    },
    rpcError(url: string) {
      rpcErrors.inc({ endpoint: endpointLabel(url) });
    },
  };
}

/** `name{k="v",...}` with the labels sorted by key: the key parseMetricsText uses. */
export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
}

/**
 * Parse Prometheus text into seriesKey -> value. For tests and the bench, which scrape the
 * endpoint the way Prometheus would.
 */
export function parseMetricsText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name = '', rawLabels = '', raw = ''] = m;
    const labels: Record<string, string> = {};
    for (const l of rawLabels.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    out.set(seriesKey(name, labels), value);
  }
  return out;
}
