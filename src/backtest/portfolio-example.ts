import type { Address } from '../core/types.js';
import { devnetPortfolioYaml } from '../devnet/portfolio-file.js';

/**
 * A keeper.yaml to backtest without a devnet: the devnet's multi-asset demo portfolio (ETH and
 * BTC, three pools, a perp and an Aave venue) with placeholder addresses, which a backtest never
 * calls but the portfolio file must still parse.
 */
export function examplePortfolioYaml(): string {
  const at = (n: number): Address => `0x${n.toString(16).padStart(40, '0')}`;
  return devnetPortfolioYaml({
    usdc: at(0xa1), weth: at(0xa2), wbtc: at(0xa3), usdcUsdFeed: at(0xf1), ethUsdFeed: at(0xf2), btcUsdFeed: at(0xf3),
    perp: at(0xb1), perpMarketId: '1', perpBtcMarketId: '2',
    pools: {
      wethUsdc: { address: at(0xc1), fee: 500 },
      wbtcUsdc: { address: at(0xc2), fee: 500 },
      wethWbtc: { address: at(0xc3), fee: 3000 },
    },
    uniswap: { positionManager: at(0xd1), swapRouter: at(0xd2), quoterV2: at(0xd3) },
    aave: { poolAddressesProvider: at(0xe1) },
  } as unknown as Parameters<typeof devnetPortfolioYaml>[0]);
}
