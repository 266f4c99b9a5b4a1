/**
 * The keeper.yaml of the devnet's multi-asset demo portfolio (`demo.portfolio`): assets, pools,
 * both venues, the instruments that split the hedge between them and the policy. SOL (a devnet
 * with it) has no instrument: it is hedged by proxy through ETH. Text only; the keeper's own
 * config loader parses and validates it. One line per asset, pool, venue and instrument, so a
 * venue is added as one more line in each list.
 */
import type { Address } from 'viem';
import type { DevnetAddresses } from './deploy.js';

type PortfolioAddresses = Pick<
  DevnetAddresses,
  'usdc' | 'weth' | 'wbtc' | 'usdcUsdFeed' | 'ethUsdFeed' | 'btcUsdFeed' | 'perp' | 'perpMarketId' | 'perpBtcMarketId' | 'pools' | 'uniswap' | 'aave'
> & Partial<Pick<DevnetAddresses, 'sol' | 'solUsdFeed'>>;

/** Top-up caps (USD) of both venues; the demo opened at perp margin 0.30 and Aave HF 1.6, inside both bands. */
const TOP_UP = 'maxTopUp: 50000, maxTopUpPerDay: 200000';

/** `{ address, token0, token1, fee }` with the symbols in the pool's own (address) order. */
function poolLine(address: Address, fee: number, a: { symbol: string; token: Address }, b: { symbol: string; token: Address }): string {
  const [t0, t1] = a.token.toLowerCase() < b.token.toLowerCase() ? [a, b] : [b, a];
  return `{ address: ${address}, token0: ${t0.symbol}, token1: ${t1.symbol}, fee: ${fee} }`;
}

export function devnetPortfolioYaml(a: PortfolioAddresses): string {
  const usdc = { symbol: 'USDC', token: a.usdc };
  const eth = { symbol: 'ETH', token: a.weth };
  const btc = { symbol: 'BTC', token: a.wbtc };
  const { wethUsdc, wbtcUsdc, wethWbtc, solUsdc } = a.pools;
  // SOL only on a devnet that has it (a dump from before it has no SOL).
  const sol = a.sol && a.solUsdFeed && solUsdc ? { symbol: 'SOL', token: a.sol, feed: a.solUsdFeed, pool: solUsdc } : null;
  return [
    `positionManager: ${a.uniswap.positionManager}`,
    `quote: { symbol: USDC, token: ${a.usdc}, decimals: 6, feed: ${a.usdcUsdFeed} }`,
    'assets:',
    `  ETH: { token: ${a.weth}, decimals: 18, feed: ${a.ethUsdFeed}, heartbeat: 3600, wrapsNative: true }`,
    `  BTC: { token: ${a.wbtc}, decimals: 8, feed: ${a.btcUsdFeed}, heartbeat: 3600 }`,
    ...(sol ? [`  SOL: { token: ${sol.token}, decimals: 9, feed: ${sol.feed}, heartbeat: 3600 }`] : []),
    'pools:',
    `  weth-usdc: ${poolLine(wethUsdc.address, wethUsdc.fee, eth, usdc)}`,
    `  wbtc-usdc: ${poolLine(wbtcUsdc.address, wbtcUsdc.fee, btc, usdc)}`,
    `  weth-wbtc: ${poolLine(wethWbtc.address, wethWbtc.fee, eth, btc)}`,
    ...(sol ? [`  sol-usdc: ${poolLine(sol.pool.address, sol.pool.fee, sol, usdc)}`] : []),
    'venues:',
    `  perp: { kind: perp, exchange: ${a.perp}, markets: { ETH: ${a.perpMarketId}, BTC: ${a.perpBtcMarketId} }, trigger: 0.15, target: 0.25, ${TOP_UP} }`,
    `  aave: { kind: aave, addressesProvider: ${a.aave.poolAddressesProvider}, swapRouter: ${a.uniswap.swapRouter}, quoter: ${a.uniswap.quoterV2}, ` +
      `swapPools: { ETH: weth-usdc, BTC: wbtc-usdc }, trigger: 1.3, target: 1.6, ${TOP_UP} }`,
    'instruments:',
    '  - { venue: perp, asset: ETH, priority: 1, weight: 1 }',
    '  - { venue: aave, asset: ETH, priority: 2, weight: 1 }',
    '  - { venue: aave, asset: BTC, priority: 1, weight: 1 }',
    'policy:',
    '  cooldown: 0',
    '  maxSlippageBps: 100',
    '  assets:',
    '    ETH: { hedgeRatio: 1, band: 0.5, bandPct: 0.05, hysteresis: 0.5, minTrade: 0.01, maxTrade: 50, maxNotionalPerDayUsd: 10000000 }',
    '    BTC: { hedgeRatio: 1, band: 0.02, bandPct: 0.05, hysteresis: 0.5, minTrade: 0.0005, maxTrade: 2, maxNotionalPerDayUsd: 10000000 }',
    // No instrument of its own: ETH's target carries h* × SOL (traded under ETH's band and caps).
    ...(sol ? ['    SOL: { proxy: [ETH], hedgeRatio: 1 }'] : []),
    '',
  ].join('\n');
}
