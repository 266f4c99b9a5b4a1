import { describe, expect, it } from 'vitest';
import { downsideDev, maxDrawdown, pnlSeries, policyMetrics, stdDev } from '../../src/backtest/metrics.js';
import { createProgress, renderBar } from '../../src/backtest/progress.js';
import { downsample, niceTicks } from '../../src/backtest/svg-charts.js';
import { pathFromCandles } from '../../src/backtest/path.js';
import type { CandleSet } from '../../src/backtest/candles.js';
import type { PolicyRun } from '../../src/backtest/simulate.js';

describe('metrics on a hand-checked series', () => {
  // Values 100, 110, 105, 120, 90, 95: P&L 10, -5, 15, -30, 5 (mean -1).
  const values = [100, 110, 105, 120, 90, 95];
  it('P&L, std, downside deviation, drawdown', () => {
    expect(Array.from(pnlSeries(values))).toEqual([10, -5, 15, -30, 5]);
    // Squared deviations from -1: 121, 16, 256, 841, 36 = 1270; / 4 = 317.5.
    expect(stdDev(pnlSeries(values))).toBeCloseTo(Math.sqrt(317.5), 12);
    // Downside: (25 + 900) / 5 = 185.
    expect(downsideDev(pnlSeries(values))).toBeCloseTo(Math.sqrt(185), 12);
    expect(maxDrawdown(values)).toEqual({ usd: 30, pct: 25 });
  });

  it('Sharpe and Sortino are annualised by sqrt(closes per year)', () => {
    const run = {
      name: 'x', mode: 'fixed', costs: { totalUsd: 0 },
      counters: { ticks: 10, trades: 1, tradedEth: 0, topUps: 0, toppedUpUsd: 0, liquidations: 0, badDebtUsd: 0, guardBlocked: 0, venueRejected: 0, ticksOutsideBand: 3 },
      series: { valueUsd: Float64Array.from(values) }, tickPnl: { n: 3, mean: 1, m2: 8 }, runtimeMs: 0,
    } as unknown as PolicyRun;
    const m = policyMetrics(run, 86_400);
    expect(m.sharpe).toBeCloseTo((-1 / Math.sqrt(317.5)) * Math.sqrt(365), 12);
    expect(m.sortino).toBeCloseTo((-1 / Math.sqrt(185)) * Math.sqrt(365), 12);
    expect(m.totalPnlUsd).toBe(-5);
    expect(m.residualStdPerCloseUsd).toBeCloseTo(Math.sqrt(317.5), 12);
    expect(m.residualStdUsd).toBe(2); // per tick: sqrt(m2 / (n - 1))
    expect(m.timeOutsideBandPct).toBe(30);
  });
});

describe('candle paths', () => {
  const set: CandleSet = {
    source: 't', intervalSec: 3600, gaps: [], warnings: [], rejected: [],
    candles: [
      { timeSec: 0, open: 100, high: 110, low: 95, close: 105, volume: 1 },
      { timeSec: 3600, open: 105, high: 106, low: 90, close: 92, volume: 1 },
    ],
  };
  it('ohlc: open, low, high, close for a rising candle; high before low for a falling one', () => {
    const p = pathFromCandles(set, { substeps: 'ohlc' }).steps.map((s) => Number(s.priceE8) / 1e8);
    expect(p).toEqual([100, 95, 110, 105, 106, 90, 92]);
  });
  it('bridge: hits every close on the hour, seeded, inside a sane band', () => {
    const a = pathFromCandles(set, { ticksPerClose: 4, seed: 5 }).steps;
    expect(a.map((s) => s.timeSec)).toEqual([0, 900, 1800, 2700, 3600, 4500, 5400, 6300, 7200]);
    expect(a.filter((s) => s.isClose).map((s) => Number(s.priceE8) / 1e8)).toEqual([100, 105, 92]);
    expect(pathFromCandles(set, { ticksPerClose: 4, seed: 5 }).steps).toEqual(a);
    expect(pathFromCandles(set, { ticksPerClose: 4, seed: 6 }).steps).not.toEqual(a);
    for (const s of a) expect(Number(s.priceE8) / 1e8).toBeGreaterThan(80);
  });
  it('close: closes only', () => {
    expect(pathFromCandles(set, { substeps: 'close' }).steps.map((s) => Number(s.priceE8) / 1e8)).toEqual([100, 105, 92]);
  });
});

describe('chart helpers', () => {
  it('downsample keeps the extremes of each bucket', () => {
    const t = Array.from({ length: 1000 }, (_, i) => i);
    const v = t.map((i) => (i === 537 ? 99 : i === 612 ? -99 : Math.sin(i)));
    const d = downsample(t, v, 50);
    expect(d.values.length).toBeLessThanOrEqual(100);
    expect(d.values).toContain(99);
    expect(d.values).toContain(-99);
    expect(d.timeSec).toEqual([...d.timeSec].sort((a, b) => a - b));
  });
  it('niceTicks uses 1-2-5 steps', () => {
    expect(niceTicks(0, 47)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(0.13, 0.31, 4)).toEqual([0.15, 0.2, 0.25, 0.3]);
  });
});

describe('progress', () => {
  it('a redrawn bar on a terminal', () => {
    const out: string[] = [];
    let t = 0;
    const p = createProgress({ stream: { isTTY: true, write: (s: string) => out.push(s) }, now: () => t });
    p.phase('fixed', 100);
    p.update(10); // throttled: same millisecond
    t = 200;
    p.update(50);
    p.update(100);
    p.finish();
    expect(out).toEqual([`\r${renderBar('fixed', 0, 100)}`, `\r${renderBar('fixed', 50, 100)}`, `\r${renderBar('fixed', 100, 100)}`, '\n']);
    expect(renderBar('ww', 50, 100, 10)).toBe('ww [#####-----]  50% 50/100');
  });
  it('plain lines elsewhere: at each quarter, or every 5 s', () => {
    const out: string[] = [];
    let t = 0;
    const p = createProgress({ stream: { write: (s: string) => out.push(s) }, now: () => t });
    p.phase('vol', 100);
    for (let i = 1; i <= 100; i++) p.update(i);
    expect(out).toEqual(['vol: 0/100 (0%)\n', 'vol: 25/100 (25%)\n', 'vol: 50/100 (50%)\n', 'vol: 75/100 (75%)\n', 'vol: 100/100 (100%)\n']);
    out.length = 0;
    p.phase('ww', 1000);
    t = 6000;
    p.update(1);
    expect(out).toEqual(['ww: 0/1000 (0%)\n', 'ww: 1/1000 (0%)\n']);
  });
});
