/**
 * Price series -> log returns, and the time scaling every other risk figure needs.
 *
 * Crypto trades 24/7, so a year is 365 * 24 * 3600 seconds of trading (no 252-day calendar),
 * and annualisation is sqrt(periods per year) with periods counted in wall-clock time.
 */

export const SECONDS_PER_YEAR = 365 * 24 * 3600;

/** A price observed at a time (a candle close, an oracle reading), USD per base unit. */
export interface PricePoint {
  timeSec: number;
  price: number;
}

/** The log return from the previous observation to `timeSec`, which spans `dtSec`. */
export interface ReturnPoint {
  timeSec: number;
  r: number;
  dtSec: number;
}

/** ln(p[i] / p[i-1]) for consecutive prices; n prices give n - 1 returns. */
export function logReturns(prices: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < prices.length; i++) {
    const prev = prices[i - 1]!;
    const cur = prices[i]!;
    if (!(prev > 0 && cur > 0)) throw new RangeError(`logReturns: non-positive price at index ${i - 1} or ${i}`);
    out.push(Math.log(cur / prev));
  }
  return out;
}

export interface LogReturnSeriesOptions {
  /**
   * Drop returns spanning more than this many seconds (e.g. across a data gap), because one
   * return over k periods has k times the variance and would be mistaken for a shock.
   * Default: keep every return.
   */
  maxStepSec?: number;
}

/** Timestamped log returns from a time-ordered price series. */
export function logReturnSeries(points: readonly PricePoint[], opts: LogReturnSeriesOptions = {}): ReturnPoint[] {
  const out: ReturnPoint[] = [];
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1]!;
    const cur = points[i]!;
    const dtSec = cur.timeSec - prev.timeSec;
    if (!(dtSec > 0)) throw new RangeError(`logReturnSeries: time not increasing at index ${i} (${cur.timeSec})`);
    if (!(prev.price > 0 && cur.price > 0)) throw new RangeError(`logReturnSeries: non-positive price at index ${i}`);
    if (opts.maxStepSec !== undefined && dtSec > opts.maxStepSec) continue;
    out.push({ timeSec: cur.timeSec, r: Math.log(cur.price / prev.price), dtSec });
  }
  return out;
}

/** The sampling interval: the median spacing of the timestamps (robust to gaps), seconds. */
export function medianIntervalSec(timesSec: readonly number[]): number {
  const diffs: number[] = [];
  for (let i = 1; i < timesSec.length; i++) diffs.push(timesSec[i]! - timesSec[i - 1]!);
  if (diffs.length === 0) throw new RangeError('medianIntervalSec: need at least two timestamps');
  diffs.sort((a, b) => a - b);
  const mid = diffs.length >> 1;
  return diffs.length % 2 === 1 ? diffs[mid]! : (diffs[mid - 1]! + diffs[mid]!) / 2;
}

/** Number of sampling periods in a (24/7) year. */
export function periodsPerYear(intervalSec: number): number {
  if (!(intervalSec > 0)) throw new RangeError(`periodsPerYear: interval must be > 0, got ${intervalSec}`);
  return SECONDS_PER_YEAR / intervalSec;
}

/** Per-period volatility -> annualised (square-root-of-time scaling). */
export function annualiseVol(volPerPeriod: number, intervalSec: number): number {
  return volPerPeriod * Math.sqrt(periodsPerYear(intervalSec));
}

/** Annualised volatility -> per-period volatility. */
export function deannualiseVol(volAnnual: number, intervalSec: number): number {
  return volAnnual / Math.sqrt(periodsPerYear(intervalSec));
}

/**
 * Candle closes as prices stamped at the candle's close time (open time + interval), so that
 * series of different intervals (hourly ETH, daily BTC) line up on the same instants.
 */
export function closePrices(
  candles: readonly { timeSec: number; close: number }[],
  intervalSec: number,
): PricePoint[] {
  return candles.map((c) => ({ timeSec: c.timeSec + intervalSec, price: c.close }));
}

/** Keep the points that fall exactly on a multiple of `periodSec` (e.g. 86400: daily closes). */
export function sampleOnGrid(points: readonly PricePoint[], periodSec: number): PricePoint[] {
  return points.filter((p) => p.timeSec % periodSec === 0);
}

/**
 * The UTC day's last close of each complete day, stamped at the day's end: candles are grouped
 * by the day their interval starts in, and a day counts once the data reaches its end (the last
 * day of a file that stops at 00:00 holds one candle and is not a day's close). Days with
 * missing hours keep their last available close.
 */
export function dailyLastCloses(candles: readonly { timeSec: number; close: number }[], intervalSec: number): PricePoint[] {
  const DAY = 86_400;
  if (candles.length === 0) return [];
  const endSec = candles.at(-1)!.timeSec + intervalSec;
  const out: PricePoint[] = [];
  for (let i = 0; i < candles.length; i++) {
    const day = Math.floor(candles[i]!.timeSec / DAY);
    const next = candles[i + 1];
    if (next !== undefined && Math.floor(next.timeSec / DAY) === day) continue;
    const dayEnd = (day + 1) * DAY;
    if (dayEnd <= endSec) out.push({ timeSec: dayEnd, price: candles[i]!.close });
  }
  return out;
}
