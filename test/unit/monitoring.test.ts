import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Decimal } from 'decimal.js';
import { createMetrics, parseMetricsText, seriesKey } from '../../src/monitor/metrics.js';
import type { TickResult } from '../../src/runner/tick.js';

/**
 * monitoring/: the Grafana dashboard and the Prometheus alert rules parse, and every metric their
 * PromQL names is one the keeper exports, taken from a real registry (a renamed metric breaks
 * this test, not a dashboard nobody looks at until the night it matters). With promtool
 * installed, Prometheus's own checker and rule unit tests run too.
 */

const ROOT = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');

/** Series Prometheus adds to every scrape itself. */
const PROMETHEUS_SERIES = new Set(['up']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression reads (not functions, label names, keywords, numbers or durations). */
function metricNames(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    // Label matchers and range/subquery brackets hold label names, Grafana variables and durations.
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of e.matchAll(/[A-Za-z_:][\w:]*|\d[\w.]*/g)) {
    const token = m[0];
    if (!/^[A-Za-z_:]/.test(token) || KEYWORDS.has(token.toLowerCase())) continue;
    if (/^\s*\(/.test(e.slice((m.index ?? 0) + token.length))) continue; // a function or an aggregation
    names.push(token);
  }
  return names;
}

/** Brackets of every kind close in order (outside strings). */
function balanced(expr: string): boolean {
  const open: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const ch of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if ('([{'.includes(ch)) open.push(ch);
    else if (ch in pairs && open.pop() !== pairs[ch]) return false;
  }
  return open.length === 0;
}

interface Target { expr: string; refId: string; datasource?: { uid?: string } }
interface Panel { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; targets?: Target[]; panels?: Panel[]; datasource?: { uid?: string } }
interface Dashboard {
  uid: string;
  panels: Panel[];
  annotations: { list: Array<{ expr?: string }> };
  templating: { list: Array<{ name: string; type: string; definition?: string }> };
}
interface Rule { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }

const dashboard = JSON.parse(read('monitoring/grafana/dashboards/keeper.json')) as Dashboard;
const rules = (parse(read('monitoring/prometheus/rules/keeper-alerts.yml')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** Every PromQL expression the dashboard runs: panels, annotations, and the selectors of its variables. */
function dashboardExprs(): string[] {
  const fromPanels = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const fromAnnotations = dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : []));
  const fromVariables = dashboard.templating.list.flatMap((v) => {
    // Grafana's label_values(selector, label): only the selector is PromQL.
    const m = /^label_values\((.*),\s*\w+\)$/.exec(v.definition ?? '');
    return m ? [m[1] as string] : [];
  });
  return [...fromPanels, ...fromAnnotations, ...fromVariables];
}

/** The series names a scrape of the keeper can carry, from a real registry (histograms with their suffixes). */
async function exported(opts: { processMetrics: boolean }): Promise<Set<string>> {
  const registry = createMetrics({ processMetrics: opts.processMetrics, labels: { venue: 'perp' }, maxNotionalPerDayUsdE8: 10n ** 14n }).registry;
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    const suffixes = String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'] : String(m.type) === 'summary' ? ['_sum', '_count'] : [];
    for (const s of suffixes) names.add(m.name + s);
  }
  return names;
}

describe('metricNames (the PromQL reader of this test)', () => {
  it.each([
    ['keeper_delta_eth{instance=~"$instance"}', ['keeper_delta_eth']],
    ['sum by (kind, outcome) (increase(keeper_actions_total{outcome=~"failed|blocked"}[$__rate_interval])) >= 3', ['keeper_actions_total']],
    ['histogram_quantile(0.95, sum by (le) (rate(keeper_tick_duration_seconds_bucket[5m])))', ['keeper_tick_duration_seconds_bucket']],
    ['time() - keeper_last_tick_timestamp_seconds > 1.8e2', ['keeper_last_tick_timestamp_seconds']],
    ['a / on(instance) group_left(venue) b offset 5m and c > bool 0', ['a', 'b', 'c']],
    ['up{job="keeper"} == 0', ['up']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('the Grafana dashboard (monitoring/grafana/dashboards/keeper.json)', () => {
  it('parses, with unique panel ids, panels inside the 24-column grid, each querying the chosen Prometheus', () => {
    expect(dashboard.uid).toBe('delta-neutral-keeper');
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance', 'venue']);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets ?? []) {
        expect(balanced(t.expr), `${p.title}: ${t.expr}`).toBe(true);
        // Every panel follows the keeper/venue selectors at the top.
        expect(t.expr, p.title).toMatch(/instance=~"\$instance"/);
      }
    }
  });

  it('every metric it queries is one the keeper exports', async () => {
    const known = await exported({ processMetrics: true });
    const unknown = dashboardExprs().flatMap(metricNames).filter((n) => !known.has(n) && !PROMETHEUS_SERIES.has(n));
    expect(unknown).toEqual([]);
  });

  it('charts what an operator watches: delta, hedge, band, ratio, liquidation, actions, gas, latency, RPC, safe mode', () => {
    const queried = new Set(dashboardExprs().flatMap(metricNames));
    for (const name of [
      'keeper_delta_eth', 'keeper_hedge_eth', 'keeper_band_eth', 'keeper_margin_ratio', 'keeper_margin_trigger_ratio',
      'keeper_liquidation_distance_pct', 'keeper_actions_total', 'keeper_transactions_total', 'keeper_gas_spent_eth_total',
      'keeper_tick_duration_seconds_bucket', 'keeper_rpc_errors_total', 'keeper_safe_mode', 'keeper_notional_today_usd',
    ]) {
      expect(queried.has(name), name).toBe(true);
    }
  });

  it('charts every keeper metric (a new metric gets a panel, or it is not worth exporting)', async () => {
    const own = await exported({ processMetrics: false });
    const queried = new Set(dashboardExprs().flatMap(metricNames));
    // A histogram is charted through its buckets.
    const uncharted = [...own].filter((n) => !queried.has(n) && !/_(sum|count)$/.test(n) && !queried.has(`${n}_bucket`));
    expect(uncharted).toEqual([]);
  });
});

describe('the alert rules (monitoring/prometheus/rules/keeper-alerts.yml)', () => {
  it('parse, with a unique name, a severity, a summary, a description and the runbook on every alert', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(balanced(r.expr), r.alert).toBe(true);
      expect(['critical', 'warning'], r.alert).toContain(r.labels.severity);
      expect(r.annotations['summary'], r.alert).toBeTruthy();
      expect(r.annotations['description'], r.alert).toBeTruthy();
      expect(r.annotations['runbook'], r.alert).toBe('README.md#runbook');
      if (r.for !== undefined) expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
    }
    expect(/^#+ Runbook$/m.test(read('README.md')), 'README.md needs a "## Runbook" heading (the alerts link to #runbook)').toBe(true);
  });

  it('cover keeper down or stale, safe mode, ratio near the trigger, liquidation distance, repeated failures, daily cap near', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['KeeperDown', 'KeeperStale', 'KeeperSafeMode', 'KeeperRatioNearTrigger', 'KeeperLiquidationNear', 'KeeperTicksFailing', 'KeeperActionsFailing', 'KeeperDailyCapNear']),
    );
  });

  it('every metric they query is one the keeper exports; `up` is of the scrape job prometheus.yml defines', async () => {
    const known = await exported({ processMetrics: true });
    const unknown = rules.flatMap((r) => metricNames(r.expr)).filter((n) => !known.has(n) && !PROMETHEUS_SERIES.has(n));
    expect(unknown).toEqual([]);
    const config = parse(read('monitoring/prometheus/prometheus.yml')) as { scrape_configs: Array<{ job_name: string }> };
    const jobs = config.scrape_configs.map((j) => j.job_name);
    for (const r of rules) for (const m of r.expr.matchAll(/job="([^"]+)"/g)) expect(jobs).toContain(m[1]);
  });
});

describe('the metrics the dashboard and the alerts read', () => {
  const E18 = 10n ** 18n;
  function tick(): TickResult {
    return {
      assessment: {
        blockNumber: 7n, priceE8: 2_000n * 10n ** 8n, poolPriceE8: 2_000n * 10n ** 8n, netDeltaWei: 0n, netDeltaUsd: new Decimal(0),
        deviationWei: 0n, bandWei: E18 / 2n, inBand: true, lpCount: 1, hedgeDeltaWei: -15n * E18, targetHedgeWei: -(155n * E18) / 10n,
        collateral: {
          ratio: new Decimal('0.17'), distancePct: new Decimal('12.5'),
          triggerRatioE18: (15n * E18) / 100n, targetRatioE18: E18 / 4n, liquidationRatioE18: E18 / 20n,
        },
      },
      results: [],
      state: { policy: { lastHedgeAtSec: null, safeMode: null }, guard: { day: 1, notionalTodayUsdE8: 812_345n * 10n ** 8n } },
    } as unknown as TickResult;
  }

  it('hedge and target, trigger / target / liquidation ratios, daily notional and its cap, every series labelled with the venue', async () => {
    const m = createMetrics({ processMetrics: false, labels: { venue: 'perp' }, maxNotionalPerDayUsdE8: 1_000_000n * 10n ** 8n });
    m.tick(tick(), 12);
    const v = parseMetricsText(await m.text());
    const at = (name: string) => v.get(seriesKey(name, { venue: 'perp' }));
    expect(at('keeper_hedge_eth')).toBe(-15);
    expect(at('keeper_target_hedge_eth')).toBe(-15.5);
    expect(at('keeper_margin_trigger_ratio')).toBe(0.15);
    expect(at('keeper_margin_target_ratio')).toBe(0.25);
    expect(at('keeper_margin_liquidation_ratio')).toBe(0.05);
    expect(at('keeper_notional_today_usd')).toBe(812_345);
    expect(at('keeper_notional_cap_usd')).toBe(1_000_000);
    expect([...v.keys()].filter((k) => k.startsWith('keeper_') && !k.includes('venue="perp"'))).toEqual([]);
  });

  it('gas used and ETH spent per label, from the cost of a transaction that reached a block', async () => {
    const m = createMetrics({ processMetrics: false });
    m.tx('mined', 'perp.trade', { gasUsed: 120_000n, effectiveGasPriceWei: 25n * 10n ** 9n });
    m.tx('reverted', 'perp.trade', { gasUsed: 30_000n, effectiveGasPriceWei: 25n * 10n ** 9n });
    m.tx('sent', 'perp.trade');
    const v = parseMetricsText(await m.text());
    expect(v.get(seriesKey('keeper_gas_used_total', { label: 'perp.trade' }))).toBe(150_000);
    expect(v.get(seriesKey('keeper_gas_spent_eth_total', { label: 'perp.trade' }))).toBeCloseTo(0.00375, 12);
    expect(v.get(seriesKey('keeper_transactions_total', { kind: 'sent', label: 'perp.trade' }))).toBe(1);
  });
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!promtool)("Prometheus's own checks (promtool)", () => {
  const run = (...args: string[]) => spawnSync('promtool', args, { cwd: new URL('monitoring/prometheus/', ROOT), encoding: 'utf8' });

  it('check config and check rules accept them', () => {
    const config = run('check', 'config', 'prometheus.yml');
    expect(config.status, config.stdout + config.stderr).toBe(0);
    const checked = run('check', 'rules', 'rules/keeper-alerts.yml');
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
  });

  it('the rule unit tests pass: each alert fires on its series, not before its `for`', () => {
    const tested = run('test', 'rules', 'tests/keeper-alerts.test.yml');
    expect(tested.status, tested.stdout + tested.stderr).toBe(0);
  });
});
