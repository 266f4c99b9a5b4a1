import type { Candle, CandleSet } from './candles.js';
import { createGbmPath, type JumpOptions } from '../devnet/price-path.js';
import { createRng } from '../core/risk/random.js';

/**
 * The price path a backtest replays: steps the keeper observes (ticks), some of which are
 * "closes" on the data's own grid, where results are sampled.
 *
 * Intra-candle ticks: the live keeper looks every block, a time-based policy once per period.
 * Replaying closes only ('close') lets no band policy see a move before the hourly rebalancer
 * does, so by default ('bridge') each candle gets `ticksPerClose` ticks: a seeded Brownian
 * bridge in log price from the previous close to this close, with the candle's own variance
 * (Parkinson: ln(high/low)^2 / (4 ln 2)). The closes are the data's; the ticks between them are
 * plausible paths with the hour's realised volatility.
 *
 * 'ohlc' (open -> low -> high -> close for a rising candle, open -> high -> low -> close for a
 * falling one) is kept for comparison but is biased against band policies: a path that turns
 * exactly at the extremes makes a rebalancer that reacts there buy every high and sell every
 * low, realising ~3x the variance of a Brownian path with the same range.
 */

export interface PathStep {
  timeSec: number;
  priceE8: bigint;
  /** A close on the data grid (the first step, the start, counts as one). */
  isClose: boolean;
}

export interface BacktestPath {
  source: string;
  /** Spacing of the closes, seconds. */
  intervalSec: number;
  steps: PathStep[];
}

export type Substeps = 'bridge' | 'ohlc' | 'close';

/** A USD price (float, as parsed from a CSV) -> 8 decimals. A price, not an amount. */
export function priceE8FromUsd(price: number): bigint {
  if (!(price > 0 && Number.isFinite(price))) throw new RangeError(`bad price ${price}`);
  return BigInt(Math.round(price * 1e8));
}

function candleTicks(c: Candle): [number, number, number] {
  return c.close >= c.open ? [c.low, c.high, c.close] : [c.high, c.low, c.close];
}

export interface CandlePathOptions {
  /** Default 'bridge'. */
  substeps?: Substeps;
  /** 'bridge': ticks per candle, the close included. Default 4 (every 15 minutes on hourly data). */
  ticksPerClose?: number;
  /** 'bridge': seed of the bridge noise. Default 1. */
  seed?: number;
  /** Index of the first candle used, and how many (default: all). */
  from?: number;
  count?: number;
}

export function pathFromCandles(set: CandleSet, opts: CandlePathOptions = {}): BacktestPath {
  const from = opts.from ?? 0;
  const candles = set.candles.slice(from, opts.count === undefined ? undefined : from + opts.count);
  const first = candles[0];
  if (!first) throw new RangeError(`${set.source}: no candles in the requested slice`);
  const dt = set.intervalSec;
  const steps: PathStep[] = [{ timeSec: first.timeSec, priceE8: priceE8FromUsd(first.open), isClose: true }];
  const mode = opts.substeps ?? 'bridge';
  const bridge = mode === 'bridge' ? createBridge(opts.seed ?? 1, opts.ticksPerClose ?? 4) : null;
  let prevClose = first.open;
  for (const c of candles) {
    if (bridge) {
      bridge(prevClose, c, dt, steps);
      prevClose = c.close;
      continue;
    }
    if (mode === 'close') {
      steps.push({ timeSec: c.timeSec + dt, priceE8: priceE8FromUsd(c.close), isClose: true });
      continue;
    }
    const [x1, x2, close] = candleTicks(c);
    steps.push(
      { timeSec: c.timeSec + Math.round(dt / 3), priceE8: priceE8FromUsd(x1), isClose: false },
      { timeSec: c.timeSec + Math.round((2 * dt) / 3), priceE8: priceE8FromUsd(x2), isClose: false },
      { timeSec: c.timeSec + dt, priceE8: priceE8FromUsd(close), isClose: true },
    );
  }
  return { source: set.source, intervalSec: dt, steps };
}

type Bridge = (fromPrice: number, c: Candle, intervalSec: number, out: PathStep[]) => void;

/** Ticks of a Brownian bridge in log price from the previous close to the candle's close. */
function createBridge(seed: number, ticks: number): Bridge {
  if (!Number.isInteger(ticks) || ticks < 1) throw new RangeError('ticksPerClose must be an integer >= 1');
  const rng = createRng(seed);
  const w = new Float64Array(ticks + 1);
  return (fromPrice, c, dt, out) => {
    const sigma = c.high > c.low && c.low > 0 ? Math.log(c.high / c.low) / Math.sqrt(4 * Math.LN2) : 0;
    for (let j = 1; j <= ticks; j++) w[j] = w[j - 1]! + rng.normal() / Math.sqrt(ticks);
    const x0 = Math.log(fromPrice);
    const drift = Math.log(c.close) - x0;
    for (let j = 1; j < ticks; j++) {
      const t = j / ticks;
      const x = x0 + t * drift + sigma * (w[j]! - t * w[ticks]!);
      out.push({ timeSec: c.timeSec + Math.round(t * dt), priceE8: priceE8FromUsd(Math.exp(x)), isClose: false });
    }
    out.push({ timeSec: c.timeSec + dt, priceE8: priceE8FromUsd(c.close), isClose: true });
  };
}

export interface SimulatedPathOptions {
  model: 'gbm' | 'jump';
  seed: number;
  /** Number of closes (hours). */
  steps: number;
  /** Ticks per close (the GBM is simulated at this finer step). Default 3, like the OHLC path. */
  substeps?: number;
  intervalSec?: number;
  startPriceE8?: bigint;
  startSec?: number;
  volAnnual?: number;
  driftAnnual?: number;
  jumps?: JumpOptions;
}

/** Crash-prone jumps: ~12 a year, -3% on average, 8% log-size dispersion. */
export const DEFAULT_JUMPS: JumpOptions = { intensityPerYear: 12, meanPct: -3, stdPct: 8 };

export function simulatedPath(o: SimulatedPathOptions): BacktestPath {
  const substeps = o.substeps ?? 3;
  const intervalSec = o.intervalSec ?? 3600;
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new RangeError('simulated path needs steps >= 1');
  if (!Number.isInteger(substeps) || substeps < 1 || intervalSec % substeps !== 0) throw new RangeError('substeps must divide the interval');
  const startPriceE8 = o.startPriceE8 ?? 2000n * 10n ** 8n;
  const startSec = o.startSec ?? 1_577_836_800; // 2020-01-01T00:00:00Z
  const gen = createGbmPath({
    seed: o.seed,
    startPriceE8,
    volAnnual: o.volAnnual ?? 0.8,
    driftAnnual: o.driftAnnual ?? 0,
    stepSec: intervalSec / substeps,
    jumps: o.model === 'jump' ? (o.jumps ?? DEFAULT_JUMPS) : undefined,
  });
  const steps: PathStep[] = [{ timeSec: startSec, priceE8: startPriceE8, isClose: true }];
  for (let i = 1; i <= o.steps * substeps; i++) {
    steps.push({ timeSec: startSec + (i * intervalSec) / substeps, priceE8: gen.next().value, isClose: i % substeps === 0 });
  }
  return { source: `simulated ${o.model} seed ${o.seed}`, intervalSec, steps };
}

/** A path as typed arrays, for a worker thread (structured clone copies these in one block each). */
export interface PackedPath {
  source: string;
  intervalSec: number;
  timeSec: Float64Array;
  priceE8: BigInt64Array;
  isClose: Uint8Array;
}

export function packPath(path: BacktestPath): PackedPath {
  const n = path.steps.length;
  const out: PackedPath = { source: path.source, intervalSec: path.intervalSec, timeSec: new Float64Array(n), priceE8: new BigInt64Array(n), isClose: new Uint8Array(n) };
  path.steps.forEach((s, i) => {
    out.timeSec[i] = s.timeSec;
    out.priceE8[i] = s.priceE8;
    out.isClose[i] = s.isClose ? 1 : 0;
  });
  return out;
}

export function unpackPath(p: PackedPath): BacktestPath {
  const steps: PathStep[] = new Array(p.timeSec.length);
  for (let i = 0; i < steps.length; i++) steps[i] = { timeSec: p.timeSec[i]!, priceE8: p.priceE8[i]!, isClose: p.isClose[i] === 1 };
  return { source: p.source, intervalSec: p.intervalSec, steps };
}
