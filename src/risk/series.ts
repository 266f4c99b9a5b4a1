import { basename } from 'node:path';
import { defaultBtcHourlyCandles, defaultEthCandles, loadCandles, type CandleSet } from '../backtest/candles.js';
import { closePrices, dailyLastCloses, logReturnSeries } from '../core/risk/returns.js';

/**
 * Return series for the risk commands, from candle files in the shipped layout: log returns of
 * the closes at the file's own interval (a return spanning a gap is dropped, not mistaken for a
 * shock) or of the UTC day's last close (complete days only).
 */

export const DAY_SEC = 86_400;

export interface ReturnSeries {
  /** The file's base name, for tables. */
  data: string;
  horizon: 'interval' | '1d';
  periodSec: number;
  returns: number[];
}

export function intervalReturns(set: CandleSet): ReturnSeries {
  const points = closePrices(set.candles, set.intervalSec);
  const returns = logReturnSeries(points, { maxStepSec: set.intervalSec }).map((p) => p.r);
  return { data: basename(set.source), horizon: 'interval', periodSec: set.intervalSec, returns };
}

export function dailyReturns(set: CandleSet): ReturnSeries {
  if (set.intervalSec > DAY_SEC) throw new RangeError(`${set.source}: candles every ${set.intervalSec} s are coarser than a day`);
  const returns = logReturnSeries(dailyLastCloses(set.candles, set.intervalSec), { maxStepSec: DAY_SEC }).map((p) => p.r);
  return { data: basename(set.source), horizon: '1d', periodSec: DAY_SEC, returns };
}

/** The given files, or the shipped ETH and BTC hourly candles. */
export async function loadCandleFiles(files: readonly string[]): Promise<CandleSet[]> {
  if (files.length > 0) return Promise.all(files.map((f) => loadCandles(f)));
  return Promise.all([defaultEthCandles(), defaultBtcHourlyCandles()]);
}

/** "1h", "1d", "15m": a label for a sampling interval. */
export function intervalLabel(sec: number): string {
  if (sec % DAY_SEC === 0) return `${sec / DAY_SEC}d`;
  if (sec % 3600 === 0) return `${sec / 3600}h`;
  if (sec % 60 === 0) return `${sec / 60}m`;
  return `${sec}s`;
}
