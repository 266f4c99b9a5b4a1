import type { Hex } from 'viem';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type KeeperConfig } from '../../src/config.js';
import { createRecordingLogger } from '../../src/monitor/logger.js';
import { loadPortfolioFile, parsePortfolioYaml } from '../../src/portfolio/file.js';
import type { Portfolio } from '../../src/portfolio/model.js';
import { devnetPortfolioYaml } from '../../src/devnet/portfolio-file.js';
import { createMarketDriver } from '../../src/devnet/market-driver.js';
import { scriptedPath } from '../../src/devnet/price-path.js';
import type { DevnetRole } from '../../src/devnet/accounts.js';
import type { KeeperTelemetry } from '../../src/monitor/telemetry.js';
import { createPortfolioKeeper, type PortfolioKeeper, type PortfolioKeeperOptions } from '../../src/runner/portfolio-keeper.js';
import type { Devnet } from './devnet.js';

export interface TestPortfolioKeeper {
  keeper: PortfolioKeeper;
  config: KeeperConfig;
  portfolio: Portfolio;
  lines: () => Array<Record<string, unknown>>;
  dir: string;
}

/** The devnet's demo keeper.yaml, optionally edited (a test's own policy or a third asset). */
export function devnetPortfolio(d: Devnet, edit: (yaml: string) => string = (y) => y): Portfolio {
  return parsePortfolioYaml(edit(devnetPortfolioYaml(d.addresses)), 'keeper.yaml');
}

/** A portfolio keeper on the devnet signing as the multi-asset demo account, with a recording logger. */
export async function portfolioKeeperOn(
  d: Devnet,
  opts: {
    yaml?: (devnetYaml: string) => string; role?: DevnetRole; env?: Record<string, string>; dryRun?: boolean; telemetry?: KeeperTelemetry; rpcUrl?: string;
    /** Another keeper on the same journal (a restart): its directory. */
    dir?: string;
    keeper?: Partial<PortfolioKeeperOptions>;
  } = {},
): Promise<TestPortfolioKeeper> {
  const role = opts.role ?? 'portfolioDemo';
  const rpcUrl = opts.rpcUrl ?? d.rpcUrl;
  // The path a user takes: the portfolio in a keeper.yaml named by PORTFOLIO_FILE.
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'keeper-portfolio-'));
  const file = join(dir, 'keeper.yaml');
  writeFileSync(file, (opts.yaml ?? ((y) => y))(devnetPortfolioYaml(d.addresses)));
  const config = loadConfig({
    RPC_URLS: rpcUrl,
    PRIVATE_KEY: d.key(role),
    PORTFOLIO_FILE: file,
    LOG_FORMAT: 'json',
    JOURNAL_PATH: join(dir, 'journal.sqlite'),
    ...opts.env,
  });
  const portfolio = loadPortfolioFile(file);
  const { logger, lines } = createRecordingLogger('debug');
  const keeper = await createPortfolioKeeper({
    config,
    portfolio,
    rpcUrls: [rpcUrl],
    chainId: 31337,
    privateKey: config.secrets.privateKey as Hex,
    positionManager: d.addresses.uniswap.positionManager,
    logger,
    dryRun: opts.dryRun ?? false,
    telemetry: opts.telemetry,
    adoptHistory: true,
    settleWaitMs: 5_000,
    ...opts.keeper,
  });
  return { keeper, config, portfolio, lines, dir };
}

/** Move the ETH and BTC feeds (as their owner) and arbitrage the three pools to them. */
export async function setPortfolioPrices(d: Devnet, p: { eth: bigint; btc: bigint }): Promise<void> {
  const driver = createMarketDriver({ rpcUrl: d.rpcUrl, addresses: d.addresses, path: scriptedPath([p.eth]), btcPath: scriptedPath([p.btc]), arbitrage: true });
  await driver.step();
}
