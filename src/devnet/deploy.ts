import { parseEther, type Address } from 'viem';
import { erc20Abi } from 'viem';
import { mockUsdcAbi, multicall3Abi, multicall3Bytecode, perpExchangeAbi, priceFeedAbi } from '../../contracts-abi/index.js';
import { LENDING_CALL_GAS, confirm } from './confirm.js';
import { MULTICALL3_CANONICAL } from '../config.js';
import { createAnvilTestClient, createClients, type Clients } from '../chain/clients.js';
import { devnetAccount, type DevnetRole } from './accounts.js';
import { deployAaveV3, seedAaveLiquidity, type AaveAddresses } from './aave.js';
import { aavePoolAbi } from './aave-artifacts.js';
import { deployCoreContracts } from './deploy-core.js';
import { deployPortfolio, deployProxyAsset, type PoolRef } from './deploy-portfolio.js';
import { deployMorpho, type MorphoDevnetDeployment } from './deploy-morpho.js';
import { deployV4, type V4DevnetDeployment } from './deploy-v4.js';
import {
  createAndSeedPool,
  deployUniswapV3,
  fundWithTokens,
  mintLpPosition,
  swapExactInput,
  poolTokens,
  tickSpacingOf,
  type UniswapDeployment,
} from './uniswap.js';
import { ticksAroundPrice } from '../spot/uniswap-math.js';

/** Everything `npm run devnet` deploys; JSON-safe (the market id is a decimal string). */
export interface DevnetAddresses {
  chainId: number;
  usdc: Address;
  weth: Address;
  ethUsdFeed: Address;
  usdcUsdFeed: Address;
  perp: Address;
  perpMarketId: string;
  uniswap: UniswapDeployment & { pool: Address; fee: number };
  aave: AaveAddresses;
  accounts: Record<DevnetRole, Address>;
  demo: {
    perp: { account: Address; lpTokenId: string };
    aave: { account: Address; lpTokenId: string };
    /** The multi-asset demo (WETH, WBTC, USDC; ETH hedged on the perp and Aave, BTC on Aave). */
    portfolio: { account: Address; lpTokenIds: string[] };
  };
  /** WBTC, 8 decimals (Aave's MintableERC20: anyone may mint on the devnet). */
  wbtc: Address;
  btcUsdFeed: Address;
  /** The BTC-USD market on `perp` (decimal string). */
  perpBtcMarketId: string;
  /** Every pool, by pair; `wethUsdc` is `uniswap.pool`. */
  pools: { wethUsdc: PoolRef; wbtcUsdc: PoolRef; wethWbtc: PoolRef; solUsdc?: PoolRef };
  /** SOL, 9 decimals, hedged by proxy in the demo portfolio (no perp market, no Aave reserve); absent in dumps from before it. */
  sol?: Address;
  solUsdFeed?: Address;
  /** Uniswap v4 (PoolManager, PositionManager, StateView, Permit2), a WETH/USDC pool and the v4Demo's position. */
  v4: V4DevnetDeployment;
  /** Morpho Blue (real bytecode), its IRM and oracle, and the WETH-loan / USDC-collateral market with a lender. */
  morpho: MorphoDevnetDeployment;
}

export const DEVNET_ETH_PRICE_E8 = 2_000n * 10n ** 8n;
export const DEVNET_POOL_FEE = 500;

/** The demo portfolio: wallet WETH and USDC, an LP position ±10% around the price. */
const DEMO = {
  walletWethWei: parseEther('5'),
  usdcUnits: 100_000n * 10n ** 6n,
  lpWethWei: parseEther('10'),
  lpUsdcUnits: 20_000n * 10n ** 6n,
  lpWidthPct: 10,
  /** Perp margin as a fraction of the short's notional: 30% (trigger 15%, target 25%). */
  perpMarginPct: 30n,
  /** Aave health factor to open at: 1.6 (trigger 1.3, target 1.6). */
  aaveHfE2: 160n,
};

function clientsFor(rpcUrl: string, role: DevnetRole): Clients {
  return createClients({ rpcUrls: [rpcUrl], chainId: 31337, privateKey: devnetAccount(role).privateKey, pollingIntervalMs: 20 });
}

/** Wallet tokens + an LP position for a demo account; returns the position's base amount. */
async function fundDemoSpot(
  c: Clients,
  owner: Clients,
  a: { weth: Address; usdc: Address; uniswap: UniswapDeployment },
): Promise<{ tokenId: bigint; spotWethWei: bigint }> {
  const account = c.walletClient.account.address;
  await confirm(
    owner,
    owner.walletClient.writeContract({ address: a.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [account, DEMO.usdcUnits] }),
    'demo USDC mint',
  );
  await fundWithTokens(c, { weth: a.weth, usdc: a.usdc, wethWei: DEMO.walletWethWei + DEMO.lpWethWei, usdcUnits: 0n });
  const { baseIsToken0 } = poolTokens(a.weth, a.usdc);
  const range = ticksAroundPrice(DEVNET_ETH_PRICE_E8, DEMO.lpWidthPct, tickSpacingOf(DEVNET_POOL_FEE), baseIsToken0);
  const lp = await mintLpPosition(c, {
    positionManager: a.uniswap.positionManager,
    weth: a.weth,
    usdc: a.usdc,
    fee: DEVNET_POOL_FEE,
    ...range,
    amountWethWei: DEMO.lpWethWei,
    amountUsdcUnits: DEMO.lpUsdcUnits,
  });
  const walletWeth = await c.publicClient.readContract({ address: a.weth, abi: erc20Abi, functionName: 'balanceOf', args: [account] });
  return { tokenId: lp.tokenId, spotWethWei: walletWeth + lp.amountWethWei };
}

/** Short the spot delta on the perp exchange with margin = 30% of notional. */
async function openPerpHedge(c: Clients, perp: Address, usdc: Address, marketId: bigint, spotWethWei: bigint): Promise<void> {
  const notionalUnits = (spotWethWei * DEVNET_ETH_PRICE_E8) / 10n ** 20n;
  const marginUnits = (notionalUnits * DEMO.perpMarginPct) / 100n;
  await confirm(c, c.walletClient.writeContract({ address: usdc, abi: erc20Abi, functionName: 'approve', args: [perp, marginUnits] }), 'approve');
  await confirm(
    c,
    c.walletClient.writeContract({ address: perp, abi: perpExchangeAbi, functionName: 'deposit', args: [marketId, marginUnits] }),
    'perp deposit',
  );
  const acceptable = (DEVNET_ETH_PRICE_E8 * 99n) / 100n;
  await confirm(
    c,
    c.walletClient.writeContract({ address: perp, abi: perpExchangeAbi, functionName: 'trade', args: [marketId, -spotWethWei, acceptable] }),
    'perp short',
  );
}

/** Supply USDC for HF 1.6 at the opening debt, borrow the spot delta in WETH and sell it for USDC. */
async function openAaveHedge(
  c: Clients,
  a: { aave: AaveAddresses; weth: Address; usdc: Address; uniswap: UniswapDeployment },
  spotWethWei: bigint,
): Promise<void> {
  const debtUsdE8 = (spotWethWei * DEVNET_ETH_PRICE_E8) / 10n ** 18n;
  // HF = collateral * 0.80 / debt  =>  collateral = HF * debt / 0.80
  const collateralUnits = (debtUsdE8 * DEMO.aaveHfE2 * 10n ** 6n) / (80n * 10n ** 8n);
  const me = c.walletClient.account.address;
  await confirm(c, c.walletClient.writeContract({ address: a.usdc, abi: erc20Abi, functionName: 'approve', args: [a.aave.pool, collateralUnits] }), 'approve');
  await confirm(
    c,
    c.walletClient.writeContract({ address: a.aave.pool, abi: aavePoolAbi, functionName: 'supply', args: [a.usdc, collateralUnits, me, 0], gas: LENDING_CALL_GAS }),
    'aave supply',
  );
  await confirm(
    c,
    c.walletClient.writeContract({ address: a.aave.pool, abi: aavePoolAbi, functionName: 'borrow', args: [a.weth, spotWethWei, 2n, 0, me], gas: LENDING_CALL_GAS }),
    'aave borrow',
  );
  await swapExactInput(c, a.uniswap.swapRouter, {
    tokenIn: a.weth,
    tokenOut: a.usdc,
    fee: DEVNET_POOL_FEE,
    amountIn: spotWethWei,
  });
}

/**
 * Deploy the whole devnet on a fresh anvil (automine): tokens, feeds, the perp exchange,
 * Multicall3, Uniswap V3 with a deep WETH/USDC pool, Aave V3, and two hedged demo portfolios.
 */
export async function deployDevnet(rpcUrl: string): Promise<DevnetAddresses> {
  const test = createAnvilTestClient(rpcUrl);
  const deployer = clientsFor(rpcUrl, 'deployer');
  const maker = clientsFor(rpcUrl, 'marketMaker');
  // The pool's depth needs more ETH than anvil's default 10,000 per account.
  for (const role of ['deployer', 'marketMaker'] as const) {
    await test.setBalance({ address: devnetAccount(role).address, value: parseEther('1000000') });
  }

  const core = await deployCoreContracts(deployer, { ethPriceE8: DEVNET_ETH_PRICE_E8 });

  // Multicall3 at its canonical address, as on mainnet: the keeper reads a tick in one call.
  const mcHash = await deployer.walletClient.deployContract({ abi: multicall3Abi, bytecode: multicall3Bytecode, args: [] });
  const mcAt = (await deployer.publicClient.waitForTransactionReceipt({ hash: mcHash })).contractAddress as Address;
  const mcCode = await deployer.publicClient.getCode({ address: mcAt });
  await test.setCode({ address: MULTICALL3_CANONICAL, bytecode: mcCode as `0x${string}` });

  const uni = await deployUniswapV3(deployer, { weth: core.weth });
  const { pool } = await createAndSeedPool(deployer, {
    uniswap: uni,
    weth: core.weth,
    usdc: core.usdc,
    fee: DEVNET_POOL_FEE,
    priceE8: DEVNET_ETH_PRICE_E8,
    liquidityUsd: 20_000_000n,
  });

  const aave = await deployAaveV3(deployer, {
    usdc: core.usdc,
    weth: core.weth,
    usdcFeed: core.usdcUsdFeed,
    wethFeed: core.ethUsdFeed,
    treasury: devnetAccount('deployer').address,
  });
  await seedAaveLiquidity(deployer, {
    aave,
    weth: core.weth,
    usdc: core.usdc,
    supplier: devnetAccount('marketMaker').address,
    amountWethWei: parseEther('2000'),
    amountUsdcUnits: 5_000_000n * 10n ** 6n,
  }).catch(async (err: unknown) => {
    throw new Error('devnet: seeding Aave liquidity failed', { cause: err });
  });

  // The market maker's inventory for arbitraging the pool to the feed.
  await confirm(
    deployer,
    deployer.walletClient.writeContract({ address: core.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [maker.walletClient.account.address, 10_000_000n * 10n ** 6n] }),
    'maker USDC mint',
  );
  await fundWithTokens(maker, { weth: core.weth, usdc: core.usdc, wethWei: parseEther('5000'), usdcUnits: 0n });

  const spotAddrs = { weth: core.weth, usdc: core.usdc, uniswap: uni };
  const perpDemo = clientsFor(rpcUrl, 'perpDemo');
  const perpSpot = await fundDemoSpot(perpDemo, deployer, spotAddrs);
  await openPerpHedge(perpDemo, core.perp, core.usdc, core.perpMarketId, perpSpot.spotWethWei);

  const aaveDemo = clientsFor(rpcUrl, 'aaveDemo');
  const aaveSpot = await fundDemoSpot(aaveDemo, deployer, spotAddrs);
  await openAaveHedge(aaveDemo, { ...spotAddrs, aave }, aaveSpot.spotWethWei);

  // Everything the devnet had before the multi-asset portfolio is above this line: what follows
  // only adds (new contracts, new accounts' state), so earlier addresses and nonces never move.
  const portfolio = await deployPortfolio(
    { deployer, maker, demo: clientsFor(rpcUrl, 'portfolioDemo') },
    {
      weth: core.weth,
      usdc: core.usdc,
      perp: core.perp,
      perpMarketId: core.perpMarketId,
      ethPriceE8: DEVNET_ETH_PRICE_E8,
      uniswap: { ...uni, pool, fee: DEVNET_POOL_FEE },
      aave,
      treasury: devnetAccount('deployer').address,
    },
  );

  // Uniswap v4 after all of the above, for the same reason.
  const v4 = await deployV4(
    { deployer, demo: clientsFor(rpcUrl, 'v4Demo') },
    { weth: core.weth, usdc: core.usdc, ethPriceE8: DEVNET_ETH_PRICE_E8, setCode: (address, bytecode) => test.setCode({ address, bytecode }) },
  );

  // Morpho Blue after all of the above, for the same reason.
  const morpho = await deployMorpho(deployer, { weth: core.weth, usdc: core.usdc, ethUsdFeed: core.ethUsdFeed, usdcUsdFeed: core.usdcUsdFeed });

  // The proxy-hedged third asset after all of the above, for the same reason.
  const proxyAsset = await deployProxyAsset(
    { deployer, demo: clientsFor(rpcUrl, 'portfolioDemo') },
    { usdc: core.usdc, perp: core.perp, perpMarketId: core.perpMarketId, ethPriceE8: DEVNET_ETH_PRICE_E8, uniswap: { ...uni, pool, fee: DEVNET_POOL_FEE } },
  );

  const roles = ['deployer', 'perpDemo', 'marketMaker', 'liquidator', 'aaveDemo', 'portfolioDemo', 'v4Demo'] as const;
  return {
    chainId: 31337,
    usdc: core.usdc,
    weth: core.weth,
    ethUsdFeed: core.ethUsdFeed,
    usdcUsdFeed: core.usdcUsdFeed,
    perp: core.perp,
    perpMarketId: core.perpMarketId.toString(),
    uniswap: { ...uni, pool, fee: DEVNET_POOL_FEE },
    aave: {
      ...aave,
      aWbtc: portfolio.aaveWbtc.aToken,
      variableDebtWbtc: portfolio.aaveWbtc.variableDebtToken,
      stableDebtWbtc: portfolio.aaveWbtc.stableDebtToken,
    },
    accounts: Object.fromEntries(roles.map((r) => [r, devnetAccount(r).address])) as Record<DevnetRole, Address>,
    demo: {
      perp: { account: devnetAccount('perpDemo').address, lpTokenId: perpSpot.tokenId.toString() },
      aave: { account: devnetAccount('aaveDemo').address, lpTokenId: aaveSpot.tokenId.toString() },
      portfolio: { account: portfolio.portfolio.account, lpTokenIds: portfolio.portfolio.lpTokenIds.map(String) },
    },
    wbtc: portfolio.wbtc,
    btcUsdFeed: portfolio.btcUsdFeed,
    perpBtcMarketId: portfolio.perpBtcMarketId.toString(),
    pools: { ...portfolio.pools, solUsdc: proxyAsset.pool },
    sol: proxyAsset.sol,
    solUsdFeed: proxyAsset.solUsdFeed,
    v4,
    morpho,
  };
}

/** Re-stamp the feeds at their current answers, so a dump loaded later is not stale. */
export async function refreshFeeds(
  rpcUrl: string,
  a: Pick<DevnetAddresses, 'ethUsdFeed' | 'usdcUsdFeed'> & Partial<Pick<DevnetAddresses, 'btcUsdFeed' | 'solUsdFeed'>>,
): Promise<void> {
  const deployer = clientsFor(rpcUrl, 'deployer');
  for (const feed of [a.ethUsdFeed, a.usdcUsdFeed, ...(a.btcUsdFeed ? [a.btcUsdFeed] : []), ...(a.solUsdFeed ? [a.solUsdFeed] : [])]) {
    const answer = await deployer.publicClient.readContract({ address: feed, abi: priceFeedAbi, functionName: 'latestAnswer' });
    await confirm(deployer, deployer.walletClient.writeContract({ address: feed, abi: priceFeedAbi, functionName: 'setPrice', args: [answer] }), 'feed refresh');
  }
}
