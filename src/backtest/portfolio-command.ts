import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AssetId, Portfolio } from '../portfolio/model.js';
import { parsePortfolioYaml } from '../portfolio/file.js';
import { ConfigError } from '../config-reader.js';
import type { ProgressStream } from './progress.js';
import { assertSimulable } from './portfolio-sim.js';
import { runPortfolioBacktest } from './portfolio-run.js';
import { portfolioReport, portfolioSummaryText, type PortfolioBacktestReport } from './portfolio-report.js';
import {
  dataFilesFor, defaultPortfolioScenario, loadPortfolioData, validatePortfolioScenario, type PortfolioData, type PortfolioScenario,
} from './portfolio-scenario.js';

/**
 * `keeper backtest --portfolio keeper.yaml`: the portfolio keeper's own tick over every asset's
 * hourly closes (ETH and BTC default to the shipped files), then the unhedged baseline on the
 * same chain; writes <out>/portfolio-backtest.json and prints a summary (or the JSON with
 * --json). Returns the exit code: 0, or 2 for a bad file, option or data (message on stderr).
 */

export interface PortfolioScenarioOverrides {
  lpUsd?: number;
  range?: { low: number; high: number };
  lpFeeAprPct?: number;
  walletQuoteUsd?: number;
  takerFeeBps?: number;
  fundingApr?: number;
  slippageBps?: number;
  gasPriceGwei?: number;
}

export interface PortfolioBacktestOptions {
  /** Path of the keeper.yaml. */
  portfolio: string;
  /** Candle file per asset id; ETH and BTC default to the shipped hourly files. */
  data?: Readonly<Record<AssetId, string>>;
  /** Window of close times: ISO dates, from inclusive, to exclusive. */
  from?: string;
  to?: string;
  out?: string;
  /** Print the JSON instead of the summary. */
  json?: boolean;
  scenario?: PortfolioScenarioOverrides;
  stdout?: ProgressStream;
  stderr?: ProgressStream;
}

function dateSec(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(ms)) throw new RangeError(`${name} ${v}: expected a date (YYYY-MM-DD or ISO 8601)`);
  return Math.floor(ms / 1000);
}

export function portfolioScenarioWith(base: PortfolioScenario, o: PortfolioScenarioOverrides = {}): PortfolioScenario {
  return {
    ...base,
    ...(o.lpUsd !== undefined ? { lpUsd: o.lpUsd } : {}),
    ...(o.range ? { range: o.range } : {}),
    ...(o.lpFeeAprPct !== undefined ? { lpFeeAprPct: o.lpFeeAprPct } : {}),
    ...(o.walletQuoteUsd !== undefined ? { walletQuoteUsd: o.walletQuoteUsd } : {}),
    ...(o.slippageBps !== undefined ? { slippageBps: o.slippageBps } : {}),
    ...(o.gasPriceGwei !== undefined ? { gasPriceGwei: o.gasPriceGwei } : {}),
    perp: { takerFeeBps: o.takerFeeBps ?? base.perp.takerFeeBps, fundingApr: o.fundingApr ?? base.perp.fundingApr },
  };
}

/** Backtest a parsed portfolio over aligned data: the hedged run and the unhedged baseline. */
export function backtestPortfolio(portfolio: Portfolio, data: PortfolioData, scenario: PortfolioScenario, file = 'keeper.yaml'): PortfolioBacktestReport {
  const started = performance.now();
  const hedged = runPortfolioBacktest(portfolio, data, scenario, { file });
  const unhedged = runPortfolioBacktest(portfolio, data, scenario, { file, hedged: false });
  return portfolioReport(portfolio, data, scenario, hedged, unhedged, performance.now() - started);
}

export async function portfolioBacktestCommand(o: PortfolioBacktestOptions): Promise<number> {
  const started = performance.now();
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  let report: PortfolioBacktestReport;
  try {
    const text = await readFile(o.portfolio, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new RangeError(`--portfolio ${o.portfolio}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    const portfolio = parsePortfolioYaml(text, o.portfolio);
    assertSimulable(portfolio, o.portfolio);
    const scenario = validatePortfolioScenario(portfolioScenarioWith(defaultPortfolioScenario(), o.scenario));
    const data = await loadPortfolioData(dataFilesFor(portfolio, o.data ?? {}), dateSec('--from', o.from), dateSec('--to', o.to));
    report = backtestPortfolio(portfolio, data, scenario, o.portfolio);
  } catch (err) {
    if (err instanceof RangeError || err instanceof ConfigError || (err instanceof Error && err.name === 'CandleParseError')) {
      stderr.write(`keeper backtest: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const out = resolve(o.out ?? './reports');
  await mkdir(out, { recursive: true });
  report.timings.commandMs = performance.now() - started;
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(join(out, 'portfolio-backtest.json'), json);
  if (o.json) stdout.write(json);
  else {
    stdout.write(portfolioSummaryText(report));
    stdout.write(`wrote ${join(out, 'portfolio-backtest.json')} (engine ${(report.timings.engineMs / 1000).toFixed(1)} s, total ${(report.timings.commandMs / 1000).toFixed(1)} s)\n`);
  }
  return 0;
}
