import { existsSync } from 'node:fs';
import type { AssetId, Portfolio } from '../portfolio/model.js';
import type { CandleSet } from './candles.js';
import { loadCandlesCached } from './candle-cache.js';
import { dataFile } from './repo-root.js';

/**
 * The world a portfolio backtest replays a `keeper.yaml` in: the LP, the wallet, the venues'
 * costs (PortfolioScenario), and the hourly closes of every asset on their common hours
 * (PortfolioData). Defaults are documented in README.md ("Backtesting a portfolio").
 */

export interface PortfolioScenario {
  /** Total LP value, USD, split equally over the portfolio's pools; range as multiples of the risky side's start price. */
  lpUsd: number;
  range: { low: number; high: number };
  /** LP fee income while in range, % a year of the position's value. */
  lpFeeAprPct: number;
  /** Quote in the wallet at the start: the reserve the venues are funded and topped up from. */
  walletQuoteUsd: number;
  perp: { takerFeeBps: number; fundingApr: number };
  aave: { borrowApr: number; supplyApr: number };
  /** Fill worse than the oracle on every perp trade and Aave hedge swap. */
  slippageBps: number;
  /** Gas price (paid in the native coin at the price of the asset that wraps it) and gas per action. */
  gasPriceGwei: number;
  gas: { perpTrade: number; perpDeposit: number; aaveHedge: number; aaveSupply: number; withdraw: number };
}

export function defaultPortfolioScenario(): PortfolioScenario {
  return {
    lpUsd: 1_000_000,
    range: { low: 0.666667, high: 1.5 },
    lpFeeAprPct: 10,
    walletQuoteUsd: 1_000_000,
    perp: { takerFeeBps: 5, fundingApr: 0.1 },
    aave: { borrowApr: 0.03, supplyApr: 0.02 },
    slippageBps: 5,
    gasPriceGwei: 10,
    gas: { perpTrade: 150_000, perpDeposit: 100_000, aaveHedge: 450_000, aaveSupply: 150_000, withdraw: 100_000 },
  };
}

export function validatePortfolioScenario(s: PortfolioScenario): PortfolioScenario {
  const bad: string[] = [];
  const nonNeg = (x: number): boolean => Number.isFinite(x) && x >= 0;
  if (!nonNeg(s.lpUsd) || !nonNeg(s.walletQuoteUsd) || !nonNeg(s.lpFeeAprPct)) bad.push('LP value, LP fee APR and wallet must be >= 0');
  if (!(s.range.low > 0 && s.range.low < 1 && s.range.high > 1 && Number.isFinite(s.range.high))) bad.push('LP range must have 0 < LOW < 1 < HIGH');
  if (!Number.isInteger(s.perp.takerFeeBps) || s.perp.takerFeeBps < 0 || s.perp.takerFeeBps > 100) bad.push('taker fee (--fee-bps) must be an integer 0..100');
  if (!Number.isInteger(s.slippageBps) || s.slippageBps < 0 || s.slippageBps >= 10_000) bad.push('slippage (--slippage-bps) must be an integer in [0, 10000)');
  if (![s.perp.fundingApr, s.aave.borrowApr, s.aave.supplyApr].every((x) => Number.isFinite(x) && Math.abs(x) <= 10)) bad.push('rates must be within +-10 (1000%) a year');
  if (!nonNeg(s.gasPriceGwei) || !Object.values(s.gas).every(nonNeg)) bad.push('gas price and gas units must be >= 0');
  if (bad.length) throw new RangeError(`bad portfolio backtest scenario: ${bad.join('; ')}`);
  return s;
}

/** Closes of every asset on their common hours, oldest first. */
export interface PortfolioData {
  /** Close time of each step (candle open + interval), seconds. */
  timesSec: number[];
  closesE8: Record<AssetId, bigint[]>;
  /** Where each asset's candles came from. */
  sources: Record<AssetId, string>;
  intervalSec: number;
}

/** The shipped hourly file of an asset id, if there is one. */
const SHIPPED: Record<string, string> = { ETH: 'ethusdt-1h.csv.gz', BTC: 'btcusdt-1h.csv.gz' };

/** Each asset's candle file: --data ID=FILE, else the shipped one (ETH, BTC), else an error naming the asset. */
export function dataFilesFor(portfolio: Portfolio, given: Readonly<Record<AssetId, string>>): Record<AssetId, string> {
  const out: Record<AssetId, string> = {};
  for (const id of Object.keys(given)) {
    if (!portfolio.assets.some((a) => a.id === id)) throw new RangeError(`--data ${id}=...: the portfolio has no asset ${id} (assets: ${portfolio.assets.map((a) => a.id).join(', ')})`);
  }
  for (const a of portfolio.assets) {
    const file = given[a.id] ?? (SHIPPED[a.id.toUpperCase()] ? dataFile(SHIPPED[a.id.toUpperCase()]!) : undefined);
    if (file === undefined) throw new RangeError(`asset ${a.id} has no price data: pass --data ${a.id}=FILE (hourly candles, the shipped layout)`);
    if (!existsSync(file)) throw new RangeError(`--data ${a.id}=${file}: no such file`);
    out[a.id] = file;
  }
  return out;
}

/** Align candle sets on the hours they all have, within [fromSec, toSec) of close time. */
export function alignCandles(sets: Readonly<Record<AssetId, CandleSet>>, fromSec?: number, toSec?: number): PortfolioData {
  const ids = Object.keys(sets);
  if (ids.length === 0) throw new RangeError('no assets to backtest');
  const intervalSec = sets[ids[0]!]!.intervalSec;
  for (const id of ids) {
    if (sets[id]!.intervalSec !== intervalSec) throw new RangeError(`${sets[id]!.source}: interval ${sets[id]!.intervalSec} s, but ${sets[ids[0]!]!.source} has ${intervalSec} s`);
  }
  const maps = ids.map((id) => new Map(sets[id]!.candles.map((c) => [c.timeSec, c.close])));
  const timesSec: number[] = [];
  const closesE8: Record<AssetId, bigint[]> = Object.fromEntries(ids.map((id) => [id, []]));
  for (const c of sets[ids[0]!]!.candles) {
    const close = c.timeSec + intervalSec;
    if ((fromSec !== undefined && close < fromSec) || (toSec !== undefined && close >= toSec)) continue;
    if (!maps.every((m) => m.has(c.timeSec))) continue;
    timesSec.push(close);
    ids.forEach((id, k) => closesE8[id]!.push(BigInt(Math.round(maps[k]!.get(c.timeSec)! * 1e8))));
  }
  if (timesSec.length < 2) throw new RangeError(`the assets' data share ${timesSec.length} hour(s) in the window asked: nothing to backtest`);
  return { timesSec, closesE8, sources: Object.fromEntries(ids.map((id) => [id, sets[id]!.source])), intervalSec };
}

export async function loadPortfolioData(files: Readonly<Record<AssetId, string>>, fromSec?: number, toSec?: number): Promise<PortfolioData> {
  const sets: Record<AssetId, CandleSet> = {};
  for (const [id, file] of Object.entries(files)) sets[id] = await loadCandlesCached(file);
  return alignCandles(sets, fromSec, toSec);
}
