import type { Address } from '../core/types.js';
import { ConfigError, type ChainAddresses, type KeeperConfig } from '../config.js';
import { deepFreeze } from './file.js';
import type { AssetPolicy, CollateralPolicy, InstrumentSpec, PoolSpec, Portfolio, VenueSpec } from './model.js';

/**
 * Today's single-asset environment as a portfolio, so a keeper without PORTFOLIO_FILE runs the
 * same portfolio code as one with it: ETH (the WETH token, ORACLE_FEED) valued in USDC, the one
 * configured pool, one venue of HEDGE_VENUE's kind and one instrument on it.
 *
 * Every number is carried over as the env config already holds it (wei, USDC units, E18, USD
 * E8): nothing is re-derived, so the portfolio behaves exactly as the env keeper did. What the
 * environment never said is fixed here:
 * - ids: asset ETH, quote USDC, pool weth-usdc, venue = the HEDGE_VENUE kind, instrument
 *   `<venue>:ETH` (priority 1, weight 1, no size bound beyond the venue's own: the env keeper
 *   had none);
 * - decimals 18 (WETH) and 6 (USDC), which the env config's units already assume;
 * - LP positions are those of UNISWAP_POSITION_MANAGER, as before;
 * - the feed's heartbeat is ORACLE_MAX_AGE_SEC (the env keeper's staleness limit);
 * - the pool's fee: the env never named it (the keeper read `fee()` from the pool), so a caller
 *   holding a chain client passes the pool's own; 500 is the devnet's.
 * - BAND_MODE and its parameters have no place in the portfolio model and are not carried.
 */
export function portfolioFromEnv(config: KeeperConfig, addresses: ChainAddresses, poolFee = 500): Portfolio {
  const { policy, guard } = config;
  const eth = { id: 'ETH', token: addresses.weth, decimals: 18, feed: addresses.oracleFeed, heartbeatSec: config.safety.oracleMaxAgeSec, wrapsNative: true };
  const quote = { id: 'USDC', token: addresses.usdc, decimals: 6, feed: addresses.usdcFeed };
  // Uniswap orders a pool's tokens by address.
  const wethFirst = addresses.weth.toLowerCase() < addresses.usdc.toLowerCase();
  const pool: PoolSpec = { id: 'weth-usdc', address: addresses.uniswapPool, token0: wethFirst ? 'ETH' : 'USDC', token1: wethFirst ? 'USDC' : 'ETH', fee: poolFee };
  const collateral = (triggerE18: bigint, targetE18: bigint): CollateralPolicy => ({
    triggerE18, targetE18, maxTopUpUnits: guard.maxTopUpUnits, maxTopUpPerDayUnits: guard.maxTopUpPerDayUnits,
  });
  const venue: VenueSpec = config.venue === 'perp'
    ? { kind: 'perp', id: 'perp', exchange: need(addresses.perpExchange, 'PERP_EXCHANGE', 'perp'), markets: { ETH: config.perpMarketId }, collateral: collateral(policy.marginTriggerE18, policy.marginTargetE18) }
    : {
        kind: 'aave',
        id: 'aave',
        addressesProvider: need(addresses.aavePoolAddressesProvider, 'AAVE_POOL_ADDRESSES_PROVIDER', 'aave'),
        swapRouter: need(addresses.uniswapSwapRouter, 'UNISWAP_SWAP_ROUTER', 'aave'),
        quoter: need(addresses.uniswapQuoter, 'UNISWAP_QUOTER', 'aave'),
        swapPools: { ETH: pool.id },
        collateral: collateral(policy.hfTriggerE18, policy.hfTargetE18),
      };
  const instrument: InstrumentSpec = { id: `${venue.id}:ETH`, venue: venue.id, asset: 'ETH', priority: 1, weight: 1, maxSizeUnits: null };
  const ethPolicy: AssetPolicy = {
    hedgeRatioE18: policy.hedgeRatioE18,
    bandUnits: policy.deltaBandWei,
    bandPctE18: policy.deltaBandPctE18,
    hysteresisE18: policy.hysteresisE18,
    minTradeUnits: policy.minTradeWei,
    maxTradeUnits: guard.maxTradeWei,
    maxNotionalPerDayUsdE8: guard.maxNotionalPerDayUsdE8,
  };
  return deepFreeze({
    positionManager: addresses.uniswapPositionManager,
    quote,
    assets: [eth],
    pools: [pool],
    venues: [venue],
    instruments: [instrument],
    policy: { assets: { ETH: ethPolicy }, cooldownSec: policy.cooldownSec, maxSlippageBps: policy.maxSlippageBps, includeNative: policy.includeNativeEth },
  });
}

/** resolveAddresses already insists on the venue's addresses; this keeps the types honest. */
function need(a: Address | null, variable: string, venue: string): Address {
  if (a === null) throw new ConfigError([`${variable}=(unset): required with HEDGE_VENUE=${venue}, in the environment or the addresses file`]);
  return a;
}
