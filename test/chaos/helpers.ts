import { parseEventLogs } from 'viem';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import type { Devnet } from '../helpers/devnet.js';

export async function perpAccount(d: Devnet) {
  return d.as('perpDemo').publicClient.readContract({
    address: d.addresses.perp,
    abi: perpExchangeAbi,
    functionName: 'getAccount',
    args: [d.addresses.demo.perp.account, BigInt(d.addresses.perpMarketId)],
  });
}

export async function nonceOf(d: Devnet): Promise<number> {
  return d.as('perpDemo').publicClient.getTransactionCount({ address: d.addresses.demo.perp.account });
}

/** The demo account's perp trades (Traded events) from a block on: what reached the chain. */
export async function tradesSince(d: Devnet, fromBlock: bigint) {
  const pc = d.as('perpDemo').publicClient;
  const logs = await pc.getLogs({ address: d.addresses.perp, fromBlock, toBlock: 'latest' });
  return parseEventLogs({ abi: perpExchangeAbi, eventName: 'Traded', logs }).filter(
    (l) => l.args.account.toLowerCase() === d.addresses.demo.perp.account.toLowerCase(),
  );
}

/** USD notional of trades beyond the expected count: what a duplicate would have exposed. */
export function duplicateUsd(trades: Array<{ args: { sizeDeltaWei: bigint; fillPriceE8: bigint } }>, expected: number): number {
  return trades
    .slice(expected)
    .reduce((sum, t) => sum + Math.abs(Number(t.args.sizeDeltaWei) / 1e18) * (Number(t.args.fillPriceE8) / 1e8), 0);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The portfolio demo account's perp trades on the ETH market from a block on. */
export async function portfolioEthTradesSince(d: Devnet, fromBlock: bigint) {
  const logs = await d.as('portfolioDemo').publicClient.getLogs({ address: d.addresses.perp, fromBlock, toBlock: 'latest' });
  const me = d.address('portfolioDemo').toLowerCase();
  return parseEventLogs({ abi: perpExchangeAbi, eventName: 'Traded', logs }).filter((l) => l.args.account.toLowerCase() === me && l.args.marketId === BigInt(d.addresses.perpMarketId));
}
