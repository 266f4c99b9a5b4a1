import { readFileSync } from 'node:fs';
import { ConfigError, type ChainAddresses } from '../config.js';

type FlatAddresses = Partial<Record<keyof ChainAddresses, string>>;

/** The devnet's addresses JSON (src/devnet/deploy.ts) mapped to the keeper's address keys. */
function fromDevnet(d: Record<string, unknown>): FlatAddresses {
  const uni = (d['uniswap'] ?? {}) as Record<string, string>;
  const aave = (d['aave'] ?? {}) as Record<string, string>;
  return {
    oracleFeed: d['ethUsdFeed'] as string,
    usdcFeed: d['usdcUsdFeed'] as string,
    weth: d['weth'] as string,
    usdc: d['usdc'] as string,
    uniswapPositionManager: uni['positionManager'],
    uniswapPool: uni['pool'],
    uniswapSwapRouter: uni['swapRouter'],
    uniswapQuoter: uni['quoterV2'],
    perpExchange: d['perp'] as string,
    aavePoolAddressesProvider: aave['poolAddressesProvider'],
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
  return 'ethUsdFeed' in obj ? fromDevnet(obj) : (obj as FlatAddresses);
}
