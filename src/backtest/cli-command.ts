import { Command, InvalidArgumentError, Option } from 'commander';
import type { KeeperConfig } from '../config.js';
import type { BacktestCommandOptions, ScenarioOverrides } from './command.js';
import type { PortfolioBacktestOptions } from './portfolio-command.js';

/**
 * `keeper backtest` on the command line: its options and their mapping to a scenario. Used by
 * src/cli.ts and by the bundled fast entry (main.ts), so both parse the same way.
 */

/** A numeric option, refused with a message that names it. */
function num(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} expects a number, got "${v}"`);
    return n;
  };
}

/** `--range 0.666667:1.5`: the LP range as multiples of the price at minting. */
export function parseRange(v: string): { low: number; high: number } {
  const m = /^\s*([0-9.eE+-]+)\s*:\s*([0-9.eE+-]+)\s*$/.exec(v);
  const low = m ? Number(m[1]) : NaN;
  const high = m ? Number(m[2]) : NaN;
  if (!(low > 0 && low < 1 && high > 1 && Number.isFinite(high))) {
    throw new InvalidArgumentError(`--range expects LOW:HIGH multiples of the start price with 0 < LOW < 1 < HIGH (e.g. 0.666667:1.5), got "${v}"`);
  }
  return { low, high };
}

type Opts = Record<string, unknown>;

/** `--data` may repeat (`--data ETH=a.csv --data BTC=b.csv` with --portfolio); a single-asset run takes the last. */
function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** `--from`: a candle index (single asset) or a date (--portfolio); which one is checked by the mode. */
function indexOrDate(v: string): number | string {
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  if (v.trim() !== '' && Number.isFinite(Date.parse(v))) return v.trim();
  throw new InvalidArgumentError(`--from expects a candle index, or a date with --portfolio (YYYY-MM-DD), got "${v}"`);
}

const lastOf = (v: unknown): string | undefined => (Array.isArray(v) ? (v[v.length - 1] as string | undefined) : (v as string | undefined));

/** `ETH=FILE` pairs -> { ETH: FILE }; a repeated id or a missing `=` is refused. */
export function parseDataPairs(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const k = v.indexOf('=');
    if (k <= 0 || k === v.length - 1) throw new RangeError(`--data ${v}: with --portfolio, give ASSET=FILE (e.g. --data ETH=eth.csv.gz)`);
    const id = v.slice(0, k).trim();
    if (out[id] !== undefined) throw new RangeError(`--data ${id}= is given twice`);
    out[id] = v.slice(k + 1).trim();
  }
  return out;
}

/** Options of the single-asset backtest that mean nothing for a portfolio: refused rather than ignored. */
const SINGLE_ASSET_ONLY: Record<string, string> = {
  simulate: '--simulate', policies: '--policies', substeps: '--substeps', ticksPerClose: '--ticks-per-close', count: '--count',
  episodeDays: '--episode-days', lpWidthPct: '--lp-width-pct', recenter: '--recenter', costPerTradeUsd: '--cost-per-trade-usd', workers: '--workers', seed: '--seed',
};

/** The portfolio backtest's options (`--portfolio FILE`); throws a RangeError naming an option that does not apply. */
export function portfolioCommandOptions(o: Opts): PortfolioBacktestOptions {
  for (const [key, flag] of Object.entries(SINGLE_ASSET_ONLY)) {
    if (o[key] !== undefined) throw new RangeError(`${flag} is an option of the single-asset backtest; it does not apply with --portfolio`);
  }
  if (typeof o['from'] === 'number') throw new RangeError(`--from ${o['from']}: with --portfolio, --from takes a date (YYYY-MM-DD)`);
  const range = o['range'] as { low: number; high: number } | undefined;
  return {
    portfolio: o['portfolio'] as string,
    data: parseDataPairs((o['data'] as string[] | undefined) ?? []),
    from: o['from'] as string | undefined,
    to: o['to'] as string | undefined,
    out: o['out'] as string,
    json: o['json'] === true,
    scenario: defined({
      lpUsd: o['lpUsd'] as number | undefined,
      range,
      lpFeeAprPct: o['lpFeeApr'] as number | undefined,
      walletQuoteUsd: o['walletUsdc'] as number | undefined,
      takerFeeBps: o['feeBps'] as number | undefined,
      fundingApr: o['fundingApr'] as number | undefined,
      slippageBps: o['slippageBps'] as number | undefined,
      gasPriceGwei: o['gasGwei'] as number | undefined,
    }),
  };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The scenario overrides the options ask for (unset options keep the defaults of policies.ts). */
export function scenarioFromOptions(o: Opts): ScenarioOverrides {
  const range = o['range'] as { low: number; high: number } | undefined;
  const width = o['lpWidthPct'] as number | undefined;
  return defined({
    walletUsdc: o['walletUsdc'] as number | undefined,
    slippageBps: o['slippageBps'] as number | undefined,
    episodeDays: o['episodeDays'] as number | undefined,
    lp: defined({
      valueUsd: o['lpUsd'] as number | undefined,
      feeAprPct: o['lpFeeApr'] as number | undefined,
      recenter: o['recenter'] as 'off' | 'value' | 'notional' | undefined,
      ...(range ?? (width !== undefined ? { low: 1 - width / 100, high: 1 + width / 100 } : {})),
    }),
    perp: defined({ takerFeeBps: o['feeBps'] as number | undefined, fundingAprPaidByShorts: o['fundingApr'] as number | undefined }),
    tx: defined({ gasPriceGwei: o['gasGwei'] as number | undefined, costPerTradeUsd: o['costPerTradeUsd'] as number | undefined }),
  });
}

export function commandOptions(o: Opts, config: KeeperConfig): BacktestCommandOptions {
  const seed = o['seed'] as number | undefined;
  if (typeof o['from'] === 'string') throw new RangeError(`--from ${o['from']}: a date needs --portfolio; the single-asset backtest takes a candle index`);
  if (o['to'] !== undefined) throw new RangeError('--to applies with --portfolio; the single-asset backtest takes --from INDEX --count N');
  if (o['json'] !== undefined) throw new RangeError('--json applies with --portfolio');
  return {
    data: lastOf(o['data']),
    simulate: o['simulate'] ? { model: o['simulate'] as 'gbm' | 'jump', seed: seed ?? 1, steps: o['steps'] as number } : undefined,
    seed: o['simulate'] ? undefined : seed,
    out: o['out'] as string,
    policies: o['policies'] as string[] | undefined,
    baselines: o['baselines'] as boolean,
    substeps: o['substeps'] as 'bridge' | 'ohlc' | 'close' | undefined,
    ticksPerClose: o['ticksPerClose'] as number | undefined,
    from: o['from'] as number | undefined,
    count: o['count'] as number | undefined,
    workers: o['workers'] as number | undefined,
    policy: config.policy,
    guard: config.guard,
    scenario: scenarioFromOptions(o),
  };
}

/**
 * Add the `backtest` subcommand to `program` (inheriting its settings: exit codes, output).
 * `readConfig` reads .env and the environment (the caller's, so the command line stays the only
 * reader of process.env); `fail` reports an error and exits.
 */
export function registerBacktestCommand(program: Command, readConfig: () => KeeperConfig, fail: (err: unknown) => never): Command {
  const command = new Command('backtest').copyInheritedSettings(program)
    .description('Replay hedging policies over prices (the shipped ETH hourly data by default) and write backtest.json + backtest.html.')
    .option('--portfolio <file>', 'backtest a keeper.yaml portfolio (several assets and venues) through the portfolio keeper\'s tick; writes portfolio-backtest.json')
    .option('--data <csv>', 'candle CSV (Binance / CryptoDataDownload layout; .gz ok), or a shipped file: eth-1h, btc-1h, btc-1d; with --portfolio: ASSET=FILE, repeatable (ETH, BTC default to the shipped files)', collect)
    .addOption(new Option('--simulate <model>', 'simulate hourly closes instead of data').choices(['gbm', 'jump']))
    .option('--steps <hours>', 'simulated hours', num('--steps'), 24 * 365)
    .option('--seed <n>', 'seed of the simulation, or of the ticks between closes', num('--seed'))
    .option('--out <dir>', 'output directory', 'reports')
    .option('--policies <list>', 'comma-separated: default, config, fixed, vol, ww, adaptive, static, unhedged, time-<n><s|m|h|d>', (v) => v.split(',').map((p) => p.trim()).filter(Boolean))
    .option('--no-baselines', 'do not add the unhedged and static-hedge baselines')
    .addOption(new Option('--substeps <mode>', 'keeper ticks between closes').choices(['bridge', 'ohlc', 'close']))
    .option('--ticks-per-close <n>', 'keeper ticks per candle (bridge)', num('--ticks-per-close'))
    .option('--from <i>', 'first candle index; with --portfolio: first date (YYYY-MM-DD)', indexOrDate)
    .option('--to <date>', 'with --portfolio: end date (exclusive)')
    .option('--json', 'with --portfolio: print portfolio-backtest.json instead of the summary')
    .option('--count <n>', 'number of candles', num('--count'))
    .option('--episode-days <n>', 'independent N-day episodes, each starting hedged at target', num('--episode-days'))
    .option('--lp-usd <usd>', 'LP position value', num('--lp-usd'))
    .option('--range <low:high>', 'LP range as multiples of the price at minting, e.g. 0.666667:1.5', parseRange)
    .option('--lp-width-pct <pct>', 'LP range, +- percent (same as --range 1-p/100:1+p/100)', num('--lp-width-pct'))
    .addOption(new Option('--recenter <mode>', 'when the price leaves the LP range').choices(['off', 'value', 'notional']))
    .option('--lp-fee-apr <pct>', 'LP fee income, % a year', num('--lp-fee-apr'))
    .option('--wallet-usdc <usd>', 'USDC available for top-ups', num('--wallet-usdc'))
    .option('--fee-bps <bps>', "the hedge venue's taker fee", num('--fee-bps'))
    .option('--slippage-bps <bps>', 'slippage per hedge fill and LP swap', num('--slippage-bps'))
    .option('--cost-per-trade-usd <usd>', 'a fixed cost per transaction, replacing the gas model', num('--cost-per-trade-usd'))
    .option('--gas-gwei <gwei>', 'gas price (paid in ETH at the ETH price)', num('--gas-gwei'))
    .option('--funding-apr <fraction>', 'funding paid by shorts a year (0.1 = 10%)', num('--funding-apr'))
    .option('--workers <n>', 'worker threads (0 = none); default one per core', num('--workers'))
    .action(async (o: Opts) => {
      try {
        if (o['portfolio'] !== undefined) {
          const { portfolioBacktestCommand } = await import('./portfolio-command.js');
          let options: PortfolioBacktestOptions;
          try {
            options = portfolioCommandOptions(o);
          } catch (err) {
            process.stderr.write(`keeper backtest: ${(err as Error).message}\n`);
            process.exit(2);
          }
          process.exit(await portfolioBacktestCommand(options));
        }
        const { backtestCommand } = await import('./command.js');
        let options: BacktestCommandOptions;
        try {
          options = commandOptions(o, readConfig());
        } catch (err) {
          if (!(err instanceof RangeError)) throw err;
          process.stderr.write(`keeper backtest: ${err.message}\n`);
          process.exit(2);
        }
        process.exit(await backtestCommand(options));
      } catch (err) {
        fail(err);
      }
    });
  program.addCommand(command);
  return command;
}
