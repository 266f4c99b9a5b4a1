import { readFileSync } from 'node:fs';
import { ConfigError, type ChainAddresses } from '../config.js';
import type { DevnetAddresses } from '../devnet/deploy.js';
import type { Address } from '../core/types.js';

type FlatAddresses = Partial<Record<keyof ChainAddresses, string>>;

/** The devnet's addresses (src/devnet/deploy.ts, as `npm run devnet` writes them) for the keeper. */
export function addressesFromDevnet(d: DevnetAddresses): Record<keyof ChainAddresses, Address> {
  return {
    oracleFeed: d.ethUsdFeed,
    usdcFeed: d.usdcUsdFeed,
    weth: d.weth,
    usdc: d.usdc,
    uniswapPositionManager: d.uniswap?.positionManager,
    uniswapPool: d.uniswap?.pool,
    uniswapSwapRouter: d.uniswap?.swapRouter,
    uniswapQuoter: d.uniswap?.quoterV2,
    perpExchange: d.perp,
    aavePoolAddressesProvider: d.aave?.poolAddressesProvider,
  };
}

/**
 * Read ADDRESSES_FILE: either the devnet's JSON (as `npm run devnet` writes it) or a flat
 * object with the keeper's own keys (oracleFeed, weth, usdc, ...).
 */
export function readAddressesFile(path: string): FlatAddresses {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`ADDRESSES_FILE=${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`ADDRESSES_FILE=${path}: not valid JSON (${(err as Error).message})`]);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError([`ADDRESSES_FILE=${path}: expected a JSON object of addresses`]);
  }
  const obj = json as Record<string, unknown>;
  // A hand-edited devnet file may lack entries: resolveAddresses names what is missing.
  return 'ethUsdFeed' in obj ? addressesFromDevnet(obj as unknown as DevnetAddresses) : (obj as FlatAddresses);
}
