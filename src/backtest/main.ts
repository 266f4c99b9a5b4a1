import { Command, type CommanderError } from 'commander';
import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig, type KeeperConfig } from '../config.js';
import { scrubText } from '../monitor/scrub.js';
import { registerBacktestCommand } from './cli-command.js';

/**
 * `keeper backtest` without the rest of the command line: the entry of the cached plain-JS
 * bundle that bin/keeper.mjs runs for this one command (see launch.mjs), so a backtest starts
 * without compiling TypeScript or loading the keeper's chain stack. Same options, same
 * configuration reading and exit codes as src/cli.ts.
 */

const program = new Command()
  .name('keeper')
  .option('--env-file <path>', 'dotenv file to read (default .env; the environment wins)')
  .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : 2));

function readConfig(): KeeperConfig {
  loadDotenv({ path: program.opts<{ envFile?: string }>().envFile ?? '.env', quiet: true });
  return loadConfig(process.env);
}

function fail(err: unknown): never {
  // RPC and webhook URLs carry API keys: origins only (as src/cli.ts).
  const urls = Object.entries(process.env).filter(([k]) => /_URLS?$/.test(k)).flatMap(([, v]) => (v ?? '').split(',').map((u) => u.trim()));
  const say = (s: string): void => void process.stderr.write(scrubText(s, urls));
  if (err instanceof ConfigError) {
    say(`${err.message}\n`);
    process.exit(2);
  }
  say(`keeper: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

registerBacktestCommand(program, readConfig, fail);
await program.parseAsync(process.argv);
