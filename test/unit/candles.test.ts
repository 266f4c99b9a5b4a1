import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CandleParseError, defaultBtcDailyCandles, defaultEthCandles, loadCandles, parseCandlesCsv } from '../../src/backtest/candles.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/candles/${name}`, import.meta.url));
const utc = (y: number, mo: number, d: number, h = 0): number => Date.UTC(y, mo - 1, d, h) / 1000;

describe('loadCandles on the quirks fixture', () => {
  it('returns oldest first, both unix formats and both date formats, 12-AM/12-PM', async () => {
    const set = await loadCandles(fixture('quirks.csv'));
    expect(set.source).toBe(fixture('quirks.csv'));
    expect(set.intervalSec).toBe(3600);
    // 26 data rows, one of them the second-format twin of 07:00.
    expect(set.candles).toHaveLength(25);
    expect(set.candles[0]!.timeSec).toBe(utc(2020, 11, 19, 10));
    expect(set.candles.at(-1)!.timeSec).toBe(utc(2020, 11, 20, 13));
    const times = set.candles.map((c) => c.timeSec);
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    const at = (t: number) => set.candles.find((c) => c.timeSec === t)!;
    expect(at(utc(2020, 11, 19, 12))).toEqual({ timeSec: utc(2020, 11, 19, 12), open: 479.87, high: 480.67, low: 479.04, close: 479.74, volume: 102 });
    expect(at(utc(2020, 11, 20, 0)).close).toBe(481.18); // "12-AM" is midnight
    expect(at(utc(2020, 11, 20, 9)).volume).toBe(123); // base volume column, ms row
    expect(set.rejected).toEqual([]);
  });

  it('reports missing hours as gaps without inventing candles', async () => {
    const set = await loadCandles(fixture('quirks.csv'));
    expect(set.gaps).toEqual([
      { afterSec: utc(2020, 11, 20, 7), beforeSec: utc(2020, 11, 20, 9), missing: 1 },
      { afterSec: utc(2020, 11, 20, 10), beforeSec: utc(2020, 11, 20, 13), missing: 2 },
    ]);
  });

  it('merges a cross-format twin keeping the millisecond row, with one overlap warning', async () => {
    const set = await loadCandles(fixture('quirks.csv'));
    const c = set.candles.find((x) => x.timeSec === utc(2020, 11, 20, 7))!;
    expect(c.close).toBe(481.27); // not the older dump's partial 480.9
    const overlap = set.warnings.filter((w) => w.kind === 'overlap');
    expect(overlap).toHaveLength(1);
    expect(overlap[0]).toMatchObject({ count: 1, fromSec: utc(2020, 11, 20, 7), toSec: utc(2020, 11, 20, 7) });
    expect(overlap[0]!.kind === 'overlap' && overlap[0]!.maxRelDiff).toBeCloseTo(1 - 480.9 / 481.27, 12);
  });

  it('repairs the bad print (open/high 1052.1 vs close 480) and reports it', async () => {
    const set = await loadCandles(fixture('quirks.csv'));
    expect(set.candles[0]).toEqual({ timeSec: utc(2020, 11, 19, 10), open: 480, high: 480, low: 478.8, close: 480, volume: 100 });
    const outliers = set.warnings.filter((w) => w.kind === 'outlier');
    expect(outliers.map((w) => w.kind === 'outlier' && [w.row, w.field, w.value, w.replacedBy])).toEqual([
      [27, 'open', 1052.1, 480],
      [27, 'high', 1052.1, 480],
    ]);
    expect(set.warnings.filter((w) => w.kind === 'suspect-close')).toEqual([]);
  });

  it("flags without changing the candle with outliers: 'flag'", async () => {
    const set = await loadCandles(fixture('quirks.csv'), { outliers: 'flag' });
    expect(set.candles[0]).toMatchObject({ open: 1052.1, high: 1052.1 });
    expect(set.warnings.filter((w) => w.kind === 'outlier')).toHaveLength(2);
  });
});

describe('other accepted quirks', () => {
  it('a one-candle close spike is flagged, never changed', () => {
    const head = 'unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount';
    const rows = [
      '1605855600.0,2020-11-20 07-AM,ETH/USDT,480,482,479,481,1,1,NULL',
      '1605859200.0,2020-11-20 08-AM,ETH/USDT,481,990,480,980,1,1,NULL',
      '1605862800.0,2020-11-20 09-AM,ETH/USDT,980,981,478,482,1,1,NULL',
    ];
    const set = parseCandlesCsv([head, ...rows].join('\n'), { source: 'spike.csv' });
    expect(set.candles[1]!.close).toBe(980);
    expect(set.warnings).toEqual([expect.objectContaining({ kind: 'suspect-close', row: 3, value: 980 })]);
  });


  it('daily file: date without a time, missing day, twin across formats', async () => {
    const set = await loadCandles(fixture('daily.csv'));
    expect(set.intervalSec).toBe(86_400);
    expect(set.candles.map((c) => c.timeSec)).toEqual([utc(2017, 12, 16), utc(2017, 12, 18), utc(2017, 12, 19)]);
    expect(set.candles[1]!.open).toBe(18860.04);
    expect(set.gaps).toEqual([{ afterSec: utc(2017, 12, 16), beforeSec: utc(2017, 12, 18), missing: 1 }]);
  });

  it('date column a whole number of hours off unix: unix wins, one warning', async () => {
    const set = await loadCandles(fixture('date-offset.csv'));
    expect(set.candles.map((c) => c.timeSec)).toEqual([1506106800, 1506124800, 1506128400, 1506132000]);
    const w = set.warnings.find((x) => x.kind === 'date-offset');
    expect(w).toMatchObject({ count: 3, fromSec: 1506124800, toSec: 1506132000, offsetsSec: [4 * 3600] });
  });
});

describe('rejections name the file, the row and the column', () => {
  const cases: [file: string, row: number, column: string, reason: RegExp][] = [
    ['bad-nonnumeric.csv', 3, 'low', /not a number: "abc"/],
    ['bad-high-low.csv', 4, 'high', /high 479.2 < low 480.57/],
    ['bad-nonpositive.csv', 3, 'low', /non-positive price 0/],
    ['bad-duplicate.csv', 4, 'unix', /duplicate timestamp 1605859200 \(also row 3\)/],
    ['bad-date.csv', 3, 'date', /unknown date format/],
    ['bad-date-mismatch.csv', 3, 'date', /disagrees with unix/],
    ['bad-unix.csv', 3, 'unix', /not a whole second/],
    ['bad-columns.csv', 3, '(row)', /expected 10 columns, got 7/],
    ['bad-header.csv', 1, 'close', /header lacks a "close" column/],
  ];
  it.each(cases)('%s -> row %i, column %s', async (file, row, column, reason) => {
    const err = await loadCandles(fixture(file)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CandleParseError);
    const e = err as CandleParseError;
    expect([e.row, e.column]).toEqual([row, column]);
    expect(e.reason).toMatch(reason);
    expect(e.message).toContain(`${fixture(file)}: row ${row}, column ${column}:`);
  });

  it("onBadRow: 'skip' collects bad rows and keeps the rest", async () => {
    const set = await loadCandles(fixture('bad-duplicate.csv'), { onBadRow: 'skip' });
    expect(set.rejected).toEqual([{ row: 4, column: 'unix', reason: 'duplicate timestamp 1605859200 (also row 3)' }]);
    expect(set.candles).toHaveLength(3);
  });

  it('a third copy of a merged twin is still a duplicate of its own format', () => {
    const head = 'unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount';
    const ms = '1605855600000,2020-11-20 07:00:00,ETH/USDT,481.4,482.2,480.57,481.27,121,58233.67,1021';
    const sec = '1605855600.0,2020-11-20 07-AM,ETH/USDT,481.4,482.2,480.57,480.9,110.5,53140.45,NULL';
    expect(() => parseCandlesCsv([head, ms, sec, sec].join('\n'), { source: 'triple.csv' })).toThrow(
      'triple.csv: row 4, column unix: duplicate timestamp 1605855600 (also row 3)',
    );
  });

  it('a file with no data rows is an error, not an empty set', () => {
    expect(() => parseCandlesCsv('unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount\n', { source: 'empty.csv' })).toThrow(/empty.csv: .*need at least 2 candles/);
  });
});

describe('the shipped data', () => {
  it('ETH/USDT 1h: 36,062 rows less 2,649 cross-format twins, oldest first, 8 gaps', async () => {
    const set = await defaultEthCandles();
    expect(set.source).toMatch(/src\/backtest\/data\/ethusdt-1h\.csv\.gz$/);
    expect(set.rejected).toEqual([]);
    expect(set.candles).toHaveLength(36_062 - 2_649);
    expect(set.candles[0]!.timeSec).toBe(utc(2017, 8, 17, 4));
    expect(set.candles.at(-1)).toMatchObject({ timeSec: utc(2021, 6, 10, 0), close: 2620.87 });
    const times = set.candles.map((c) => c.timeSec);
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    expect(set.gaps).toHaveLength(8);
    const missing = set.gaps.reduce((a, g) => a + g.missing, 0);
    // Every hour from first to last is either a candle or counted as missing.
    expect(set.candles.length + missing).toBe((times.at(-1)! - times[0]!) / 3600 + 1);
    expect(set.gaps[0]).toEqual({ afterSec: 1506106800, beforeSec: 1506124800, missing: 4 });
    expect(set.warnings.map((w) => w.kind)).toEqual(['overlap', 'date-offset', 'outlier', 'outlier', 'outlier']);
    expect(set.warnings.find((w) => w.kind === 'overlap')).toMatchObject({ count: 2_649 });
    expect(set.warnings.find((w) => w.kind === 'date-offset')).toMatchObject({ count: 91, offsetsSec: [14_400] });
    // The README's bad print: first candle, open 652.74 while the close is 300.79.
    expect(set.candles[0]).toMatchObject({ open: 300.79, high: 300.79, low: 298, close: 300.79 });
    expect(set.warnings[2]).toMatchObject({ kind: 'outlier', field: 'open', value: 652.74, timeSec: utc(2017, 8, 17, 4) });
    // Every candle is internally consistent after repair.
    expect(set.candles.every((c) => c.low <= Math.min(c.open, c.close) && c.high >= Math.max(c.open, c.close))).toBe(true);
  });

  it('BTC/USDT 1d: 1,396 rows less one twin, no gaps', async () => {
    const set = await defaultBtcDailyCandles();
    expect(set.intervalSec).toBe(86_400);
    expect(set.candles).toHaveLength(1_395);
    expect(set.gaps).toEqual([]);
    expect(set.candles[0]!.timeSec).toBe(utc(2017, 8, 17));
  });
});
