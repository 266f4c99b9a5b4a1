import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { dataFile } from './repo-root.js';

/**
 * Loader for exchange candle CSVs as published in public Binance spot dumps (the
 * CryptoDataDownload layout):
 *   unix,date,symbol,open,high,low,close,Volume <base>,Volume <quote>,tradecount
 * ./data holds gzip copies of the ETH/USDT and BTC/USDT hourly and BTC/USDT daily files, byte for byte
 * as published, so every quirk below is exercised by the defaults:
 * - newest row first: returned oldest first;
 * - `unix` in milliseconds (newer rows) or seconds with a `.0` suffix (older rows);
 * - `date` as `2021-06-10 00:00:00`, `2017-08-17 06-AM` or `2017-08-19` (UTC). `unix` is
 *   authoritative: in the ETH file 91 rows (2017-09-22 to 09-26) carry a `date` 4 hours behind
 *   (US Eastern time) while their `unix` is continuous with the prices around them. A date
 *   off by whole hours up to 14 is reported as one `date-offset` warning; any other
 *   disagreement, or an unknown format, rejects the row;
 * - `tradecount` is `NULL` in older rows (not used);
 * - missing periods: reported as gaps, never filled;
 * - the ETH file is two dumps concatenated: 2,649 hours (2020-08-01 23:00 to 2020-11-20 07:00)
 *   appear twice, once per timestamp format, with prices that differ by rounding (and a
 *   partial last candle in the older dump). Such cross-format twins are merged keeping the
 *   millisecond row (newer dump: full precision, complete candle) and reported as one
 *   `overlap` warning; a duplicate within one format is a bad row;
 * - bad prints: see detectOutliers.
 * Rows are numbered like a spreadsheet: the header is row 1, the first data row is row 2.
 */

export interface Candle {
  /** Open time, seconds since the epoch (UTC). */
  timeSec: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Volume in base units (ETH), the `Volume <base>` column. */
  volume: number;
}

/** Periods absent between two consecutive candles. */
export interface CandleGap {
  afterSec: number;
  beforeSec: number;
  missing: number;
}

export type CandleWarning =
  | { kind: 'outlier'; row: number; timeSec: number; field: 'open' | 'high' | 'low'; value: number; replacedBy: number | undefined; message: string }
  | { kind: 'suspect-close'; row: number; timeSec: number; value: number; message: string }
  | { kind: 'overlap'; count: number; fromSec: number; toSec: number; maxRelDiff: number; message: string }
  | { kind: 'date-offset'; count: number; fromSec: number; toSec: number; offsetsSec: number[]; message: string };

export interface RejectedRow {
  row: number;
  column: string;
  reason: string;
}

export interface CandleSet {
  source: string;
  /** The `symbol` column (ETHUSDT, BTCUSDT...); '' for a file without rows. */
  symbol: string;
  intervalSec: number;
  /** Oldest first, strictly increasing timeSec. */
  candles: Candle[];
  gaps: CandleGap[];
  warnings: CandleWarning[];
  /** Rows skipped with onBadRow: 'skip' (always empty with 'throw'). */
  rejected: RejectedRow[];
}

export interface ParseCandlesOptions {
  /** Name used in errors and warnings (the file path). */
  source: string;
  /** Candle interval, seconds. Default: the median spacing of the timestamps. */
  intervalSec?: number;
  /** 'throw' (default): the first bad row throws CandleParseError. 'skip': collect it in `rejected`. */
  onBadRow?: 'throw' | 'skip';
  /** 'repair' (default): replace outlying open/high/low (see detectOutliers). 'flag': warn only. */
  outliers?: 'repair' | 'flag';
  /** A field further than this factor outside its neighbours' closes is an outlier. Default 1.5. */
  outlierFactor?: number;
}

export class CandleParseError extends Error {
  constructor(
    readonly source: string,
    readonly row: number,
    readonly column: string,
    readonly reason: string,
  ) {
    super(`${source}: row ${row}, column ${column}: ${reason}`);
    this.name = 'CandleParseError';
  }
}

const PRICE_COLUMNS = ['open', 'high', 'low', 'close'] as const;

interface ParsedRow {
  row: number;
  candle: Candle;
  msFormat: boolean;
  /** unix - date, seconds (a time-zone slip in the date column), 0 when they agree. */
  dateOffsetSec: number;
}

type Columns = Record<'unix' | 'date' | 'symbol' | 'open' | 'high' | 'low' | 'close' | 'volume', number>;

function headerColumns(header: string, fail: (column: string, reason: string) => never): Columns {
  const names = header.split(',').map((h) => h.trim());
  const find = (pred: (n: string) => boolean, label: string): number => {
    const i = names.findIndex(pred);
    if (i < 0) fail(label, `header lacks a "${label}" column (got ${names.join(',')})`);
    return i;
  };
  const exact = (label: string): number => find((n) => n.toLowerCase() === label, label);
  return {
    unix: exact('unix'),
    date: exact('date'),
    symbol: exact('symbol'),
    open: exact('open'),
    high: exact('high'),
    low: exact('low'),
    close: exact('close'),
    // The first volume column is the base asset's ("Volume ETH"), the second the quote's.
    volume: find((n) => /^volume /i.test(n), 'Volume <base>'),
  };
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})| (\d{2})-(AM|PM))?$/;

/** Seconds since the epoch of a `date` cell (UTC), or undefined if it is in no known format. */
function parseDateSec(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  let hour = 0;
  if (m[4] !== undefined) hour = Number(m[4]);
  else if (m[7] !== undefined) hour = (Number(m[7]) % 12) + (m[8] === 'PM' ? 12 : 0);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour, Number(m[5] ?? 0), Number(m[6] ?? 0));
  return ms / 1000;
}

function parseRow(cells: string[], cols: Columns, row: number, fail: (column: string, reason: string) => never): ParsedRow {
  const unixText = cells[cols.unix]!.trim();
  const unix = Number(unixText);
  if (unixText === '' || !Number.isFinite(unix) || unix <= 0) fail('unix', `not a positive number: "${unixText}"`);
  const msFormat = unix >= 1e11; // 1e11 s is the year 5138; 1e11 ms is 1973
  const timeSec = msFormat ? unix / 1000 : unix;
  if (!Number.isInteger(timeSec)) fail('unix', `not a whole second: "${unixText}"`);
  const dateText = cells[cols.date]!.trim();
  const dateSec = parseDateSec(dateText);
  if (dateSec === undefined) fail('date', `unknown date format: "${dateText}"`);
  const dateOffsetSec = timeSec - dateSec;
  if (dateOffsetSec % 3600 !== 0 || Math.abs(dateOffsetSec) > 14 * 3600) fail('date', `"${dateText}" disagrees with unix ${unixText}`);

  const num = (column: keyof Columns & string): number => {
    const text = cells[cols[column]]!.trim();
    const v = Number(text);
    if (text === '' || !Number.isFinite(v)) fail(column, `not a number: "${text}"`);
    return v;
  };
  const [open, high, low, close] = PRICE_COLUMNS.map((c) => {
    const v = num(c);
    if (v <= 0) fail(c, `non-positive price ${v}`);
    return v;
  }) as [number, number, number, number];
  if (high < low) fail('high', `high ${high} < low ${low}`);
  if (high < Math.max(open, close)) fail('high', `high ${high} below open/close ${Math.max(open, close)}`);
  if (low > Math.min(open, close)) fail('low', `low ${low} above open/close ${Math.min(open, close)}`);
  const volume = num('volume');
  if (volume < 0) fail('volume', `negative volume ${volume}`);
  return { row, msFormat, dateOffsetSec, candle: { timeSec, open, high, low, close, volume } };
}

interface Accumulator {
  byTime: Map<number, ParsedRow>;
  /** Row of each (format, timestamp) seen, so a same-format repeat is caught even after a merge. */
  seen: Map<string, number>;
  overlaps: { timeSec: number; relDiff: number }[];
}

/** Put a parsed row in the map; returns an error reason for a same-format duplicate. */
function addRow(acc: Accumulator, parsed: ParsedRow): string | undefined {
  const { byTime, seen, overlaps } = acc;
  const timeSec = parsed.candle.timeSec;
  const key = `${parsed.msFormat ? 'ms' : 's'}:${timeSec}`;
  const sameFormat = seen.get(key);
  if (sameFormat !== undefined) return `duplicate timestamp ${timeSec} (also row ${sameFormat})`;
  seen.set(key, parsed.row);
  const prev = byTime.get(timeSec);
  if (prev !== undefined) {
    overlaps.push({ timeSec, relDiff: Math.max(...PRICE_COLUMNS.map((c) => Math.abs(parsed.candle[c] / prev.candle[c] - 1))) });
  }
  if (prev === undefined || parsed.msFormat) byTime.set(timeSec, parsed);
  return undefined;
}

export function parseCandlesCsv(text: string, opts: ParseCandlesOptions): CandleSet {
  const { source } = opts;
  const lines = text.split(/\r?\n/);
  const failAt =
    (row: number) =>
    (column: string, reason: string): never => {
      throw new CandleParseError(source, row, column, reason);
    };
  const cols = headerColumns(lines[0] ?? '', failAt(1));
  const width = (lines[0] ?? '').split(',').length;
  const acc: Accumulator = { byTime: new Map(), seen: new Map(), overlaps: [] };
  const rejected: RejectedRow[] = [];
  let symbol: string | undefined;

  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    const row = i + 1;
    try {
      const cells = lines[i]!.split(',');
      if (cells.length !== width) failAt(row)('(row)', `expected ${width} columns, got ${cells.length}`);
      symbol ??= cells[cols.symbol]!.trim();
      if (cells[cols.symbol]!.trim() !== symbol) failAt(row)('symbol', `"${cells[cols.symbol]}" differs from "${symbol}"`);
      const duplicate = addRow(acc, parseRow(cells, cols, row, failAt(row)));
      if (duplicate !== undefined) failAt(row)('unix', duplicate);
    } catch (err) {
      if (!(err instanceof CandleParseError) || opts.onBadRow !== 'skip') throw err;
      rejected.push({ row: err.row, column: err.column, reason: err.reason });
    }
  }

  const rows = [...acc.byTime.values()].sort((a, b) => a.candle.timeSec - b.candle.timeSec);
  if (rows.length < 2 && opts.intervalSec === undefined) {
    throw new CandleParseError(source, lines.length, '(file)', `need at least 2 candles to infer the interval, got ${rows.length}`);
  }
  const intervalSec = opts.intervalSec ?? medianSpacing(rows.map((r) => r.candle.timeSec));
  const warnings = [
    ...summaryWarnings(rows, acc.overlaps, source),
    ...detectOutliers(rows, opts.outlierFactor ?? 1.5, opts.outliers ?? 'repair', source),
  ];
  return { source, symbol: symbol ?? '', intervalSec, candles: rows.map((r) => r.candle), gaps: findGaps(rows, intervalSec), warnings, rejected };
}

/** One warning per file-level quirk rather than thousands of row warnings. */
function summaryWarnings(rows: ParsedRow[], overlaps: { timeSec: number; relDiff: number }[], source: string): CandleWarning[] {
  const out: CandleWarning[] = [];
  if (overlaps.length > 0) {
    const times = overlaps.map((o) => o.timeSec);
    const [fromSec, toSec] = [Math.min(...times), Math.max(...times)];
    const maxRelDiff = Math.max(...overlaps.map((o) => o.relDiff));
    const message = `${source}: ${overlaps.length} timestamps from ${iso(fromSec)} to ${iso(toSec)} appear in both timestamp formats (two dumps concatenated); kept the millisecond rows (max price difference ${(maxRelDiff * 100).toFixed(3)}%)`;
    out.push({ kind: 'overlap', count: overlaps.length, fromSec, toSec, maxRelDiff, message });
  }
  const shifted = rows.filter((r) => r.dateOffsetSec !== 0);
  if (shifted.length > 0) {
    const [fromSec, toSec] = [shifted[0]!.candle.timeSec, shifted.at(-1)!.candle.timeSec];
    const offsetsSec = [...new Set(shifted.map((r) => r.dateOffsetSec))].sort((a, b) => a - b);
    const message = `${source}: ${shifted.length} rows from ${iso(fromSec)} to ${iso(toSec)} have a date column off by ${offsetsSec.map((o) => o / 3600).join(', ')} h from unix; used unix`;
    out.push({ kind: 'date-offset', count: shifted.length, fromSec, toSec, offsetsSec, message });
  }
  return out;
}

/**
 * Bad prints. The band of neighbour closes (previous, own, next) is where an honest open,
 * high or low can be, give or take a wick; a field more than `factor` times outside it
 * (above hi * factor or below lo / factor) is an outlier. Default factor 1.5: in the shipped
 * ETH file the largest honest wick (2021-05-19) is 1.25x outside its band, and exactly two
 * candles exceed 1.5x: the 2017-08-17 04:00 print (open = high = 652.74, close 300.79) and
 * a 2017-08-22 04:00 flash wick to 144.21 on 145 ETH of volume (close 287).
 * 'repair' replaces an outlying open by the previous close (own close for the first candle)
 * and an outlying high/low by the body's max/min, keeping the candle (its close, which the
 * risk models use, is not an outlier by construction); the original value is in the warning.
 * A close far from both neighbours (a one-candle spike) is flagged, never changed.
 */
function detectOutliers(rows: ParsedRow[], factor: number, mode: 'repair' | 'flag', source: string): CandleWarning[] {
  const warnings: CandleWarning[] = [];
  for (let i = 0; i < rows.length; i++) {
    const { candle: c, row } = rows[i]!;
    const prev = rows[i - 1]?.candle.close;
    const next = rows[i + 1]?.candle.close;
    const refs = [c.close, ...(prev === undefined ? [] : [prev]), ...(next === undefined ? [] : [next])];
    const lo = Math.min(...refs);
    const hi = Math.max(...refs);
    const out = (v: number): boolean => v > hi * factor || v < lo / factor;
    const bad = (['open', 'high', 'low'] as const).filter((f) => out(c[f]));
    if (bad.length > 0) {
      const original = { ...c };
      if (mode === 'repair') {
        if (bad.includes('open')) c.open = prev ?? c.close;
        if (bad.includes('high')) c.high = Math.max(c.open, c.close);
        if (bad.includes('low')) c.low = Math.min(c.open, c.close);
        c.high = Math.max(c.high, c.open, c.close);
        c.low = Math.min(c.low, c.open, c.close);
      }
      for (const field of bad) {
        const replacedBy = mode === 'repair' ? c[field] : undefined;
        const action = replacedBy === undefined ? 'kept' : `replaced by ${replacedBy}`;
        warnings.push({ kind: 'outlier', row, timeSec: c.timeSec, field, value: original[field], replacedBy, message: `${source}: row ${row} (${iso(c.timeSec)}): ${field} ${original[field]} is outside ${lo}..${hi} by more than x${factor}; ${action}` });
      }
    }
    if (prev !== undefined && next !== undefined && Math.min(Math.abs(Math.log(c.close / prev)), Math.abs(Math.log(c.close / next))) > Math.log(factor)) {
      warnings.push({ kind: 'suspect-close', row, timeSec: c.timeSec, value: c.close, message: `${source}: row ${row} (${iso(c.timeSec)}): close ${c.close} is a one-candle spike against ${prev} and ${next}; kept` });
    }
  }
  return warnings;
}

function findGaps(rows: ParsedRow[], intervalSec: number): CandleGap[] {
  const gaps: CandleGap[] = [];
  for (let i = 1; i < rows.length; i++) {
    const afterSec = rows[i - 1]!.candle.timeSec;
    const beforeSec = rows[i]!.candle.timeSec;
    const missing = Math.round((beforeSec - afterSec) / intervalSec) - 1;
    if (missing > 0) gaps.push({ afterSec, beforeSec, missing });
  }
  return gaps;
}

function medianSpacing(times: number[]): number {
  const diffs = times.slice(1).map((t, i) => t - times[i]!).sort((a, b) => a - b);
  return diffs[(diffs.length - 1) >> 1]!; // lower median: gaps only ever lengthen a spacing
}

const iso = (sec: number): string => new Date(sec * 1000).toISOString().slice(0, 16).replace('T', ' ');

/** Read a candle CSV (gzip when the name ends in .gz); errors name the file. */
export async function loadCandles(path: string | URL, opts: Omit<ParseCandlesOptions, 'source'> = {}): Promise<CandleSet> {
  const file = typeof path === 'string' ? path : fileURLToPath(path);
  const raw = await readFile(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return parseCandlesCsv(text, { ...opts, source: file });
}

/** The shipped Binance ETH/USDT hourly candles (2017-08-17 to 2021-06-10). */
export function defaultEthCandles(opts: Omit<ParseCandlesOptions, 'source'> = {}): Promise<CandleSet> {
  return loadCandles(dataFile('ethusdt-1h.csv.gz'), opts);
}

/** The shipped Binance BTC/USDT hourly candles (2017-08-17 to 2021-06-10, the same hours as ETH). */
export function defaultBtcHourlyCandles(opts: Omit<ParseCandlesOptions, 'source'> = {}): Promise<CandleSet> {
  return loadCandles(dataFile('btcusdt-1h.csv.gz'), opts);
}

/** The shipped Binance BTC/USDT daily candles (2017-08-17 to 2021-06-11). */
export function defaultBtcDailyCandles(opts: Omit<ParseCandlesOptions, 'source'> = {}): Promise<CandleSet> {
  return loadCandles(dataFile('btcusdt-1d.csv.gz'), opts);
}
