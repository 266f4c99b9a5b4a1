import type { HedgePolicy } from '../core/types.js';
import type { BacktestResult } from './backtest.js';
import { cumulative, drawdownSeries, type PolicyMetrics } from './metrics.js';
import { perpParams } from './perp-model.js';
import type { ReportData, ReportPolicy } from './report-html.js';
import type { PolicyRun } from './simulate.js';

/** The backtest's outputs: backtest.json, the HTML report's data, and the terminal table. */

const JSON_POINTS = 2000;
const CHART_BUCKETS = 1200;
export const POLICY_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
/** Baselines are drawn in greys. */
const BASELINE_COLORS: Record<string, string> = { unhedged: '#555555', static: '#aaaaaa' };

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, plain);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Every k-th sample (and the last), so that all series share one time axis. */
function strided(n: number, maxPoints: number): number[] {
  const k = Math.max(1, Math.ceil(n / maxPoints));
  const idx: number[] = [];
  for (let i = 0; i < n; i += k) idx.push(i);
  if (n > 0 && idx[idx.length - 1] !== n - 1) idx.push(n - 1);
  return idx;
}

function marketSummary(r: BacktestResult): Record<string, number> {
  const steps = r.path.steps;
  return {
    ticks: steps.length - 1,
    closes: steps.filter((s) => s.isClose).length,
    fromSec: steps[0]!.timeSec,
    toSec: steps[steps.length - 1]!.timeSec,
    priceStartUsd: Number(steps[0]!.priceE8) / 1e8,
    priceEndUsd: Number(steps[steps.length - 1]!.priceE8) / 1e8,
    episodes: r.summary.episodes,
    lpRecenters: r.summary.lpRecenters,
    lpRecenterCostUsd: r.summary.lpRecenterCostUsd,
    lpNetInflowUsd: r.summary.lpNetInflowUsd,
  };
}

export function backtestJson(r: BacktestResult, meta: Record<string, unknown>): string {
  const policies = r.runs.map(({ run, metrics }) => {
    const idx = strided(run.series.timeSec.length, JSON_POINTS);
    const pick = (v: ArrayLike<number>): unknown => plain(idx.map((k) => v[k]!));
    return {
      name: run.name,
      kind: run.kind,
      baseline: run.kind !== 'keeper',
      mode: run.mode,
      policy: plain(run.policy),
      metrics: plain(metrics),
      series: {
        note: `every ${idx.length > 1 ? idx[1]! - idx[0]! : 1}th close (and the last); margin ratio "Infinity" = no position`,
        timeSec: pick(run.series.timeSec),
        cumPnlUsd: pick(cumulative(run.series.pnlUsd)),
        netDeltaUsd: pick(run.series.netDeltaUsd),
        marginRatio: pick(run.series.marginRatio),
        cumCostUsd: pick(run.series.cumCostUsd),
      },
    };
  });
  const body = { version: 2, ...meta, scenario: plain(r.scenario), market: marketSummary(r), policies };
  return `${JSON.stringify(body, null, 1)}\n`;
}

type Reducer = (xs: Float64Array, from: number, to: number) => number;
const last: Reducer = (xs, _from, to) => xs[to - 1]!;
const min: Reducer = (xs, from, to) => {
  let m = Infinity;
  for (let i = from; i < to; i++) m = Math.min(m, xs[i]!);
  return m;
};
const rms: Reducer = (xs, from, to) => {
  let s = 0;
  for (let i = from; i < to; i++) s += xs[i]! * xs[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
};

/** Bucket bounds over n samples: at most `buckets` buckets of equal size. */
function buckets(n: number, count: number): number[] {
  const size = Math.max(1, Math.ceil(n / count));
  const bounds: number[] = [];
  for (let i = 0; i < n; i += size) bounds.push(i);
  bounds.push(n);
  return bounds;
}

function reduce(xs: Float64Array, bounds: number[], f: Reducer): number[] {
  const out: number[] = [];
  for (let b = 0; b + 1 < bounds.length; b++) out.push(f(xs, bounds[b]!, bounds[b + 1]!));
  return out;
}

function colorOf(run: PolicyRun, i: number): string {
  return BASELINE_COLORS[run.kind === 'keeper' ? '' : run.name] ?? POLICY_COLORS[i % POLICY_COLORS.length]!;
}

export function reportData(r: BacktestResult, o: { title: string; source: string; notes: string[]; basePolicy: HedgePolicy; generatedAt: string }): ReportData {
  const m = marketSummary(r);
  const first = r.runs[0]!.run.series;
  const bounds = buckets(first.timeSec.length, CHART_BUCKETS);
  const timeSec = reduce(first.timeSec, bounds, last);
  const steps = r.path.steps.filter((s) => s.isClose);
  const priceBounds = buckets(steps.length, CHART_BUCKETS);
  const prices = Float64Array.from(steps, (s) => Number(s.priceE8) / 1e8);
  const priceTimes = Float64Array.from(steps, (s) => s.timeSec);
  const e18 = (x: bigint): number => Number(x) / 1e18;
  const day = (sec: number): string => new Date(sec * 1000).toISOString().slice(0, 16).replace('T', ' ');
  let colorIndex = 0;
  const policies: ReportPolicy[] = r.runs.map(({ run, metrics }) => {
    const cum = cumulative(run.series.pnlUsd);
    return {
      name: run.name, kind: run.kind, color: colorOf(run, run.kind === 'keeper' ? colorIndex++ : 0), metrics,
      cumPnlUsd: reduce(cum, bounds, last), drawdownUsd: reduce(drawdownSeries(cum), bounds, min), netDeltaRmsUsd: reduce(run.series.netDeltaUsd, bounds, rms),
      marginRatio: reduce(run.series.marginRatio, bounds, min).map((x) => (Number.isFinite(x) ? Math.min(x, 2) : null)), cumCostUsd: reduce(run.series.cumCostUsd, bounds, last),
    };
  });
  return {
    title: o.title,
    source: o.source,
    generatedAt: o.generatedAt,
    summary: [
      `${day(m.fromSec!)} to ${day(m.toSec!)} UTC: ${m.closes! - 1} intervals of ${r.path.intervalSec / 60} min, ${m.ticks} keeper ticks${m.episodes! > 1 ? `, ${m.episodes} episodes` : ''}; price ${m.priceStartUsd} -> ${m.priceEndUsd} USD.`,
      `LP recentered ${m.lpRecenters} times (cost ${m.lpRecenterCostUsd!.toFixed(0)} USD, the same for every policy, not in the hedging cost).`,
      `Engine ${(r.engineMs / 1000).toFixed(1)} s on ${r.workers || 1} thread(s).`,
    ],
    notes: o.notes,
    timeSec,
    market: { timeSec: reduce(priceTimes, priceBounds, last), priceUsd: reduce(prices, priceBounds, last) },
    refLines: { marginTrigger: e18(o.basePolicy.marginTriggerE18), marginTarget: e18(o.basePolicy.marginTargetE18), maintenance: Number(perpParams().maintenanceRatioE18) / 1e18 },
    policies,
  };
}

/** The terminal table. */
export function metricsText(rows: { name: string; metrics: PolicyMetrics }[]): string {
  const episodes = rows.some((r) => r.metrics.episodes);
  const head = ['policy', 'cost $', 'std $/close', 'effectiveness', 'Sharpe', 'max DD $', 'trades', 'top-ups', 'liq', 'blocked', ...(episodes ? ['cost $/episode', 'std $/episode', 'worst $/episode'] : []), 'time s'];
  const body = rows.map(({ name, metrics: m }) => [
    name, m.costUsd.toFixed(0), m.perCloseStdUsd.toFixed(2), m.hedgeEffectiveness === null ? '-' : `${(100 * m.hedgeEffectiveness).toFixed(1)}%`, m.sharpe.toFixed(2),
    m.maxDrawdownUsd.toFixed(0), String(m.trades), String(m.topUps), String(m.liquidations), String(m.guardBlocked),
    ...(episodes ? (m.episodes ? [m.episodes.meanCostUsd.toFixed(0), m.episodes.stdPnlUsd.toFixed(0), m.episodes.worstPnlUsd.toFixed(0)] : ['-', '-', '-']) : []),
    (m.runtimeMs / 1000).toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n') + '\n';
}
