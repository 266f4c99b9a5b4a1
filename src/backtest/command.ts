import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { GuardPolicy, HedgePolicy } from '../core/types.js';
import { loadConfig } from '../config.js';
import type { CandleSet } from './candles.js';
import { loadCandlesCached } from './candle-cache.js';
import { runBacktest, type BacktestResult } from './backtest.js';
import { pathFromCandles, simulatedPath, type BacktestPath, type Substeps } from './path.js';
import { BASELINE_NAMES, DEFAULT_POLICY_NAMES, defaultScenario, policyPresets, validateScenario, type BacktestScenario } from './policies.js';
import { createProgress, type ProgressStream } from './progress.js';
import { backtestJson, metricsText, reportData } from './report.js';
import { renderReportHtml } from './report-html.js';
import { dataFile } from './repo-root.js';
import { scenarioNotes } from './notes.js';

/**
 * `keeper backtest`: replay a price path through the keeper's assess/plan/guard for each policy
 * and write <out>/backtest.json and <out>/backtest.html. Returns the exit code: 0, or 2 for bad
 * options (the message goes to stderr).
 */

export interface BacktestCommandOptions {
  /** A candle CSV (.gz ok), or a shipped file by name: eth-1h (default), btc-1h, btc-1d. */
  data?: string;
  /** Simulate instead: `steps` hourly closes of a seeded GBM (or GBM with jumps). */
  simulate?: { model: 'gbm' | 'jump'; seed: number; steps: number };
  /** Output directory. Default ./reports. */
  out?: string;
  /** Policy names (see policies.ts). Default time-1h, fixed, ww, default. */
  policies?: string[];
  /** Add the unhedged and static-hedge baselines (default true). */
  baselines?: boolean;
  /** Ticks between closes: bridge (default), ohlc or close. See path.ts. */
  substeps?: Substeps;
  /** Ticks per close for bridge paths and simulations. Default 4. */
  ticksPerClose?: number;
  /** Seed of the bridge noise between closes. Default 1. */
  seed?: number;
  /** Candle slice: first index and number of candles. Default: the whole file. */
  from?: number;
  count?: number;
  /** The configured policy and guard (the CLI passes the configuration's). Default: loadConfig({}). */
  policy?: HedgePolicy;
  guard?: GuardPolicy;
  /** Overrides of the backtest world, merged into the defaults; see policies.ts. */
  scenario?: ScenarioOverrides;
  /** Worker threads (0 = this thread). Default: one per core. */
  workers?: number;
  stdout?: ProgressStream;
  stderr?: ProgressStream;
}

export type ScenarioOverrides = Partial<Omit<BacktestScenario, 'lp' | 'perp' | 'tx'>> & {
  lp?: Partial<BacktestScenario['lp']>;
  perp?: Partial<BacktestScenario['perp']>;
  tx?: Partial<BacktestScenario['tx']>;
};

export function scenarioWith(base: BacktestScenario, o: ScenarioOverrides = {}): BacktestScenario {
  return { ...base, ...o, lp: { ...base.lp, ...o.lp }, perp: { ...base.perp, ...o.perp }, tx: { ...base.tx, ...o.tx } };
}

const SHIPPED: Record<string, string> = { 'eth-1h': 'ethusdt-1h.csv.gz', 'btc-1h': 'btcusdt-1h.csv.gz', 'btc-1d': 'btcusdt-1d.csv.gz' };

async function loadSet(data: string | undefined): Promise<CandleSet> {
  const shipped = SHIPPED[data ?? 'eth-1h'];
  if (shipped) {
    if (!existsSync(dataFile(shipped))) throw new RangeError(`--data ${data}: ${dataFile(shipped)} is not shipped`);
    return loadCandlesCached(dataFile(shipped));
  }
  if (!existsSync(data!)) throw new RangeError(`--data ${data}: no such file (or use eth-1h, btc-1h, btc-1d)`);
  return loadCandlesCached(data!);
}

/**
 * ETH/USD at each step, to price gas in ETH when the data is another asset: the last ETH close
 * at or before the step (the first open before the ETH data starts, the last close after).
 */
async function ethPricesFor(path: BacktestPath, set: CandleSet | null): Promise<BigInt64Array | undefined> {
  if (!set || set.symbol.toUpperCase().startsWith('ETH')) return undefined;
  const eth = (await loadCandlesCached(dataFile(SHIPPED['eth-1h']!))).candles;
  const out = new BigInt64Array(path.steps.length);
  let k = -1;
  path.steps.forEach((s, i) => {
    while (k + 1 < eth.length && eth[k + 1]!.timeSec + set.intervalSec <= s.timeSec) k++;
    out[i] = BigInt(Math.round((k < 0 ? eth[0]!.open : eth[k]!.close) * 1e8));
  });
  return out;
}

export async function loadPath(o: BacktestCommandOptions): Promise<{ path: BacktestPath; set: CandleSet | null }> {
  if (o.simulate) {
    const { model, seed, steps } = o.simulate;
    return { path: simulatedPath({ model, seed, steps, substeps: o.substeps === 'close' ? 1 : (o.ticksPerClose ?? 4) }), set: null };
  }
  const set = await loadSet(o.data);
  return { path: pathFromCandles(set, { substeps: o.substeps, ticksPerClose: o.ticksPerClose, seed: o.seed, from: o.from, count: o.count }), set };
}

export async function backtestCommand(opts: BacktestCommandOptions = {}): Promise<number> {
  const started = performance.now();
  const stderr = opts.stderr ?? process.stderr;
  const stdout = opts.stdout ?? process.stdout;
  let result: BacktestResult;
  let base: HedgePolicy;
  let gasFromEthData = false;
  try {
    const defaults = loadConfig({});
    base = opts.policy ?? defaults.policy;
    const names = [...(opts.policies ?? DEFAULT_POLICY_NAMES), ...(opts.baselines === false ? [] : BASELINE_NAMES)];
    const policies = policyPresets(names, base, defaults.policy);
    const scenario = validateScenario(scenarioWith(defaultScenario(opts.guard ?? defaults.guard), opts.scenario));
    const { path, set } = await loadPath(opts);
    const ethPriceE8 = await ethPricesFor(path, set);
    gasFromEthData = ethPriceE8 !== undefined;
    result = await runBacktest(path, policies, scenario, { workers: opts.workers, progress: createProgress({ stdout, stderr }), ethPriceE8 });
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
  const meta = {
    source, generatedAt, intervalSec: result.path.intervalSec, substeps: opts.simulate ? 'simulated' : (opts.substeps ?? 'bridge'),
    ticksPerClose: opts.ticksPerClose ?? 4, seed: opts.seed ?? 1, simulate: opts.simulate ?? null, workers: result.workers,
  };
  const notes = scenarioNotes(result.scenario, { substeps: meta.substeps, ticksPerClose: meta.ticksPerClose, gasFromEthData });
  await writeFile(join(out, 'backtest.json'), backtestJson(result, { ...meta, timings: { engineMs: result.engineMs, commandMs: performance.now() - started } }));
  const html = renderReportHtml(reportData(result, { title: 'Keeper backtest: hedging policies compared', source, notes, basePolicy: base, generatedAt }));
  await writeFile(join(out, 'backtest.html'), html);
  stdout.write(metricsText(result.runs.map(({ run, metrics }) => ({ name: run.name, metrics }))));
  const secs = (ms: number): string => (ms / 1000).toFixed(1);
  stdout.write(`wrote ${join(out, 'backtest.json')} and ${join(out, 'backtest.html')} (engine ${secs(result.engineMs)} s on ${result.workers || 1} thread(s), total ${secs(performance.now() - started)} s)\n`);
  return 0;
}
