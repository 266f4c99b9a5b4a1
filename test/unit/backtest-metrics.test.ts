import { describe, expect, it } from 'vitest';
import { cumulative, downsideDev, drawdownSeries, maxDrawdown, policyMetrics, stdDev } from '../../src/backtest/metrics.js';
import { QUIET, createProgress } from '../../src/backtest/progress.js';
import { episodesOf } from '../../src/backtest/episodes.js';
import { packPath, pathFromCandles, unpackPath } from '../../src/backtest/path.js';
import { newTotals } from '../../src/backtest/run-state.js';
import type { CandleSet } from '../../src/backtest/candles.js';
import type { PolicyRun } from '../../src/backtest/simulate.js';

describe('metrics on a hand-checked series', () => {
  // Per-close P&L 10, -5, 15, -30, 5 (mean -1) after the start (0).
  const pnl = Float64Array.from([0, 10, -5, 15, -30, 5]);
  it('std, downside deviation, cumulative P&L and drawdown', () => {
    // Squared deviations from -1: 121, 16, 256, 841, 36 = 1270; / 4 = 317.5.
    expect(stdDev(pnl.subarray(1))).toBeCloseTo(Math.sqrt(317.5), 12);
    // Downside: (25 + 900) / 5 = 185.
    expect(downsideDev(pnl.subarray(1))).toBeCloseTo(Math.sqrt(185), 12);
    expect(Array.from(cumulative(pnl))).toEqual([0, 10, 5, 20, -10, -5]);
    expect(Array.from(drawdownSeries(cumulative(pnl)))).toEqual([0, 0, -5, 0, -30, -25]);
    expect(maxDrawdown(cumulative(pnl))).toBe(30);
  });

  it('Sharpe and Sortino are annualised by sqrt(closes per year); effectiveness against the unhedged variance; per year', () => {
    const day = 86_400;
    const start = Date.UTC(2020, 11, 29) / 1000;
    const run = {
      name: 'x', kind: 'keeper', mode: 'fixed', totals: { ...newTotals(), ticks: 10, ticksOutsideBand: 3, trades: 4 },
      attribution: { feesUsd: -1, slippageUsd: -2, gasUsd: -3, fundingUsd: -4, penaltiesUsd: 0, totalUsd: -5 },
      series: {
        timeSec: Float64Array.from(pnl, (_, k) => start + k * day), pnlUsd: pnl, cumCostUsd: Float64Array.from([0, 1, 2, 3, 4, 10]),
        cumTrades: Float64Array.from([0, 1, 1, 2, 3, 4]),
      },
      episodes: [{ pnlUsd: -5, costUsd: 10, trades: 4 }], tickPnl: { n: 3, mean: 1, m2: 8 }, runtimeMs: 0,
    } as unknown as PolicyRun;
    const m = policyMetrics(run, day, 4 * 317.5);
    expect(m.sharpe).toBeCloseTo((-1 / Math.sqrt(317.5)) * Math.sqrt(365), 12);
    expect(m.sortino).toBeCloseTo((-1 / Math.sqrt(185)) * Math.sqrt(365), 12);
    expect(m.costUsd).toBe(10);
    expect(m.perCloseStdUsd).toBeCloseTo(Math.sqrt(317.5), 12);
    expect(m.perTickStdUsd).toBe(2); // per tick: sqrt(m2 / (n - 1))
    expect(m.hedgeEffectiveness).toBeCloseTo(0.75, 12);
    expect(m.timeOutsideBandPct).toBe(30);
    expect(m.episodes).toBeUndefined(); // one run, not episodes
    // Closes on Dec 30, 31 (2020) and Jan 1, 2, 3 (2021).
    expect(m.perYear.map((y) => [y.year, y.closes, y.pnlUsd, y.costUsd, y.trades])).toEqual([[2020, 2, 5, 2, 1], [2021, 3, -10, 8, 3]]);
  });
});

describe('episodes', () => {
  const path = { source: 't', intervalSec: 3600, steps: Array.from({ length: 24 * 7 + 5 }, (_, i) => ({ timeSec: i * 3600, priceE8: 100n, isClose: i % 2 === 0 })) };
  it('N-day windows from close to close, sharing their boundary; a short last window is left out', () => {
    expect(episodesOf(path, 3)).toEqual([{ startStep: 0, endStep: 72 }, { startStep: 72, endStep: 144 }]);
    expect(episodesOf(path)).toEqual([{ startStep: 0, endStep: path.steps.length - 1 }]);
    expect(() => episodesOf(path, 30)).toThrow(/shorter than one 30-day episode/);
  });
  it('a path survives packing for a worker thread', () => {
    expect(unpackPath(packPath(path))).toEqual(path);
  });
});

describe('candle paths', () => {
  const set: CandleSet = {
    source: 't', symbol: 'ETHUSDT', intervalSec: 3600, gaps: [], warnings: [], rejected: [],
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

describe('progress', () => {
  it('quiet unless both stdout and stderr are terminals', () => {
    const lines: string[] = [];
    const pipe = { write: (x: string) => lines.push(x) };
    expect(createProgress({ stdout: pipe, stderr: { ...pipe, isTTY: true } })).toBe(QUIET);
    expect(createProgress({ stdout: { ...pipe, isTTY: true }, stderr: pipe })).toBe(QUIET);
    expect(createProgress({ stdout: { ...pipe, isTTY: true }, stderr: { ...pipe, isTTY: true } })).not.toBe(QUIET);
    expect(lines).toEqual([]);
  });
});
