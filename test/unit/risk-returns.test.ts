import { describe, expect, it } from 'vitest';
import {
  closePrices,
  deannualiseVol,
  logReturnSeries,
  logReturns,
  medianIntervalSec,
  periodsPerYear,
  sampleOnGrid,
} from '../../src/core/risk/index.js';

describe('returns and time scaling', () => {
  it('log returns', () => {
    const r = logReturns([100, 110, 99]);
    expect(r[0]).toBeCloseTo(Math.log(1.1), 15);
    expect(r[1]).toBeCloseTo(Math.log(0.9), 15);
    expect(logReturns([5])).toEqual([]);
    expect(() => logReturns([1, 0])).toThrow(RangeError);
  });

  it('timestamped returns, optionally dropping those across a gap', () => {
    const pts = [
      { timeSec: 0, price: 100 },
      { timeSec: 3600, price: 101 },
      { timeSec: 5 * 3600, price: 99 },
      { timeSec: 6 * 3600, price: 100 },
    ];
    expect(logReturnSeries(pts).map((p) => p.dtSec)).toEqual([3600, 4 * 3600, 3600]);
    const kept = logReturnSeries(pts, { maxStepSec: 3600 });
    expect(kept.map((p) => p.timeSec)).toEqual([3600, 6 * 3600]);
    expect(kept[1]!.r).toBeCloseTo(Math.log(100 / 99), 15);
    expect(() => logReturnSeries([pts[1]!, pts[0]!])).toThrow(/not increasing/);
  });

  it('median interval is robust to gaps; 24/7 periods per year', () => {
    expect(medianIntervalSec([0, 3600, 7200, 7200 + 5 * 3600, 7200 + 6 * 3600])).toBe(3600);
    expect(periodsPerYear(3600)).toBe(8760);
    expect(periodsPerYear(86_400)).toBe(365);
    expect(deannualiseVol(0.8, 3600) * Math.sqrt(8760)).toBeCloseTo(0.8, 15);
  });

  it('candle closes are stamped at the close time and can be sampled daily', () => {
    const candles = Array.from({ length: 48 }, (_, i) => ({ timeSec: 86_400 + i * 3600, close: 100 + i }));
    const closes = closePrices(candles, 3600);
    expect(closes[0]).toEqual({ timeSec: 86_400 + 3600, price: 100 });
    // the 23:00 candle closes at midnight: closes 123 (day 2 00:00) and 147 (day 3 00:00)
    expect(sampleOnGrid(closes, 86_400)).toEqual([
      { timeSec: 2 * 86_400, price: 123 },
      { timeSec: 3 * 86_400, price: 147 },
    ]);
  });
});
