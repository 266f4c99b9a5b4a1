import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Portfolio } from '../../src/portfolio/model.js';
import { parsePortfolioYaml } from '../../src/portfolio/file.js';
import { examplePortfolioYaml } from '../../src/backtest/portfolio-example.js';
import { runPortfolioBacktest } from '../../src/backtest/portfolio-run.js';
import { portfolioBacktestCommand } from '../../src/backtest/portfolio-command.js';
import { perCloseStdUsd } from '../../src/backtest/portfolio-report.js';
import { dataFilesFor, defaultPortfolioScenario, loadPortfolioData } from '../../src/backtest/portfolio-scenario.js';
import { parseDataPairs, portfolioCommandOptions } from '../../src/backtest/cli-command.js';
import { perpReading, perpTrade, type SimPerpMarket } from '../../src/backtest/portfolio-venues.js';
import { venueCosts } from '../../src/backtest/portfolio-sim.js';
import { priceContextOf } from '../../src/core/portfolio/assess.js';
import { portfolioValueE8 } from '../../src/runner/portfolio-pnl.js';

/**
 * The portfolio backtest (issue 14 item 1): a keeper.yaml over ETH and BTC hourly data, through
 * the portfolio keeper's own tick. A 500-hour slice of the shipped files (2020-02-20 to
 * 2020-03-12: the March crash begins inside it).
 */

const FROM = '2020-02-20';
const TO_SEC = Date.parse('2020-02-20T00:00:00Z') / 1000 + 500 * 3600;
const TO = new Date(TO_SEC * 1000).toISOString();

function sink(): { stream: { write(s: string): boolean; isTTY?: boolean }; text: () => string } {
  let out = '';
  return { stream: { write: (s: string) => ((out += s), true) }, text: () => out };
}

function yamlFile(dir: string, text: string): string {
  const file = join(dir, 'keeper.yaml');
  writeFileSync(file, text);
  return file;
}

describe('portfolio backtest over ETH and BTC', async () => {
  const portfolio: Portfolio = parsePortfolioYaml(examplePortfolioYaml(), 'keeper.yaml');
  const data = await loadPortfolioData(dataFilesFor(portfolio, {}), Date.parse(`${FROM}T00:00:00Z`) / 1000, TO_SEC);
  const scenario = defaultPortfolioScenario();
  const hedged = runPortfolioBacktest(portfolio, data, scenario, { keepTicks: true });
  const unhedged = runPortfolioBacktest(portfolio, data, scenario, { hedged: false });

  it('aligns both assets on 500 common hours', () => {
    expect(data.timesSec).toHaveLength(500);
    expect(Object.keys(data.closesE8)).toEqual(['ETH', 'BTC']);
    // The close of the candle that opened 2020-02-19 23:00 UTC (ethusdt-1h.csv.gz).
    expect(data.timesSec[0]).toBe(Date.parse('2020-02-20T00:00:00Z') / 1000);
    expect(hedged.steps).toBe(500);
  });

  it('the attribution parts sum to the value change exactly, to the USD E8 unit', () => {
    const a = hedged.attribution;
    const change = hedged.values.at(-1)! - hedged.values[0]!;
    const hedge = Object.values(a.hedge).reduce((s, x) => s + x, 0n);
    expect(a.lpFees + a.lpPriceMove + a.lpLossVsHolding + hedge + a.fundingInterest + a.tradingFees + a.gas + a.unexplained).toBe(change);
    expect(a.total).toBe(change);
    // And the change is the snapshots' own: their value (portfolio-pnl.ts, without the native gas
    // tank: includeNative is off) less the gas the tank paid.
    const t = hedged.ticks!;
    expect(change).toBe(portfolioValueE8(portfolio, t.at(-1)!.snapshot) - portfolioValueE8(portfolio, t[0]!.snapshot) + a.gas);
    // What stays unexplained is integer rounding (quote units of swaps), under a cent over 500 hours.
    expect(a.unexplained < 1_000_000n && a.unexplained > -1_000_000n).toBe(true);
    // Every named line did something: the LPs earned fees and lost against holding, hedges paid fees and gas.
    expect(a.lpFees).toBeGreaterThan(0n);
    expect(a.lpLossVsHolding).toBeLessThan(0n);
    expect(a.tradingFees).toBeLessThan(0n);
    expect(a.gas).toBeLessThan(0n);
    expect(a.fundingInterest).not.toBe(0n);
    expect(Object.keys(a.hedge).sort()).toEqual(['aave', 'perp']);
    // The unhedged run: the chain steps alone; its attribution has no hedge, fee or gas.
    const u = unhedged.attribution;
    expect(u.total).toBe(unhedged.values.at(-1)! - unhedged.values[0]!);
    expect([u.tradingFees, u.gas, u.hedge['perp'], u.hedge['aave']]).toEqual([0n, 0n, 0n, 0n]);
  });

  it('the value series is the snapshots\' value, and the first snapshot is the start', () => {
    const t0 = hedged.ticks![0]!;
    expect(hedged.values[0]).toBe(portfolioValueE8(portfolio, t0.snapshot));
    // $1M of LP over three pools and $1M in the wallet, minted at the first closes (each pool rounds down).
    expect(Number(hedged.values[0]!) / 1e8).toBeCloseTo(2_000_000, 0);
    expect(hedged.values[0]!).toBeLessThanOrEqual(2_000_000n * 10n ** 8n);
  });

  it('the hedge removes most of the per-close variance', () => {
    const std = perCloseStdUsd(hedged.values);
    const stdU = perCloseStdUsd(unhedged.values);
    expect(std).toBeLessThan(stdU / 4);
    expect(hedged.trades.byAsset['ETH']).toBeGreaterThan(0);
    expect(hedged.trades.byAsset['BTC']).toBeGreaterThan(0);
    expect(Object.values(hedged.liquidations)).toEqual([0, 0]);
  });

  it('writes portfolio-backtest.json with the documented keys (command line path)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbt-'));
    const out = sink();
    const err = sink();
    const code = await portfolioBacktestCommand({ portfolio: yamlFile(dir, examplePortfolioYaml()), from: FROM, to: TO, out: dir, json: true, stdout: out.stream, stderr: err.stream });
    expect(err.text()).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'portfolio-backtest.json'), 'utf8'));
    expect(JSON.parse(out.text())).toEqual(json);
    for (const k of ['assets', 'steps', 'trades', 'costUsd', 'perCloseStdUsd', 'finalValueUsd', 'attribution', 'perAsset', 'perVenue']) expect(json).toHaveProperty(k);
    expect(Object.keys(json.attribution)).toEqual(['lpFees', 'lpPriceMove', 'lpLossVsHolding', 'hedge', 'fundingInterest', 'tradingFees', 'gas', 'unexplained', 'total']);
    expect(json.assets).toEqual(['ETH', 'BTC']);
    expect(json.steps).toBe(500);
    expect(Object.keys(json.perAsset)).toEqual(['ETH', 'BTC']);
    expect(Object.keys(json.perAsset.ETH)).toEqual(['trades', 'meanAbsDeltaUsd']);
    expect(Object.keys(json.perVenue)).toEqual(['perp', 'aave']);
    // The same run as above, figure for figure.
    expect(json.trades).toBe(hedged.trades.byAsset['ETH']! + hedged.trades.byAsset['BTC']!);
    expect(json.finalValueUsd).toBe(Number(hedged.values.at(-1)!) / 1e8);
    expect(json.perCloseStdUsd).toBe(perCloseStdUsd(hedged.values));
    expect(json.costUsd).toBe(-Number(hedged.attribution.tradingFees + hedged.attribution.gas + hedged.attribution.fundingInterest) / 1e8);
    expect(json.unhedged.perCloseStdUsd).toBe(perCloseStdUsd(unhedged.values));
  });

  it('the summary fits one screen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbt-'));
    const out = sink();
    expect(await portfolioBacktestCommand({ portfolio: yamlFile(dir, examplePortfolioYaml()), from: FROM, to: TO, out: dir, stdout: out.stream, stderr: sink().stream })).toBe(0);
    const lines = out.text().trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(lines[0]).toBe('portfolio backtest: ETH, BTC over 500 hourly closes (2020-02-20T00:00 to 2020-03-11T19:00)');
    expect(out.text()).toMatch(/where the money went/);
  });
});

describe('portfolio backtest: refusals', () => {
  it('refuses a venue kind it does not simulate, naming the venue and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbt-'));
    const hl = examplePortfolioYaml().replace('instruments:', `  hl: { kind: hyperliquid, apiUrl: 'http://127.0.0.1:9', user: 0x${'7'.repeat(40)}, markets: { ETH: ETH } }\ninstruments:`);
    const file = yamlFile(dir, hl);
    const err = sink();
    expect(await portfolioBacktestCommand({ portfolio: file, out: dir, stdout: sink().stream, stderr: err.stream })).toBe(2);
    expect(err.text()).toBe(`keeper backtest: ${file}: venue "hl" is of kind hyperliquid, which the portfolio backtest does not simulate (perp and aave only)\n`);
  });

  it('refuses an asset without data, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbt-'));
    const sol = examplePortfolioYaml()
      .replace('assets:\n', `assets:\n  SOL: { token: 0x${'5'.repeat(40)}, decimals: 9, feed: 0x${'6'.repeat(40)}, heartbeat: 3600 }\n`)
      .replace('  assets:\n', '  assets:\n    SOL: { hedgeRatio: 0, band: 1, minTrade: 0.1, maxTrade: 10, maxNotionalPerDayUsd: 1000 }\n');
    const err = sink();
    expect(await portfolioBacktestCommand({ portfolio: yamlFile(dir, sol), out: dir, stdout: sink().stream, stderr: err.stream })).toBe(2);
    expect(err.text()).toBe('keeper backtest: asset SOL has no price data: pass --data SOL=FILE (hourly candles, the shipped layout)\n');
  });

  it('parses --data ASSET=FILE and refuses single-asset options with --portfolio', () => {
    expect(parseDataPairs(['ETH=a.csv', 'BTC=b.csv.gz'])).toEqual({ ETH: 'a.csv', BTC: 'b.csv.gz' });
    expect(() => parseDataPairs(['a.csv'])).toThrow('--data a.csv: with --portfolio, give ASSET=FILE (e.g. --data ETH=eth.csv.gz)');
    expect(() => parseDataPairs(['ETH=a', 'ETH=b'])).toThrow('--data ETH= is given twice');
    expect(portfolioCommandOptions({ portfolio: 'k.yaml', data: ['ETH=e.csv'], from: '2020-01-01', out: 'r', feeBps: 2 })).toEqual({
      portfolio: 'k.yaml', data: { ETH: 'e.csv' }, from: '2020-01-01', to: undefined, out: 'r', json: false, scenario: { takerFeeBps: 2 },
    });
    expect(() => portfolioCommandOptions({ portfolio: 'k.yaml', policies: ['default'] })).toThrow('--policies is an option of the single-asset backtest; it does not apply with --portfolio');
    expect(() => portfolioCommandOptions({ portfolio: 'k.yaml', from: 10 })).toThrow('--from 10: with --portfolio, --from takes a date (YYYY-MM-DD)');
  });
});

describe('simulated perp venue: a trade costs the taker fee and the slippage, exactly', () => {
  it('a 2 ETH short at $2,000 with 5 bps fee and 5 bps slippage', () => {
    const portfolio = parsePortfolioYaml(examplePortfolioYaml(), 'keeper.yaml');
    const spec = portfolio.venues.find((v) => v.id === 'perp')!;
    if (spec.kind !== 'perp') throw new Error('perp venue expected');
    const costs = venueCosts(defaultPortfolioScenario());
    const snapshot = { prices: { ETH: { priceE8: 2_000n * 10n ** 8n, updatedAtSec: 0n }, BTC: { priceE8: 30_000n * 10n ** 8n, updatedAtSec: 0n } }, quotePriceE8: 10n ** 8n };
    const ctx = priceContextOf(portfolio, snapshot as never);
    const markets: Record<string, SimPerpMarket> = {
      ETH: { sizeE18: 0n, entryPriceE8: 0n, marginUnits: 1_000n * 10n ** 6n, pendingUnits: 0n },
      BTC: { sizeE18: 0n, entryPriceE8: 0n, marginUnits: 0n, pendingUnits: 0n },
    };
    const r = perpTrade(spec, perpReading(spec, markets, ctx, costs), markets['ETH']!, ctx, portfolio.assets[0]!, -2n * 10n ** 18n, costs);
    // Fill at 2,000 × (1 − 0.0005) = 1,999; fee 4,000 × 0.0005 = $2; slippage 2 × $1 = $2.
    expect(r).toEqual({ slippageE8: 2n * 10n ** 8n });
    expect(markets['ETH']).toEqual({ sizeE18: -2n * 10n ** 18n, entryPriceE8: 1_999n * 10n ** 8n, marginUnits: 998n * 10n ** 6n, pendingUnits: 0n });
    // Valued at the oracle: 998 − 2 × (2,000 − 1,999) = $996: the fee and the slippage, nothing else.
    expect(perpReading(spec, markets, ctx, costs).markets['ETH']!.accountValueUnits).toBe(996n * 10n ** 6n);
    // A short past the initial ratio (10%) is refused, as the exchange would.
    const big = perpTrade(spec, perpReading(spec, markets, ctx, costs), markets['ETH']!, ctx, portfolio.assets[0]!, -3n * 10n ** 18n, costs);
    expect(big).toHaveProperty('refused');
  });
});
