/**
 * The body of `npm run devnet`: an anvil holding the fully deployed devnet (from the cached
 * dump, deploying it first if needed), its addresses written where the keeper can read them,
 * a summary for the human at the terminal, and optionally the market driver moving the price.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createPublicClient, formatUnits, http } from 'viem';
import { priceFeedAbi } from '../../contracts-abi/index.js';
import { chainFor } from '../chain/clients.js';
import type { Logger } from '../monitor/logger.js';
import { DEVNET_ROLES, devnetAccount, type DevnetRole } from './accounts.js';
import { refreshFeeds, type DevnetAddresses } from './deploy.js';
import { createMarketDriver, type MarketDriver } from './market-driver.js';
import { createGbmPath, type JumpOptions } from './price-path.js';
import { ensureDevnetState, serializeAddresses, startDevnetFromState } from './state.js';

export interface MarketOptions {
  /** Wall-clock time between steps (default: the block time, or 2 s with automine). */
  intervalMs?: number;
  seed?: number;
  /** Annualized vol of the simulated market (default 0.8). */
  volAnnual?: number;
  /** Market time one step stands for (default 1 h: a demo shows a day in under a minute). */
  stepSec?: number;
  /** Default: about one ±5% jump a month; false for a pure GBM. */
  jumps?: JumpOptions | false;
}

export interface ServeDevnetOptions {
  /** Where the addresses JSON goes (default ./devnet.addresses.json). */
  addressesOut?: string;
  /** Fixed RPC port (default: a free one; the rpcUrl is in the addresses file either way). */
  port?: number;
  /** Seconds between blocks; omitted = a block per transaction. */
  blockTimeSec?: number;
  /** Run the market driver (GBM feed + pool arbitrage). */
  drive?: boolean;
  market?: MarketOptions;
  logger: Logger;
  /** Where the human-readable summary goes (default stdout); not the logger: it holds keys. */
  print?: (text: string) => void;
  /** Cache directory of the deployed dump (tests). */
  stateDir?: string;
}

export interface ServedDevnet {
  rpcUrl: string;
  addresses: DevnetAddresses;
  addressesPath: string;
  driver?: MarketDriver;
  /** Stop the driver, then anvil. Idempotent. */
  stop(): Promise<void>;
}

/** The addresses file: the deployment plus how to reach it. */
export type DevnetAddressesFile = DevnetAddresses & { rpcUrl: string };

const ROLE_NOTES: Record<DevnetRole, string> = {
  deployer: 'owns tokens, feeds, perp exchange, Aave admin; signs the driver prices',
  perpDemo: 'demo portfolio hedged on the perp exchange (the keeper, by default)',
  marketMaker: 'pool arbitrage and Aave WETH supply',
  liquidator: 'liquidates under-margined accounts',
  aaveDemo: 'demo portfolio hedged on Aave V3',
  portfolioDemo: 'multi-asset demo (ETH hedged on perp + Aave, BTC on Aave)',
  v4Demo: 'holds a Uniswap v4 WETH/USDC LP position (unhedged)',
};

/** Human summary: addresses, demo accounts with anvil's public test keys, the RPC URL. */
export function formatDevnetSummary(f: DevnetAddressesFile, addressesPath: string, ethPriceE8: bigint, market?: string): string {
  const row = (label: string, value: string) => `  ${label.padEnd(18)} ${value}`;
  const roles = (Object.keys(DEVNET_ROLES) as DevnetRole[]).sort((x, y) => DEVNET_ROLES[x] - DEVNET_ROLES[y]);
  const lpOf: Partial<Record<DevnetRole, string>> = { perpDemo: f.demo.perp.lpTokenId, aaveDemo: f.demo.aave.lpTokenId, v4Demo: f.v4.demo.tokenId };
  return [
    `Devnet ready: chain ${f.chainId} at ${f.rpcUrl}`,
    `Addresses written to ${addressesPath}`,
    `ETH/USD ${formatUnits(ethPriceE8, 8)}`,
    '',
    'Contracts',
    row('USDC', f.usdc),
    row('WETH', f.weth),
    row('ETH/USD feed', f.ethUsdFeed),
    row('USDC/USD feed', f.usdcUsdFeed),
    row('Perp exchange', `${f.perp} (market ${f.perpMarketId})`),
    row('Uniswap pool', `${f.uniswap.pool} (WETH/USDC ${f.uniswap.fee / 10_000}%)`),
    row('Uniswap factory', f.uniswap.factory),
    row('Position manager', f.uniswap.positionManager),
    row('Swap router', f.uniswap.swapRouter),
    row('Quoter V2', f.uniswap.quoterV2),
    row('v4 PoolManager', f.v4.poolManager),
    row('v4 PositionManager', f.v4.positionManager),
    row('v4 StateView', f.v4.stateView),
    row('Aave pool', f.aave.pool),
    row('Aave data provider', f.aave.dataProvider),
    '',
    "Accounts (anvil's well-known test keys from its public mnemonic: devnet funds only, never use them elsewhere)",
    ...roles.flatMap((r) => {
      const { address, privateKey } = devnetAccount(r);
      const lp = lpOf[r] ? `, LP #${lpOf[r]}` : '';
      return [row(r, `${address}  ${ROLE_NOTES[r]}${lp}`), row('', `key ${privateKey}`)];
    }),
    '',
    `Market driver: ${market ?? 'off (prices move only when you move them)'}`,
    '',
  ].join('\n');
}

/** Start the devnet and keep it until `stop()`; the CLI keeps the process alive around it. */
export async function serveDevnet(opts: ServeDevnetOptions): Promise<ServedDevnet> {
  const log = opts.logger;
  const state = await ensureDevnetState(opts.stateDir);
  if (state.deployedMs !== undefined) log.info({ event: 'devnet.deployed', ms: Math.round(state.deployedMs), statePath: state.statePath }, 'devnet.deployed');
  else log.info({ event: 'devnet.cached_state', statePath: state.statePath }, 'devnet.cached_state');

  const anvil = await startDevnetFromState(state, {
    ...(opts.blockTimeSec === undefined ? {} : { blockTimeSec: opts.blockTimeSec }),
    ...(opts.port === undefined ? {} : { port: opts.port }),
  });
  let driver: MarketDriver | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      try {
        await driver?.stop();
      } finally {
        await anvil.stop();
        log.info({ event: 'devnet.stopped', rpcUrl: anvil.rpcUrl }, 'devnet.stopped');
      }
    })());

  try {
    const addresses = state.addresses;
    // The dump is older than the feeds' staleness limit: stamp them now.
    await refreshFeeds(anvil.rpcUrl, addresses);
    const file: DevnetAddressesFile = { ...addresses, rpcUrl: anvil.rpcUrl };
    const addressesPath = resolve(opts.addressesOut ?? 'devnet.addresses.json');
    mkdirSync(dirname(addressesPath), { recursive: true });
    writeFileSync(addressesPath, serializeAddresses(file));

    const ethPriceE8 = await readEthPriceE8(anvil.rpcUrl, addresses);
    const m = opts.drive ? resolveMarket(opts.market, opts.blockTimeSec) : undefined;
    let marketNote: string | undefined;
    if (m) {
      driver = createMarketDriver({
        rpcUrl: anvil.rpcUrl,
        addresses,
        arbitrage: true,
        logger: log,
        stepLogLevel: 'info',
        pollingIntervalMs: opts.blockTimeSec === undefined ? 20 : 250,
        path: createGbmPath({ seed: m.seed, startPriceE8: ethPriceE8, volAnnual: m.volAnnual, driftAnnual: 0, stepSec: m.stepSec, ...(m.jumps ? { jumps: m.jumps } : {}) }),
      });
      marketNote = `a step every ${m.intervalMs} ms (GBM ${m.volAnnual * 100}%/yr, ${m.stepSec} s of market per step, seed ${m.seed}), pool arbitraged to the feed`;
    }
    (opts.print ?? ((t: string) => process.stdout.write(t)))(formatDevnetSummary(file, addressesPath, ethPriceE8, marketNote));
    log.info({ event: 'devnet.started', rpcUrl: anvil.rpcUrl, chainId: addresses.chainId, addressesPath, pid: anvil.pid }, 'devnet.started');
    if (driver && m) driver.start(m.intervalMs);
    return { rpcUrl: anvil.rpcUrl, addresses, addressesPath, ...(driver ? { driver } : {}), stop };
  } catch (err) {
    await stop();
    throw new Error('devnet: could not start', { cause: err });
  }
}

function resolveMarket(m: MarketOptions = {}, blockTimeSec?: number) {
  return {
    intervalMs: m.intervalMs ?? (blockTimeSec !== undefined ? blockTimeSec * 1000 : 2000),
    seed: m.seed ?? 1,
    volAnnual: m.volAnnual ?? 0.8,
    stepSec: m.stepSec ?? 3600,
    jumps: m.jumps === undefined ? { intensityPerYear: 12, meanPct: 0, stdPct: 5 } : m.jumps,
  };
}

async function readEthPriceE8(rpcUrl: string, a: DevnetAddresses): Promise<bigint> {
  const client = createPublicClient({ chain: chainFor(a.chainId, [rpcUrl]), transport: http(rpcUrl) });
  return client.readContract({ address: a.ethUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' });
}
