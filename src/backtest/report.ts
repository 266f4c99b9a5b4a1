import type { HedgePolicy } from '../core/types.js';
import type { BacktestResult } from './backtest.js';
import type { PolicyMetrics } from './metrics.js';
import { POLICY_COLORS, type ReportData, type ReportPolicy } from './report-html.js';
import { perpParams } from './perp-model.js';

/** The backtest's outputs: backtest.json, the HTML report's data, and the terminal table. */

const JSON_POINTS = 2000;

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function priceUsd(r: BacktestResult, closesOnly: boolean): { timeSec: number[]; priceUsd: number[] } {
  const steps = r.path.steps.filter((s) => !closesOnly || s.isClose);
  return { timeSec: steps.map((s) => s.timeSec), priceUsd: steps.map((s) => Number(s.priceE8) / 1e8) };
}

function reportPolicies(r: BacktestResult): ReportPolicy[] {
  const price = priceUsd(r, true).priceUsd;
  return r.runs.map(({ run, metrics }, i) => ({
    name: run.name,
    color: POLICY_COLORS[i % POLICY_COLORS.length]!,
    metrics,
    timeSec: run.series.timeSec,
    netDeltaUsd: run.series.netDeltaEth.map((d, k) => d * price[k]!),
    marginRatio: run.series.marginRatio,
    cumCostUsd: run.series.cumCostUsd,
    valueUsd: run.series.valueUsd,
  }));
}

function marketSummary(r: BacktestResult): Record<string, number> {
  const t = r.track;
  const steps = r.path.steps;
  return {
    ticks: steps.length - 1,
    closes: steps.filter((s) => s.isClose).length,
    fromSec: steps[0]!.timeSec,
    toSec: steps[steps.length - 1]!.timeSec,
    priceStartUsd: Number(steps[0]!.priceE8) / 1e8,
    priceEndUsd: Number(steps[steps.length - 1]!.priceE8) / 1e8,
    lpRecenters: t.recenterSteps.length,
    lpRecenterCostUsd: Number(t.lpRecenterCostUnits[t.n - 1]!) / 1e6,
    lpNetInflowUsd: t.lpInflowUnits.reduce((a, x) => a + Number(x), 0) / 1e6,
    trackMs: r.trackMs,
    totalMs: r.totalMs,
  };
}

/** Every k-th close (and the last), so that all series share one time axis. */
function strided(n: number, maxPoints: number): number[] {
  const k = Math.max(1, Math.ceil(n / maxPoints));
  const idx: number[] = [];
  for (let i = 0; i < n; i += k) idx.push(i);
  if (n > 0 && idx[idx.length - 1] !== n - 1) idx.push(n - 1);
  return idx;
}

export function backtestJson(r: BacktestResult, meta: Record<string, unknown>): string {
  const policies = reportPolicies(r).map((p, i) => {
    const idx = strided(p.timeSec.length, JSON_POINTS);
    const pick = (v: ArrayLike<number>): unknown => plain(idx.map((k) => v[k]!));
    const run = r.runs[i]!.run;
    return {
      name: p.name,
      mode: run.mode,
      policy: plain(run.policy),
      metrics: plain(p.metrics),
      series: {
        note: `every ${idx.length > 1 ? idx[1]! - idx[0]! : 1}th close (and the last); margin ratio "Infinity" = no position`,
        timeSec: pick(p.timeSec),
        valueUsd: pick(p.valueUsd),
        netDeltaUsd: pick(p.netDeltaUsd),
        marginRatio: pick(p.marginRatio),
        cumCostUsd: pick(p.cumCostUsd),
      },
    };
  });
  const body = { version: 1, ...meta, scenario: plain(r.scenario), market: marketSummary(r), policies };
  return `${JSON.stringify(body, null, 1)}\n`;
}

export function reportData(r: BacktestResult, o: { title: string; source: string; notes: string[]; basePolicy: HedgePolicy; generatedAt: string }): ReportData {
  const m = marketSummary(r);
  const e18 = (x: bigint): number => Number(x) / 1e18;
  const day = (sec: number): string => new Date(sec * 1000).toISOString().slice(0, 16).replace('T', ' ');
  return {
    title: o.title,
    source: o.source,
    generatedAt: o.generatedAt,
    summary: [
      `${day(m.fromSec!)} to ${day(m.toSec!)} UTC: ${m.closes! - 1} intervals of ${r.path.intervalSec / 60} min, ${m.ticks} keeper ticks; price ${m.priceStartUsd} -> ${m.priceEndUsd} USD.`,
      `LP recentered ${m.lpRecenters} times (cost ${m.lpRecenterCostUsd!.toFixed(0)} USD, the same for every policy, not in the hedging cost).`,
      `Backtest time ${(m.totalMs! / 1000).toFixed(1)} s.`,
    ],
    notes: o.notes,
    market: priceUsd(r, false),
    refLines: {
      marginTrigger: e18(o.basePolicy.marginTriggerE18),
      marginTarget: e18(o.basePolicy.marginTargetE18),
      maintenance: Number(perpParams().maintenanceRatioE18) / 1e18,
    },
    policies: reportPolicies(r),
  };
}

/** The terminal table. */
export function metricsText(rows: { name: string; metrics: PolicyMetrics }[]): string {
  const head = ['policy', 'cost $', 'std $/tick', 'std $/close', 'max DD $', 'Sharpe', 'Sortino', 'trades', 'top-ups', 'liq', 'out %', 'time s'];
  const body = rows.map(({ name, metrics: m }) => [
    name, m.hedgingCostUsd.toFixed(0), m.residualStdUsd.toFixed(2), m.residualStdPerCloseUsd.toFixed(2), m.maxDrawdownUsd.toFixed(0), m.sharpe.toFixed(2), m.sortino.toFixed(2),
    String(m.trades), String(m.topUps), String(m.liquidations), m.timeOutsideBandPct.toFixed(1), (m.runtimeMs / 1000).toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n') + '\n';
}
