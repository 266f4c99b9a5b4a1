import { getAddress, type Abi, type Address, type Hex } from 'viem';
import { mockUsdcAbi, priceFeedAbi, priceFeedBytecode } from '../../contracts-abi/index.js';
import type { Clients } from '../../src/chain/clients.js';
import { loadAaveArtifact } from '../../src/devnet/aave-artifacts.js';
import { confirm } from '../../src/devnet/confirm.js';
import { solUsdcPair } from '../../src/devnet/deploy-portfolio.js';
import { arbitragePairToPrice, createAndSeedPairPool, devnetTokenAbi, pairOrder, type TokenPair } from '../../src/devnet/uniswap.js';
import type { Devnet } from './devnet.js';

/**
 * A token beyond the devnet's ETH and BTC, as the chain tests use one: listed by the test (a token,
 * its USD feed, a pool against USDC), or the devnet's own SOL (deploy-portfolio.ts, hedged by proxy
 * in the demo keeper.yaml). Plus the keeper.yaml line edits the tests make.
 */

export interface Listing {
  symbol: string;
  token: Address;
  feed: Address;
  pool: Address;
  fee: number;
  pair: TokenPair;
}

const E8 = 10n ** 8n;
const USDC = 10n ** 6n;

type Write = Parameters<Clients['walletClient']['writeContract']>[0];
export async function send(c: Clients, what: string, call: Omit<Write, 'account' | 'chain'>): Promise<void> {
  await confirm(c, c.walletClient.writeContract({ ...call, account: c.walletClient.account, chain: c.walletClient.chain } as Write), what);
}

export async function deploy(c: Clients, what: string, abi: Abi | readonly unknown[], bytecode: Hex, args: readonly unknown[]): Promise<Address> {
  const hash = await c.walletClient.deployContract({ abi: abi as Abi, bytecode, args, account: c.walletClient.account, chain: c.walletClient.chain });
  const receipt = await confirm(c, hash, `deploy ${what}`);
  if (!receipt.contractAddress) throw new Error(`deploy ${what}: no contract address`);
  return getAddress(receipt.contractAddress);
}

export const mintUsdc = (d: Devnet, to: Address, units: bigint) =>
  send(d.as('deployer'), 'USDC mint', { address: d.addresses.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [to, units] });

/** The devnet's listed tokens are Aave's MintableERC20: anyone may mint them to themselves. */
export const mintToken = (c: Clients, l: Pick<Listing, 'symbol' | 'token'>, units: bigint) =>
  send(c, `${l.symbol} mint`, { address: l.token, abi: devnetTokenAbi, functionName: 'mint', args: [c.walletClient.account.address, units] });

/** What the chain's admin does to list a token: the token, its USD feed (the deployer owns it) and a full-range pool with USDC, `seedUsd` a side. */
export async function listToken(
  d: Devnet, o: { symbol: string; name: string; decimals: number; priceE8: bigint; fee: number; seedUsd: bigint },
): Promise<Listing> {
  const deployer = d.as('deployer');
  const erc20 = loadAaveArtifact('MintableERC20');
  const token = await deploy(deployer, o.symbol, erc20.abi, erc20.bytecode, [o.name, o.symbol, o.decimals]);
  const feed = await deploy(deployer, `${o.symbol}/USD feed`, priceFeedAbi, priceFeedBytecode, [8, `${o.symbol} / USD`, o.priceE8, d.address('deployer')]);
  const pair: TokenPair = { base: token, quote: d.addresses.usdc, baseDecimals: o.decimals, quoteDecimals: 6 };
  const seed = (o.seedUsd * E8 * 10n ** BigInt(o.decimals)) / o.priceE8;
  const { pool } = await createAndSeedPairPool(deployer, {
    uniswap: d.addresses.uniswap, pair, fee: o.fee, priceE8: o.priceE8, amountBase: seed, amountQuote: o.seedUsd * USDC,
    fund: async () => {
      await mintUsdc(d, d.address('deployer'), o.seedUsd * USDC);
      await mintToken(deployer, { symbol: o.symbol, token }, seed);
    },
  });
  return { symbol: o.symbol, token, feed, pool, fee: o.fee, pair };
}

/** The devnet's own third asset (SOL, 9 decimals), deployed with the devnet and held by portfolioDemo. */
export function devnetSol(d: Devnet): Listing {
  const { sol, solUsdFeed, pools, usdc } = d.addresses;
  if (!sol || !solUsdFeed || !pools.solUsdc) throw new Error('this devnet has no SOL (a dump from before it)');
  return { symbol: 'SOL', token: sol, feed: solUsdFeed, pool: pools.solUsdc.address, fee: pools.solUsdc.fee, pair: solUsdcPair({ sol, usdc }) };
}

/** Move the token's feed (as its owner) and arbitrage its pool to it (as the market maker). */
export async function setListedPrice(d: Devnet, l: Listing, priceE8: bigint): Promise<void> {
  await send(d.as('deployer'), `${l.symbol} feed`, { address: l.feed, abi: priceFeedAbi, functionName: 'setPrice', args: [priceE8] });
  const mm = d.as('marketMaker');
  await mintToken(mm, l, 1_000_000n * 10n ** BigInt(l.pair.baseDecimals));
  await mintUsdc(d, d.address('marketMaker'), 10_000_000n * USDC);
  const arb = await arbitragePairToPrice(mm, { pool: l.pool, swapRouter: d.addresses.uniswap.swapRouter, pair: l.pair, targetPriceE8: priceE8 });
  if (arb.status !== 'at-target') throw new Error(`${l.symbol} pool: arbitrage ended ${arb.status}`);
}

/** The keeper.yaml pool line of a listing, tokens in the pool's (address) order. */
export function poolYamlLine(id: string, l: Listing): string {
  const { token0, token1 } = pairOrder(l.pair);
  const sym = (t: Address) => (t === l.token ? l.symbol : 'USDC');
  return `  ${id}: { address: ${l.pool}, token0: ${sym(token0)}, token1: ${sym(token1)}, fee: ${l.fee} }`;
}

/** Insert `line` after the one line `anchor` matches; throws when it matches none (the devnet yaml changed shape). */
export function yamlAfter(yaml: string, anchor: RegExp, line: string): string {
  const out = yaml.replace(anchor, (m) => `${m}\n${line}`);
  if (out === yaml) throw new Error(`yaml edit: no line matches ${anchor}`);
  return out;
}

/** Replace the one line `anchor` matches; throws when it matches none. */
export function yamlReplaceLine(yaml: string, anchor: RegExp, line: string): string {
  const out = yaml.replace(anchor, line);
  if (out === yaml) throw new Error(`yaml edit: no line matches ${anchor}`);
  return out;
}
