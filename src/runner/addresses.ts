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
  const obj = readAddressesJson(path);
  // A hand-edited devnet file may lack entries: resolveAddresses names what is missing.
  return isDevnetFile(obj) ? addressesFromDevnet(obj as unknown as DevnetAddresses) : (obj as FlatAddresses);
}

/** Where each address sits in the devnet's file, for messages that name the file's key. */
const DEVNET_KEYS: Record<keyof ChainAddresses, string> = {
  oracleFeed: 'ethUsdFeed', usdcFeed: 'usdcUsdFeed', weth: 'weth', usdc: 'usdc', uniswapPositionManager: 'uniswap.positionManager',
  uniswapPool: 'uniswap.pool', uniswapSwapRouter: 'uniswap.swapRouter', uniswapQuoter: 'uniswap.quoterV2', perpExchange: 'perp',
  aavePoolAddressesProvider: 'aave.poolAddressesProvider',
};

/** What else the file says: the chain it was written for (`chainId`, optional) and its key names. */
export function readAddressesFileInfo(path: string): { chainId: number | null; keyOf(key: keyof ChainAddresses): string } {
  const obj = readAddressesJson(path);
  const devnet = isDevnetFile(obj);
  const raw = obj['chainId'];
  const chainId = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (chainId !== undefined && chainId !== null && !(Number.isSafeInteger(chainId) && (chainId as number) > 0)) {
    throw new ConfigError([`ADDRESSES_FILE=${path}: chainId must be a positive integer, got ${JSON.stringify(raw)}`]);
  }
  return { chainId: (chainId as number | undefined) ?? null, keyOf: (key) => (devnet ? DEVNET_KEYS[key] : key) };
}

function isDevnetFile(obj: Record<string, unknown>): boolean {
  return 'ethUsdFeed' in obj;
}

function readAddressesJson(path: string): Record<string, unknown> {
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
  return json as Record<string, unknown>;
}
