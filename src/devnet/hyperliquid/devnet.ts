import type { Address, Chain, PublicClient, Transport } from 'viem';
import { priceFeedAbi } from '../../../contracts-abi/index.js';
import { watchBridge, type BridgeWatcher } from './bridge.js';
import type { CoinConfig } from './exchange.js';
import { startLocalHyperliquid, type LocalHyperliquidServer } from './server.js';

/**
 * The local Hyperliquid exchange wired to a devnet: each coin priced from the devnet's Chainlink-
 * style feed (the venue's oracle is the keeper's oracle, so a portfolio can mix it with on-chain
 * venues and a price move on the devnet moves it too), and the USDC bridge watched on the devnet
 * (a USDC transfer to `bridge` credits the sender's account, as Hyperliquid's bridge does).
 */

export interface DevnetHyperliquidOptions {
  readonly publicClient: PublicClient<Transport, Chain>;
  /** Coin -> its USD feed on the devnet (8 decimals). */
  readonly feeds: Readonly<Record<string, Address>>;
  readonly coins: readonly CoinConfig[];
  readonly usdc: Address;
  readonly bridge: Address;
  readonly creditDelayMs?: number;
  readonly port?: number;
  readonly now?: () => number;
}

export interface DevnetHyperliquid {
  readonly server: LocalHyperliquidServer;
  readonly bridge: BridgeWatcher;
  close(): Promise<void>;
}

export async function startDevnetHyperliquid(opts: DevnetHyperliquidOptions): Promise<DevnetHyperliquid> {
  const server = await startLocalHyperliquid({
    coins: opts.coins,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    priceE8: async (coin) => {
      const feed = opts.feeds[coin];
      if (!feed) throw new Error(`local hyperliquid: no devnet feed for coin ${coin}`);
      const [, answer] = await opts.publicClient.readContract({ address: feed, abi: priceFeedAbi, functionName: 'latestRoundData' });
      return answer > 0n ? answer : 0n;
    },
  });
  const bridge = watchBridge(server.exchange, { publicClient: opts.publicClient, bridge: opts.bridge, usdc: opts.usdc, ...(opts.creditDelayMs !== undefined ? { creditDelayMs: opts.creditDelayMs } : {}) });
  // Deposits count from now on: the first sync marks the head.
  await bridge.sync();
  return { server, bridge, close: () => server.close() };
}
