import { parseAbiItem, type Address, type Chain, type PublicClient, type Transport } from 'viem';
import { scaledToDecimal } from '../../venues/hyperliquid-rules.js';
import type { LocalHyperliquid } from './exchange.js';

/**
 * The venue's USDC bridge, for the local exchange: as Hyperliquid's Bridge2 does on Arbitrum, a
 * USDC `transfer` to the bridge address credits the sender's perp account (the docs: "deposits
 * less than 5 USDC will not be credited"). The watcher reads the token's Transfer logs to the
 * bridge on the devnet before every request the exchange answers, and credits each once, after
 * `creditDelayMs` of the exchange's clock (the real bridge takes about a minute), writing the
 * ledger entry (`userNonFundingLedgerUpdates`, type deposit, the L1 transaction hash) the keeper
 * uses to tell a deposit credited from one still in flight.
 */

const TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');
export const MIN_DEPOSIT_UNITS = 5_000_000n; // 5 USDC, 6 decimals

export interface BridgeOptions {
  readonly publicClient: PublicClient<Transport, Chain>;
  readonly bridge: Address;
  readonly usdc: Address;
  readonly usdcDecimals?: number;
  /** How long after the watcher first sees a deposit it is credited (exchange clock); default 0. */
  readonly creditDelayMs?: number;
}

export interface BridgeWatcher {
  sync(): Promise<void>;
}

export function watchBridge(ex: LocalHyperliquid, opts: BridgeOptions): BridgeWatcher {
  const decimals = opts.usdcDecimals ?? 6;
  let nextBlock: bigint | null = null;
  const seen = new Set<string>();
  const queue: Array<{ from: Address; value: bigint; hash: `0x${string}`; dueMs: number }> = [];
  const watcher: BridgeWatcher = {
    async sync() {
      const head = await opts.publicClient.getBlockNumber();
      if (nextBlock === null) nextBlock = head + 1n; // deposits from now on
      if (head >= nextBlock) {
        const logs = await opts.publicClient.getLogs({ address: opts.usdc, event: TRANSFER, args: { to: opts.bridge }, fromBlock: nextBlock, toBlock: head });
        for (const l of logs) {
          const key = `${l.transactionHash}:${l.logIndex}`;
          if (seen.has(key) || l.args.from === undefined || l.args.value === undefined) continue;
          seen.add(key);
          queue.push({ from: l.args.from, value: l.args.value, hash: l.transactionHash, dueMs: ex.now() + (opts.creditDelayMs ?? 0) });
        }
        nextBlock = head + 1n;
      }
      while (queue.length > 0 && queue[0]!.dueMs <= ex.now()) {
        const d = queue.shift()!;
        if (d.value < MIN_DEPOSIT_UNITS) continue; // lost, as on the real bridge
        const usdE8 = decimals <= 8 ? d.value * 10n ** BigInt(8 - decimals) : d.value / 10n ** BigInt(decimals - 8);
        ex.deposit(d.from, usdE8, { hash: d.hash, usdc: scaledToDecimal(d.value, decimals) });
      }
    },
  };
  ex.beforeRefresh = () => watcher.sync();
  return watcher;
}
