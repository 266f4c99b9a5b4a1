import { ewmaVolatility, type EwmaOptions } from './ewma.js';
import { kupiecPof, type KupiecResult } from './kupiec.js';
import { normQuantile } from './normal.js';

/**
 * Rolling VaR backtest: walk the returns, ask the model for the VaR of each period using only
 * the past, count the periods whose loss exceeded it, and test the count with Kupiec.
 * VaR is expressed as a positive log-return threshold; for a position of either sign the
 * test is on the return: a long loses when r < -VaR, a short when r > VaR.
 */

export type PositionSide = 'long' | 'short';

export interface VarBacktestInput {
  returns: readonly number[];
  /** VaR threshold (positive return) for returns[i] from returns[0..i-1]; undefined = skip. */
  varForecast: (i: number) => number | undefined;
  confidence: number;
  side?: PositionSide;
}

export interface VarBacktestResult {
  side: PositionSide;
  observations: number;
  exceedances: number;
  /** Indices into returns where the loss exceeded VaR. */
  exceedanceIndices: number[];
  kupiec: KupiecResult;
}

export function backtestVar(input: VarBacktestInput): VarBacktestResult {
  const side = input.side ?? 'long';
  let observations = 0;
  const exceedanceIndices: number[] = [];
  for (let i = 0; i < input.returns.length; i++) {
    const threshold = input.varForecast(i);
    if (threshold === undefined) continue;
    observations++;
    const r = input.returns[i]!;
    if (side === 'long' ? r < -threshold : r > threshold) exceedanceIndices.push(i);
  }
  return {
    side,
    observations,
    exceedances: exceedanceIndices.length,
    exceedanceIndices,
    kupiec: kupiecPof({ exceedances: exceedanceIndices.length, observations, expectedRate: 1 - input.confidence }),
  };
}

export interface EwmaVarBacktestInput {
  returns: readonly number[];
  confidence: number;
  ewma?: EwmaOptions;
  /** Periods skipped at the start while the EWMA forgets its seed. Default 100. */
  warmup?: number;
  side?: PositionSide;
}

/** Delta-normal VaR with an EWMA volatility, backtested on the same returns (ex-ante only). */
export function backtestEwmaVar(input: EwmaVarBacktestInput): VarBacktestResult {
  const warmup = input.warmup ?? 100;
  // The default EWMA seed averages the first seedCount returns: counting those periods would
  // test the model on data it has already seen.
  const seeded = input.ewma?.seedVariance === undefined ? (input.ewma?.seedCount ?? 30) : 0;
  if (warmup < seeded) throw new RangeError(`backtestEwmaVar: warmup ${warmup} < seed window ${seeded}`);
  const { forecasts } = ewmaVolatility(input.returns, input.ewma);
  const z = normQuantile(input.confidence);
  const base = { returns: input.returns, confidence: input.confidence, varForecast: (i: number) => (i < warmup ? undefined : z * Math.sqrt(forecasts[i]!)) };
  return backtestVar(input.side === undefined ? base : { ...base, side: input.side });
}
