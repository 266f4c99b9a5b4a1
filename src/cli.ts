#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option, type CommanderError } from 'commander';
import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig, type KeeperConfig } from './config.js';
import { createLogger, scrubText } from './monitor/logger.js';
import { registerBacktestCommand } from './backtest/cli-command.js';

/**
 * The command line. The only place that touches process.env (through dotenv + loadConfig),
 * stdout tables and exit codes: 0 ok, 1 runtime failure, 2 bad configuration.
 */

function readConfig(envFile: string | undefined): KeeperConfig {
  loadDotenv({ path: envFile ?? '.env', quiet: true });
  return loadConfig(process.env);
}

function fail(err: unknown): never {
  // RPC and webhook URLs carry API keys (viem's error text quotes them whole): origins only.
  const urls = Object.entries(process.env).filter(([k]) => /_URLS?$/.test(k)).flatMap(([, v]) => (v ?? '').split(','));
  const say = (s: string) => process.stderr.write(scrubText(s, urls.map((u) => u.trim())));
  if (err instanceof ConfigError) {
    say(`${err.message}\n`);
    process.exit(2);
  }
  const msg = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause ? ` (cause: ${err.cause instanceof Error ? err.cause.message : String(err.cause)})` : '';
  say(`keeper: ${msg}${cause}\n`);
  process.exit(1);
}

/** A count option (--max-ticks, -n): a positive integer (commander's message names the option). */
function count(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('keeper')
  .description('Keeps a DeFi portfolio delta-neutral and its hedge account out of liquidation.')
  .version(version, '-V, --version', 'print the version')
  .option('--env-file <path>', 'dotenv file to read (default .env; the environment wins)');

program
  .command('run')
  .description('Run the keeper daemon (against an embedded devnet when RPC_URLS is empty).')
  .addOption(
    new Option('--dry-run [mode]', 'plan and simulate, send nothing; --dry-run=fork executes one tick on an anvil fork and reports the result')
      .choices(['simulate', 'fork'])
      .preset('simulate'),
  )
  .option('--max-ticks <n>', 'stop after n ticks; exit 1 if any of them failed', count)
  .option('--adopt-history', "first run on a key that already has transactions: take them as not the keeper's (a new journal is otherwise refused: it looks like a lost one)")
  .option('--seed <n>', 'embedded demo only: seed of the price path (default: random, printed at start)', (v) => {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`--seed expects a non-negative integer, got "${v}"`);
    return Number(v);
  })
  .action(async (opts: { dryRun?: 'simulate' | 'fork'; maxTicks?: number; seed?: number; adoptHistory?: boolean }) => {
    try {
      const config = readConfig(program.opts<{ envFile?: string }>().envFile);
      const { runCommand } = await import('./runner/commands.js');
      const code = await runCommand(config, { dryRun: opts.dryRun ?? null, maxTicks: opts.maxTicks, seed: opts.seed, adoptHistory: opts.adoptHistory ?? false });
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

program
  .command('portfolio')
  .description('Portfolio files (keeper.yaml).')
  .addCommand(
    new Command('from-env')
      .description('Print the keeper.yaml equivalent to the single-asset environment configuration (the way to migrate to PORTFOLIO_FILE).')
      .action(async () => {
        try {
          const config = readConfig(program.opts<{ envFile?: string }>().envFile);
          const { portfolioFromEnvCommand } = await import('./runner/portfolio-commands.js');
          process.exit(await portfolioFromEnvCommand(config, createLogger({ level: 'warn', format: 'json', destination: (await import('pino')).pino.destination({ dest: 2, sync: true }) })));
        } catch (err) {
          fail(err);
        }
      }),
  );

// `keeper backtest` and its options live in src/backtest/cli-command.ts (bin/keeper.mjs also runs
// it from a cached bundle without this file).
registerBacktestCommand(program, () => readConfig(program.opts<{ envFile?: string }>().envFile), fail);

program
  .command('history')
  .description('Print the newest actions from the journal: what was planned, why, and what reached the chain.')
  .option('-n, --limit <n>', 'how many actions', count, 20)
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

/** `keeper keystore new|import`: the encrypted key file for KEYSTORE_PATH (src/runner/keystore-command.ts). */
function keystoreSubcommand(name: 'new' | 'import', description: string): Command {
  const cmd = new Command(name)
    .description(description)
    .option('--out <path>', 'where to write the keystore (never replaced without --force)', 'keystore.json')
    .option('--password-file <path>', 'read the password from the first line of this file instead of asking (no echo) on the terminal')
    .option('--force', 'replace an existing file at --out');
  if (name === 'import') cmd.option('--key-file <path>', 'read the private key from this file, or - for stdin (default: ask without echo, or read a piped stdin)');
  return cmd.action(async (opts: { out: string; passwordFile?: string; keyFile?: string; force?: boolean }) => {
    try {
      const { keystoreImportCommand, keystoreNewCommand } = await import('./runner/keystore-command.js');
      process.exit(await (name === 'new' ? keystoreNewCommand : keystoreImportCommand)(opts));
    } catch (err) {
      fail(err);
    }
  });
}

program
  .command('keystore')
  .description('Write the encrypted v3 keystore that KEYSTORE_PATH + KEYSTORE_PASSWORD point at (scrypt, file mode 0600).')
  .addCommand(keystoreSubcommand('new', 'Generate a new private key and write it encrypted; prints its address.'))
  .addCommand(keystoreSubcommand('import', 'Encrypt an existing private key (typed without echo, from --key-file, or piped on stdin).'));

program
  .command('risk')
  .description('Risk models on candle data (src/risk/): the GARCH(1,1) fit, and the rolling validation of the VaR models.')
  .addCommand(
    new Command('garch')
      .description('Fit GARCH(1,1) (normal, with mean; as R fGarch) to percent log returns of a candle file (default: the shipped ETH/USDT hourly).')
      .option('--data <csv>', 'candle CSV (Binance / CryptoDataDownload layout; .gz ok)')
      .option('--daily', "returns of the UTC day's last close instead of each candle's")
      .option('--json', 'print {"mu","omega","alpha1","beta1","llh","observations"}')
      .action(async (opts: { data?: string; daily?: boolean; json?: boolean }) => {
        try {
          const { garchCommand } = await import('./risk/garch-command.js');
          process.exit(await garchCommand({ data: opts.data, daily: opts.daily ?? false, json: opts.json ?? false }));
        } catch (err) {
          fail(err);
        }
      }),
  )
  .addCommand(
    new Command('validate')
      .description('Rolling out-of-sample VaR of every shipped model at 95% and 99%, per candle and daily, with Kupiec and Christoffersen tests (default: the shipped ETH and BTC hourly files). Exit 1 if the default model fails a row.')
      .option('--data <csv...>', 'candle CSV(s) (Binance / CryptoDataDownload layout; .gz ok)')
      .option('--json', 'print {"rows":[...]}')
      .action(async (opts: { data?: string[]; json?: boolean }) => {
        try {
          const { validateCommand } = await import('./risk/validate-command.js');
          process.exit(await validateCommand({ data: opts.data, json: opts.json ?? false }));
        } catch (err) {
          fail(err);
        }
      }),
  );

// A bad option or argument is a usage error: exit 2 like a bad variable (commander's default is 1,
// our code for a runtime failure). Set on every command: addCommand'ed ones do not inherit it.
const allCommands = (c: Command): Command[] => [c, ...c.commands.flatMap(allCommands)];
for (const c of allCommands(program)) c.exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : 2));

program.parseAsync(process.argv).catch(fail);
