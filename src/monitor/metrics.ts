import { Decimal } from 'decimal.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunnerState, TickResult } from '../runner/tick.js';
import type { KeeperTelemetry, TxCost, TxEventKind } from './telemetry.js';
import { rpcOrigin } from '../config-reader.js';
import type { PortfolioTickResult } from '../runner/portfolio-tick.js';
import { createPortfolioGauges } from './portfolio-metrics.js';

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
  /** The last tick's stale-read reason (null when its read was fresh). */
  staleRead(): string | null;
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
  /** Labels on every series (e.g. `{ venue: 'perp' }`), so one dashboard serves several keepers. */
  labels?: Record<string, string>;
  /** The configured hedge notional allowed per UTC day (MAX_NOTIONAL_PER_DAY_USD), for the "cap near" alert. */
  maxNotionalPerDayUsdE8?: bigint;
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
  if (opts.labels) registry.setDefaultLabels(opts.labels);
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
  const hedge = gauge('hedge_eth', 'Hedge position (short negative), ETH');
  const targetHedge = gauge('target_hedge_eth', 'Hedge the policy aims at (-hedge ratio x spot delta), ETH');
  const trigger = gauge('margin_trigger_ratio', 'Ratio under which the keeper tops up (MARGIN_TRIGGER_RATIO / HF_TRIGGER)');
  const target = gauge('margin_target_ratio', 'Ratio a top-up restores (MARGIN_TARGET_RATIO / HF_TARGET)');
  const liqRatio = gauge('margin_liquidation_ratio', 'Ratio at which the venue liquidates (perp maintenance, Aave 1)');
  const notionalToday = gauge('notional_today_usd', 'Hedge notional traded this UTC day, as the guard counts it, USD');
  const notionalCap = gauge('notional_cap_usd', 'Hedge notional allowed per UTC day (MAX_NOTIONAL_PER_DAY_USD)');
  if (opts.maxNotionalPerDayUsdE8 !== undefined) notionalCap.set(scaled(opts.maxNotionalPerDayUsdE8, E8));
  const staleRead = gauge('stale_read', '1 while the last tick read a block older than one the keeper already knew (it held)');
  const held = gauge('held', '1 while the keeper holds every new transaction (stale read, unknown transaction fate, unexplained nonce)');

  const ticks = new Counter({ name: p + 'ticks_total', help: 'Ticks by result', labelNames: ['result'], registers });
  const actions = new Counter({ name: p + 'actions_total', help: 'Planned actions by kind and outcome', labelNames: ['kind', 'outcome'], registers });
  const txs = new Counter({ name: p + 'transactions_total', help: 'Transaction events by kind (sent, mined, reverted, replaced, simulated, blocked)', labelNames: ['kind', 'label'], registers });
  const gasUsed = new Counter({ name: p + 'gas_used_total', help: 'Gas of the keeper\'s transactions that reached a block, by label', labelNames: ['label'], registers });
  const gasSpent = new Counter({ name: p + 'gas_spent_eth_total', help: 'ETH paid for gas (gasUsed x effectiveGasPrice), by label', labelNames: ['label'], registers });
  const rpcRequests = new Counter({ name: p + 'rpc_requests_total', help: 'JSON-RPC requests by endpoint origin and method', labelNames: ['endpoint', 'method'], registers });
  const rpcErrors = new Counter({ name: p + 'rpc_errors_total', help: 'Failed JSON-RPC requests by endpoint origin', labelNames: ['endpoint'], registers });
  const tickDuration = new Histogram({ name: p + 'tick_duration_seconds', help: 'Tick duration (read, decide, execute)', labelNames: ['result'], buckets: TICK_BUCKETS_SEC, registers });

  // Zero the series an alert rule would look for, so "no failure yet" reads 0, not absent.
  ticks.inc({ result: 'ok' }, 0);
  ticks.inc({ result: 'failed' }, 0);
  liqDistance.set(Number.NaN);
  const portfolioGauges = createPortfolioGauges(registry, p);
  let lastTickAtMs: number | null = null;
  let lastStale: string | null = null;

  return {
    registry,
    lastTickAtMs: () => lastTickAtMs,
    staleRead: () => lastStale,
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
      staleRead.set(result.stale ? 1 : 0);
      lastStale = result.stale;
      held.set(result.hold ? 1 : 0);
      lastBlock.set(Number(a.blockNumber)); // a block number, not an amount: exact below 2^53
      lpCount.set(a.lpCount);
      // Optional reads: tests and the bench feed partial results (a gauge left unset reads 0).
      const maybe = (g: Gauge, v: bigint | undefined, unit: Decimal) => v !== undefined && g.set(scaled(v, unit));
      maybe(hedge, a.hedgeDeltaWei, E18);
      maybe(targetHedge, a.targetHedgeWei, E18);
      maybe(trigger, a.collateral.triggerRatioE18, E18);
      maybe(target, a.collateral.targetRatioE18, E18);
      maybe(liqRatio, a.collateral.liquidationRatioE18, E18);
      maybe(notionalToday, (result.state.guard as RunnerState['guard'] | undefined)?.notionalTodayUsdE8, E8);
      for (const r of result.results) actions.inc({ kind: r.action.kind, outcome: r.outcome });
      ticks.inc({ result: result.stale ? 'stale' : 'ok' });
      tickDuration.observe({ result: 'ok' }, durationMs / 1000);
      // A tick on a stale read proves nothing about the chain: /healthz goes stale with it.
      if (result.stale) return;
      lastTickAtMs = now();
      lastTick.set(lastTickAtMs / 1000);
    },
    portfolioTick(result: PortfolioTickResult, durationMs: number) {
      portfolioGauges(result);
      safeMode.set(result.doubts.portfolio || Object.keys(result.doubts.assets).length || Object.keys(result.doubts.venues).length ? 1 : 0);
      staleRead.set(result.stale ? 1 : 0);
      lastStale = result.stale;
      held.set(result.hold ? 1 : 0);
      lastBlock.set(Number(result.assessment.blockNumber)); // a block number: exact below 2^53
      lpCount.set(result.snapshot.lps.length);
      for (const r of result.results) actions.inc({ kind: r.action.kind, outcome: r.outcome });
      ticks.inc({ result: result.stale ? 'stale' : 'ok' });
      tickDuration.observe({ result: 'ok' }, durationMs / 1000);
      if (result.stale) return;
      lastTickAtMs = now();
      lastTick.set(lastTickAtMs / 1000);
    },
    tickFailed(_error: unknown, durationMs: number) {
      ticks.inc({ result: 'failed' });
      tickDuration.observe({ result: 'failed' }, durationMs / 1000);
    },
    actionSettled(kind: string, outcome: string) {
      actions.inc({ kind, outcome });
    },
    tx(kind: TxEventKind, label: string, cost?: TxCost) {
      txs.inc({ kind, label });
      if (!cost) return;
      gasUsed.inc({ label }, Number(cost.gasUsed)); // a gas count, not an amount: exact below 2^53
      gasSpent.inc({ label }, scaled(cost.gasUsed * cost.effectiveGasPriceWei, E18));
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
