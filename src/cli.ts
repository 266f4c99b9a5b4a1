#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig, type KeeperConfig } from './config.js';
import { createLogger } from './monitor/logger.js';

/**
 * The command line. The only place that touches process.env (through dotenv + loadConfig),
 * stdout tables and exit codes: 0 ok, 1 runtime failure, 2 bad configuration.
 */

function readConfig(envFile: string | undefined): KeeperConfig {
  loadDotenv({ path: envFile ?? '.env', quiet: true });
  return loadConfig(process.env);
}

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  const msg = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause ? ` (cause: ${err.cause instanceof Error ? err.cause.message : String(err.cause)})` : '';
  process.stderr.write(`keeper: ${msg}${cause}\n`);
  process.exit(1);
}

const program = new Command()
  .name('keeper')
  .description('Keeps a DeFi portfolio delta-neutral and its hedge account out of liquidation.')
  .option('--env-file <path>', 'dotenv file to read (default .env; the environment wins)');

program
  .command('run')
  .description('Run the keeper daemon (against an embedded devnet when RPC_URLS is empty).')
  .addOption(
    new Option('--dry-run [mode]', 'plan and simulate, send nothing; --dry-run=fork executes one tick on an anvil fork and reports the result')
      .choices(['simulate', 'fork'])
      .preset('simulate'),
  )
  .option('--max-ticks <n>', 'stop after n ticks', (v) => Number.parseInt(v, 10))
  .action(async (opts: { dryRun?: 'simulate' | 'fork'; maxTicks?: number }) => {
    try {
      const config = readConfig(program.opts<{ envFile?: string }>().envFile);
      const { runCommand } = await import('./runner/commands.js');
      const code = await runCommand(config, { dryRun: opts.dryRun ?? null, maxTicks: opts.maxTicks });
      process.exit(code);
    } catch (err) {
      fail(err);
    }
  });

program
  .command('status')
  .description('Print one snapshot: positions, delta, margin, liquidation distance.')
  .option('--json', 'print the assessment as JSON')
  .action(async (opts: { json?: boolean }) => {
    try {
      const config = readConfig(program.opts<{ envFile?: string }>().envFile);
      const { statusCommand } = await import('./runner/commands.js');
      process.exit(await statusCommand(config, { json: opts.json ?? false }));
    } catch (err) {
      fail(err);
    }
  });

/** A numeric option, refused with a message that names it. */
function num(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} expects a number, got "${v}"`);
    return n;
  };
}

program
  .command('backtest')
  .description('Replay the policy over prices (the shipped ETH hourly data by default) and write backtest.json + backtest.html.')
  .option('--data <csv>', 'candle CSV (Binance / CryptoDataDownload layout; .gz ok)')
  .addOption(new Option('--simulate <model>', 'simulate hourly closes instead of data').choices(['gbm', 'jump']))
  .option('--steps <hours>', 'simulated hours', num('--steps'), 24 * 365)
  .option('--seed <n>', 'seed of the simulation, or of the ticks between closes', num('--seed'))
  .option('--out <dir>', 'output directory', 'reports')
  .option('--policies <list>', 'comma-separated: fixed, vol, ww, unhedged, time, time-<n><s|m|h|d>', (v) => v.split(',').map((p) => p.trim()).filter(Boolean))
  .addOption(new Option('--substeps <mode>', 'ticks between closes').choices(['bridge', 'ohlc', 'close']))
  .option('--ticks-per-close <n>', 'keeper ticks per candle', num('--ticks-per-close'))
  .option('--from <i>', 'first candle index', num('--from'))
  .option('--count <n>', 'number of candles', num('--count'))
  .option('--lp-usd <usd>', 'LP position value', num('--lp-usd'))
  .option('--lp-width-pct <pct>', 'LP range, ± percent', num('--lp-width-pct'))
  .option('--lp-fee-apr <pct>', 'LP fee income, % a year', num('--lp-fee-apr'))
  .option('--wallet-usdc <usd>', 'USDC available for top-ups', num('--wallet-usdc'))
  .option('--gas-gwei <gwei>', 'gas price', num('--gas-gwei'))
  .option('--slippage-bps <bps>', 'slippage per trade', num('--slippage-bps'))
  .option('--funding-apr <fraction>', 'funding paid by shorts a year (0.1 = 10%)', num('--funding-apr'))
  .action(async (o: Record<string, unknown>) => {
    try {
      const config = readConfig(program.opts<{ envFile?: string }>().envFile);
      const { backtestCommand } = await import('./backtest/command.js');
      const seed = o['seed'] as number | undefined;
      const code = await backtestCommand({
        data: o['data'] as string | undefined,
        simulate: o['simulate'] ? { model: o['simulate'] as 'gbm' | 'jump', seed: seed ?? 1, steps: o['steps'] as number } : undefined,
        seed: o['simulate'] ? undefined : seed,
        out: o['out'] as string,
        policies: o['policies'] as string[] | undefined,
        substeps: o['substeps'] as 'bridge' | 'ohlc' | 'close' | undefined,
        ticksPerClose: o['ticksPerClose'] as number | undefined,
        from: o['from'] as number | undefined,
        count: o['count'] as number | undefined,
        policy: config.policy,
        scenario: {
          ...(o['walletUsdc'] !== undefined ? { walletUsdc: o['walletUsdc'] as number } : {}),
          ...(o['gasGwei'] !== undefined ? { gasPriceGwei: o['gasGwei'] as number } : {}),
          ...(o['slippageBps'] !== undefined ? { slippageBps: o['slippageBps'] as number } : {}),
          lp: {
            ...(o['lpUsd'] !== undefined ? { valueUsd: o['lpUsd'] as number } : {}),
            ...(o['lpWidthPct'] !== undefined ? { widthPct: o['lpWidthPct'] as number } : {}),
            ...(o['lpFeeApr'] !== undefined ? { feeAprPct: o['lpFeeApr'] as number } : {}),
          },
          perp: o['fundingApr'] !== undefined ? { fundingAprPaidByShorts: o['fundingApr'] as number } : {},
        },
      });
      process.exit(code);
    } catch (err) {
      fail(err);
    }
  });

program
  .command('history')
  .description('Print the newest actions from the journal: what was planned, why, and what reached the chain.')
  .option('-n, --limit <n>', 'how many actions', (v) => Number.parseInt(v, 10), 20)
  .option('--json', 'print JSON')
  .action(async (opts: { limit: number; json?: boolean }) => {
    try {
      const config = readConfig(program.opts<{ envFile?: string }>().envFile);
      const { historyCommand } = await import('./runner/commands.js');
      process.exit(await historyCommand(config, { limit: opts.limit, json: opts.json ?? false }));
    } catch (err) {
      fail(err);
    }
  });

program
  .command('devnet')
  .description('Start anvil with the deployed devnet, print the addresses, keep it running until Ctrl-C.')
  .option('--out <path>', 'where to write the addresses JSON', 'devnet.addresses.json')
  .option('--drive', 'move the oracle price along a random path and arbitrage the pool to it')
  .option('--block-time <sec>', 'mine a block every N seconds instead of on each transaction', (v) => Number(v))
  .option('--port <port>', 'RPC port (default: a free port)', (v) => Number.parseInt(v, 10))
  .action(async (opts: { out: string; drive?: boolean; blockTime?: number; port?: number }) => {
    try {
      const { devnetCommand } = await import('./runner/commands.js');
      const logger = createLogger({ level: 'info' });
      process.exit(await devnetCommand({ out: opts.out, drive: opts.drive ?? false, blockTimeSec: opts.blockTime, port: opts.port, logger }));
    } catch (err) {
      fail(err);
    }
  });

program.parseAsync(process.argv).catch(fail);
