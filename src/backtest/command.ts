import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { HedgePolicy } from '../core/types.js';
import { loadConfig } from '../config.js';
import { defaultEthCandles, loadCandles } from './candles.js';
import { runBacktest, type BacktestResult } from './backtest.js';
import { pathFromCandles, simulatedPath, type BacktestPath, type Substeps } from './path.js';
import { DEFAULT_POLICY_NAMES, defaultScenario, policyPresets, validateScenario, type BacktestScenario } from './policies.js';
import { createProgress, type ProgressStream } from './progress.js';
import { backtestJson, metricsText, reportData } from './report.js';
import { renderReportHtml } from './report-html.js';

/**
 * `keeper backtest`: replay a price path through the keeper's assess/plan for each policy and
 * write <out>/backtest.json and <out>/backtest.html. Returns the exit code: 0, or 2 for bad
 * options (the message goes to stderr).
 */

export interface BacktestCommandOptions {
  /** A candle CSV (the Binance / CryptoDataDownload layout). Default: the shipped ETH/USDT hourly file. */
  data?: string;
  /** Simulate instead: `steps` hourly closes of a seeded GBM (or GBM with jumps). */
  simulate?: { model: 'gbm' | 'jump'; seed: number; steps: number };
  /** Output directory. Default ./reports. */
  out?: string;
  /** Policy names: fixed, vol, ww, unhedged, time, time-<n><s|m|h|d>. Default fixed, vol, ww, time-1h. */
  policies?: string[];
  /** Ticks between closes: bridge (default), ohlc or close. See path.ts. */
  substeps?: Substeps;
  /** Ticks per close for bridge paths and simulations. Default 4. */
  ticksPerClose?: number;
  /** Seed of the bridge noise between closes. Default 1. */
  seed?: number;
  /** Candle slice: first index and number of candles. Default: the whole file. */
  from?: number;
  count?: number;
  /** The base policy (the CLI passes config.policy). Default: loadConfig({}).policy. */
  policy?: HedgePolicy;
  /** Overrides of the backtest world (LP size, wallet, costs), merged into the defaults; see policies.ts. */
  scenario?: ScenarioOverrides;
  stdout?: ProgressStream;
  stderr?: ProgressStream;
}

export type ScenarioOverrides = Partial<Omit<BacktestScenario, 'lp' | 'perp' | 'gas'>> & {
  lp?: Partial<BacktestScenario['lp']>;
  perp?: Partial<BacktestScenario['perp']>;
  gas?: Partial<BacktestScenario['gas']>;
};

export function scenarioWith(base: BacktestScenario, o: ScenarioOverrides = {}): BacktestScenario {
  return { ...base, ...o, lp: { ...base.lp, ...o.lp }, perp: { ...base.perp, ...o.perp }, gas: { ...base.gas, ...o.gas } };
}

export async function loadPath(o: BacktestCommandOptions): Promise<BacktestPath> {
  if (o.simulate) {
    const { model, seed, steps } = o.simulate;
    return simulatedPath({ model, seed, steps, substeps: o.substeps === 'close' ? 1 : (o.ticksPerClose ?? 4) });
  }
  const set = o.data ? await loadCandles(o.data) : await defaultEthCandles();
  return pathFromCandles(set, { substeps: o.substeps, ticksPerClose: o.ticksPerClose, seed: o.seed, from: o.from, count: o.count });
}

function notes(s: BacktestScenario, o: BacktestCommandOptions): string[] {
  const recenter = { notional: `re-minted around the price at ${s.lp.valueUsd} USD when the price leaves the range (a surplus goes to the wallet, a shortfall is brought in from outside and counted as inflow)`, value: 're-minted with its own value when the price leaves the range', off: 'never recentered' }[s.lp.recenter];
  const ticks = o.simulate ? 'simulated ticks' : { bridge: `${o.ticksPerClose ?? 4} ticks per close on a seeded Brownian bridge between the data's closes with each candle's high-low variance`, ohlc: 'open-low-high-close ticks (biased against band policies: see path.ts)', close: 'closes only' }[o.substeps ?? 'bridge'];
  return [
    `Keeper ticks: ${ticks}. Every tick runs the keeper's own assess -> plan -> guard on a synthetic snapshot; results are sampled at the closes.`,
    `Portfolio: a Uniswap V3 WETH/USDC LP of ${s.lp.valueUsd} USD, range +-${s.lp.widthPct}% (tick spacing ${s.lp.tickSpacing}), ${recenter}; LP fees ${s.lp.feeAprPct}% a year; wallet ${s.walletWethEth} WETH and ${s.walletUsdc} USDC (the margin reserve).`,
    `Hedge: a short on the reference perp exchange (taker fee ${s.perp.takerFeeBps} bps, initial margin 10%, maintenance 5%, liquidation closes the position with a 1% penalty), funding ${s.perp.fundingAprPaidByShorts * 100}% a year paid by shorts; it starts at target with the margin at the top-up target.`,
    `Costs: slippage ${s.slippageBps} bps on every hedge fill and LP swap; gas ${s.gasPriceGwei} gwei x ${s.gas.hedgeTrade} per hedge trade and ${s.gas.topUp} per top-up, at the ETH price of the moment.`,
    'Hedging cost = fees + slippage + gas + net funding + liquidation penalties. Residual std = standard deviation of the change in portfolio value from one keeper tick to the next (USD); also shown from one close to the next, the grid on which an hourly rebalancer has just reset its delta to zero (its best case).',
    'Sharpe and Sortino: mean per-close P&L over its standard deviation (Sortino: downside deviation), annualised by sqrt(closes per year). Max drawdown: largest fall of the portfolio value from a peak.',
    'Time outside band: share of ticks whose deviation exceeded the band before the keeper acted; time-based policies are measured against the fixed band.',
  ];
}

export async function backtestCommand(opts: BacktestCommandOptions = {}): Promise<number> {
  const stderr = opts.stderr ?? process.stderr;
  const stdout = opts.stdout ?? process.stdout;
  let result: BacktestResult;
  let base: HedgePolicy;
  try {
    base = opts.policy ?? loadConfig({}).policy;
    const policies = policyPresets(opts.policies ?? [...DEFAULT_POLICY_NAMES], base);
    if (policies.length === 0) throw new RangeError('no policy to backtest');
    const scenario = validateScenario(scenarioWith(defaultScenario(base), opts.scenario));
    const path = await loadPath(opts);
    result = runBacktest(path, policies, scenario, createProgress({ stream: stderr }));
  } catch (err) {
    if (err instanceof RangeError || (err instanceof Error && err.name === 'CandleParseError')) {
      stderr.write(`keeper backtest: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const out = resolve(opts.out ?? './reports');
  await mkdir(out, { recursive: true });
  const generatedAt = new Date().toISOString();
  const source = result.path.source;
  const meta = { source, generatedAt, intervalSec: result.path.intervalSec, substeps: opts.simulate ? 'simulated' : (opts.substeps ?? 'bridge'), ticksPerClose: opts.ticksPerClose ?? 4, seed: opts.seed ?? 1, simulate: opts.simulate ?? null };
  await writeFile(join(out, 'backtest.json'), backtestJson(result, meta));
  const html = renderReportHtml(reportData(result, { title: 'Keeper backtest: hedging policies compared', source, notes: notes(result.scenario, opts), basePolicy: base, generatedAt }));
  await writeFile(join(out, 'backtest.html'), html);
  stdout.write(metricsText(result.runs.map(({ run, metrics }) => ({ name: run.name, metrics }))));
  stdout.write(`wrote ${join(out, 'backtest.json')} and ${join(out, 'backtest.html')} (${(result.totalMs / 1000).toFixed(1)} s)\n`);
  return 0;
}
