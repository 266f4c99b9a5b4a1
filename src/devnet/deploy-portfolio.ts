/**
 * The devnet's second asset and its multi-asset demo portfolio, deployed strictly AFTER everything
 * `deployDevnet` did before it grew (so every earlier address, nonce and balance is unchanged):
 * WBTC (8 decimals) and a BTC/USD feed, WBTC/USDC and WETH/WBTC pools, a BTC-USD perp market, a
 * WBTC reserve on the existing Aave market, and the `portfolioDemo` account hedged on both venues.
 * Then, last of all the devnet deploys (`deployProxyAsset`), a third asset with no hedge instrument:
 * SOL (9 decimals), its feed and a SOL/USDC pool, held by the demo and hedged by proxy through ETH.
 */
import { erc20Abi, getAddress, parseEther, type Address, type Hex } from 'viem';
import { mockUsdcAbi, perpExchangeAbi, priceFeedAbi, priceFeedBytecode } from '../../contracts-abi/index.js';
import type { Clients } from '../chain/clients.js';
import { ticksAroundPrice } from '../spot/uniswap-math.js';
import { AAVE_DEVNET_RISK, listAaveReserve, supplyMintedToAave, type AaveAddresses, type AaveReserveTokens } from './aave.js';
import { aavePoolAbi, loadAaveArtifact } from './aave-artifacts.js';
import { confirm } from './confirm.js';
import { createAndSeedPairPool, devnetTokenAbi, fundWithTokens, mintPairLp, pairOrder, tickSpacingOf, type TokenPair, type UniswapDeployment } from './uniswap.js';

export const DEVNET_BTC_PRICE_E8 = 60_000n * 10n ** 8n;
export const DEVNET_WBTC_USDC_FEE = 3000;
export const DEVNET_WETH_WBTC_FEE = 3000;
export const WBTC_DECIMALS = 8;
/** Staleness limit of the BTC-USD perp market, as the ETH-USD one. */
const BTC_MARKET_MAX_AGE_SEC = 3_600n;
const HOUSE_TOP_UP_UNITS = 10_000_000n * 10n ** 6n;
const E8 = 10n ** 8n;

/** The demo portfolio (ETH 2,000 and BTC 60,000 USD at deploy). */
const PORTFOLIO = {
  walletUsdcUnits: 100_000n * 10n ** 6n,
  walletWethWei: parseEther('5'),
  /** WETH/USDC LP, ±10% (fee 500). */
  lpEthUsdc: { wethWei: parseEther('10'), usdcUnits: 20_000n * 10n ** 6n },
  /** WBTC/WETH LP, ±10% (fee 3000). */
  lpBtcEth: { wbtcUnits: 50_000_000n, wethWei: parseEther('15') },
  walletWbtcUnits: 20_000_000n,
  /** The ETH the Aave leg borrows; the perp short covers the rest of the ETH delta. */
  aaveEthDebtWei: parseEther('12'),
  /** Perp margin as a fraction of the short's notional (trigger 15%, target 25%). */
  perpMarginPct: 30n,
  /** Aave health factor to open at (trigger 1.3, target 1.6); USDC collateral, threshold 80%. */
  aaveHfE2: 160n,
  lpWidthPct: 10,
} as const;

export interface PoolRef {
  address: Address;
  fee: number;
}

export interface PortfolioDeployment {
  wbtc: Address;
  btcUsdFeed: Address;
  perpBtcMarketId: bigint;
  pools: { wethUsdc: PoolRef; wbtcUsdc: PoolRef; wethWbtc: PoolRef };
  aaveWbtc: AaveReserveTokens;
  portfolio: { account: Address; lpTokenIds: bigint[] };
}

export interface PortfolioBase {
  weth: Address;
  usdc: Address;
  perp: Address;
  perpMarketId: bigint;
  ethPriceE8: bigint;
  uniswap: UniswapDeployment & { pool: Address; fee: number };
  aave: AaveAddresses;
  treasury: Address;
}

/** WBTC priced in USDC (the wbtc-usdc pool). */
export function wbtcUsdcPair(a: { wbtc: Address; usdc: Address }): TokenPair {
  return { base: a.wbtc, quote: a.usdc, baseDecimals: WBTC_DECIMALS, quoteDecimals: 6 };
}

/** WBTC priced in WETH (the weth-wbtc pool): BTC/ETH around 30 keeps eight digits of precision. */
export function wbtcWethPair(a: { wbtc: Address; weth: Address }): TokenPair {
  return { base: a.wbtc, quote: a.weth, baseDecimals: WBTC_DECIMALS, quoteDecimals: 18 };
}

/** BTC in ETH, E8, from the two USD prices (the weth-wbtc pool's target). */
export function btcInEthE8(btcUsdE8: bigint, ethUsdE8: bigint): bigint {
  return (btcUsdE8 * E8 + ethUsdE8 / 2n) / ethUsdE8;
}

/** Amount of a token worth `usd` at `priceE8`. */
function unitsForUsd(usd: bigint, priceE8: bigint, decimals: number): bigint {
  return (usd * E8 * 10n ** BigInt(decimals)) / priceE8;
}

type Write = Parameters<Clients['walletClient']['writeContract']>[0];
async function send(c: Clients, what: string, call: Omit<Write, 'account' | 'chain'>): Promise<void> {
  // Half again the estimate: Aave's interest accrual costs more gas in the block the call lands in
  // than in the one it was estimated on (a later timestamp), enough to starve an inner call.
  const estimate = await c.publicClient.estimateContractGas({ ...call, account: c.walletClient.account } as never);
  await confirm(c, c.walletClient.writeContract({ ...call, gas: (estimate * 3n) / 2n, account: c.walletClient.account, chain: c.walletClient.chain } as Write), what);
}

async function deployContract(c: Clients, what: string, abi: readonly unknown[], bytecode: Hex, args: readonly unknown[]): Promise<Address> {
  const hash = await c.walletClient.deployContract({ abi: abi as never, bytecode, args: args as never, account: c.walletClient.account, chain: c.walletClient.chain });
  const receipt = await confirm(c, hash, `deploy ${what}`);
  if (!receipt.contractAddress) throw new Error(`deploy ${what}: no contract address`);
  return getAddress(receipt.contractAddress);
}

/** WBTC is Aave's MintableERC20 artifact (8 decimals, anyone may mint): our MockUSDC fixes 6 decimals. */
async function deployBtcAssets(deployer: Clients): Promise<{ wbtc: Address; btcUsdFeed: Address }> {
  const token = loadAaveArtifact('MintableERC20');
  const wbtc = await deployContract(deployer, 'WBTC', token.abi, token.bytecode, ['Wrapped BTC', 'WBTC', WBTC_DECIMALS]);
  const owner = deployer.walletClient.account.address;
  const btcUsdFeed = await deployContract(deployer, 'BTC/USD feed', priceFeedAbi, priceFeedBytecode, [8, 'BTC / USD', DEVNET_BTC_PRICE_E8, owner]);
  return { wbtc, btcUsdFeed };
}

async function addBtcMarket(deployer: Clients, b: PortfolioBase, btcUsdFeed: Address): Promise<bigint> {
  const count = await deployer.publicClient.readContract({ address: b.perp, abi: perpExchangeAbi, functionName: 'marketCount' });
  await send(deployer, 'add BTC-USD market', { address: b.perp, abi: perpExchangeAbi, functionName: 'addMarket', args: [btcUsdFeed, BTC_MARKET_MAX_AGE_SEC] });
  // The house is shared by all markets: a second market's traders get their own backing.
  const me = deployer.walletClient.account.address;
  await send(deployer, 'house USDC mint', { address: b.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [me, HOUSE_TOP_UP_UNITS] });
  await send(deployer, 'house approve', { address: b.usdc, abi: mockUsdcAbi, functionName: 'approve', args: [b.perp, HOUSE_TOP_UP_UNITS] });
  await send(deployer, 'fund house', { address: b.perp, abi: perpExchangeAbi, functionName: 'fundHouse', args: [HOUSE_TOP_UP_UNITS] });
  return count + 1n;
}

/** Deep full-range pools at the feed prices: WBTC/USDC 20M USD a side, WETH/WBTC 10M a side. */
async function seedBtcPools(deployer: Clients, b: PortfolioBase, wbtc: Address): Promise<{ wbtcUsdc: Address; wethWbtc: Address }> {
  const me = deployer.walletClient.account.address;
  const mintWbtc = (units: bigint) => send(deployer, 'WBTC mint', { address: wbtc, abi: devnetTokenAbi, functionName: 'mint', args: [me, units] });
  const usdSide = 20_000_000n;
  const btcUsdc = await createAndSeedPairPool(deployer, {
    uniswap: b.uniswap,
    pair: wbtcUsdcPair({ wbtc, usdc: b.usdc }),
    fee: DEVNET_WBTC_USDC_FEE,
    priceE8: DEVNET_BTC_PRICE_E8,
    amountBase: unitsForUsd(usdSide, DEVNET_BTC_PRICE_E8, WBTC_DECIMALS),
    amountQuote: usdSide * 10n ** 6n,
    fund: async () => {
      await send(deployer, 'USDC mint', { address: b.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [me, usdSide * 10n ** 6n] });
      await mintWbtc(unitsForUsd(usdSide, DEVNET_BTC_PRICE_E8, WBTC_DECIMALS));
    },
  });
  const halfSide = usdSide / 2n;
  const wethWei = unitsForUsd(halfSide, b.ethPriceE8, 18);
  const btcEth = await createAndSeedPairPool(deployer, {
    uniswap: b.uniswap,
    pair: wbtcWethPair({ wbtc, weth: b.weth }),
    fee: DEVNET_WETH_WBTC_FEE,
    priceE8: btcInEthE8(DEVNET_BTC_PRICE_E8, b.ethPriceE8),
    amountBase: unitsForUsd(halfSide, DEVNET_BTC_PRICE_E8, WBTC_DECIMALS),
    amountQuote: wethWei,
    fund: async () => {
      await fundWithTokens(deployer, { weth: b.weth, usdc: b.usdc, wethWei, usdcUnits: 0n });
      await mintWbtc(unitsForUsd(halfSide, DEVNET_BTC_PRICE_E8, WBTC_DECIMALS));
    },
  });
  return { wbtcUsdc: btcUsdc.pool, wethWbtc: btcEth.pool };
}

async function listWbtcOnAave(deployer: Clients, maker: Clients, b: PortfolioBase, a: { wbtc: Address; btcUsdFeed: Address }): Promise<AaveReserveTokens> {
  const tokens = await listAaveReserve(deployer, {
    aave: b.aave,
    asset: a.wbtc,
    symbol: 'WBTC',
    feed: a.btcUsdFeed,
    rateStrategy: b.aave.wethRateStrategy, // the volatile preset
    risk: AAVE_DEVNET_RISK.wbtc,
    supplyCapTokens: 10_000n,
    borrowCapTokens: 5_000n,
    treasury: b.treasury,
  });
  // Lender liquidity: 500 WBTC (30M USD) from the market maker, like its WETH.
  await supplyMintedToAave(maker, { pool: b.aave.pool, asset: a.wbtc, amount: 500n * 10n ** BigInt(WBTC_DECIMALS) });
  return tokens;
}

/**
 * The demo portfolio. Its spot is partly financed by the Aave borrows (the borrowed WETH and WBTC
 * go into the wallet and the LPs instead of being sold), so no pool price moves: the net delta is
 * spot - Aave debt - perp short = 0 in both assets at deploy.
 */
async function openPortfolioDemo(deployer: Clients, demo: Clients, b: PortfolioBase, wbtc: Address): Promise<bigint[]> {
  const me = demo.walletClient.account.address;
  const P = PORTFOLIO;
  const btcSpotUnits = P.walletWbtcUnits + P.lpBtcEth.wbtcUnits;
  const ethSpotWei = P.walletWethWei + P.lpEthUsdc.wethWei + P.lpBtcEth.wethWei;
  const debtUsdE8 = (P.aaveEthDebtWei * b.ethPriceE8) / 10n ** 18n + (btcSpotUnits * DEVNET_BTC_PRICE_E8) / 10n ** 8n;
  // HF = collateral * 0.80 / debt  =>  collateral = HF * debt / 0.80
  const collateralUnits = (debtUsdE8 * P.aaveHfE2 * 10n ** 6n) / (80n * E8);
  const perpShortWei = ethSpotWei - P.aaveEthDebtWei;
  const marginUnits = (((perpShortWei * b.ethPriceE8) / 10n ** 20n) * P.perpMarginPct) / 100n;
  const usdcUnits = P.walletUsdcUnits + P.lpEthUsdc.usdcUnits + collateralUnits + marginUnits;
  await send(deployer, 'portfolio USDC mint', { address: b.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [me, usdcUnits] });

  const pool = b.aave.pool;
  await send(demo, 'approve', { address: b.usdc, abi: erc20Abi, functionName: 'approve', args: [pool, collateralUnits] });
  await send(demo, 'aave supply', { address: pool, abi: aavePoolAbi, functionName: 'supply', args: [b.usdc, collateralUnits, me, 0] });
  await send(demo, 'aave borrow WETH', { address: pool, abi: aavePoolAbi, functionName: 'borrow', args: [b.weth, P.aaveEthDebtWei, 2n, 0, me] });
  await send(demo, 'aave borrow WBTC', { address: pool, abi: aavePoolAbi, functionName: 'borrow', args: [wbtc, btcSpotUnits, 2n, 0, me] });
  await fundWithTokens(demo, { weth: b.weth, usdc: b.usdc, wethWei: ethSpotWei - P.aaveEthDebtWei, usdcUnits: 0n });

  const lpAt = (pair: TokenPair, fee: number, priceE8: bigint) =>
    ticksAroundPrice(priceE8, P.lpWidthPct, tickSpacingOf(fee), pairOrder(pair).baseIsToken0, pair.baseDecimals, pair.quoteDecimals);
  const ethUsdc: TokenPair = { base: b.weth, quote: b.usdc, baseDecimals: 18, quoteDecimals: 6 };
  const lp1 = await mintPairLp(demo, {
    positionManager: b.uniswap.positionManager,
    pair: ethUsdc,
    fee: b.uniswap.fee,
    ...lpAt(ethUsdc, b.uniswap.fee, b.ethPriceE8),
    amountBase: P.lpEthUsdc.wethWei,
    amountQuote: P.lpEthUsdc.usdcUnits,
  });
  const btcEth = wbtcWethPair({ wbtc, weth: b.weth });
  const lp2 = await mintPairLp(demo, {
    positionManager: b.uniswap.positionManager,
    pair: btcEth,
    fee: DEVNET_WETH_WBTC_FEE,
    ...lpAt(btcEth, DEVNET_WETH_WBTC_FEE, btcInEthE8(DEVNET_BTC_PRICE_E8, b.ethPriceE8)),
    amountBase: P.lpBtcEth.wbtcUnits,
    amountQuote: P.lpBtcEth.wethWei,
  });

  // What the pools did not take stays in the wallet, so the spot is still exactly ethSpotWei.
  await send(demo, 'approve', { address: b.usdc, abi: erc20Abi, functionName: 'approve', args: [b.perp, marginUnits] });
  await send(demo, 'perp deposit', { address: b.perp, abi: perpExchangeAbi, functionName: 'deposit', args: [b.perpMarketId, marginUnits] });
  const acceptable = (b.ethPriceE8 * 99n) / 100n;
  await send(demo, 'perp short', { address: b.perp, abi: perpExchangeAbi, functionName: 'trade', args: [b.perpMarketId, -perpShortWei, acceptable] });
  return [lp1.tokenId, lp2.tokenId];
}

/** Deploy and open everything of the multi-asset portfolio; see the module comment for the order. */
export async function deployPortfolio(
  c: { deployer: Clients; maker: Clients; demo: Clients },
  b: PortfolioBase,
): Promise<PortfolioDeployment> {
  const assets = await deployBtcAssets(c.deployer);
  const perpBtcMarketId = await addBtcMarket(c.deployer, b, assets.btcUsdFeed);
  const pools = await seedBtcPools(c.deployer, b, assets.wbtc);
  const aaveWbtc = await listWbtcOnAave(c.deployer, c.maker, b, assets);
  const lpTokenIds = await openPortfolioDemo(c.deployer, c.demo, b, assets.wbtc);
  return {
    ...assets,
    perpBtcMarketId,
    pools: {
      wethUsdc: { address: b.uniswap.pool, fee: b.uniswap.fee },
      wbtcUsdc: { address: pools.wbtcUsdc, fee: DEVNET_WBTC_USDC_FEE },
      wethWbtc: { address: pools.wethWbtc, fee: DEVNET_WETH_WBTC_FEE },
    },
    aaveWbtc,
    portfolio: { account: c.demo.walletClient.account.address, lpTokenIds },
  };
}

/**
 * The devnet's third asset, hedged by proxy (issue 12, item 2): SOL-like, 9 decimals, its own feed
 * and a SOL/USDC pool, but no perp market and no Aave reserve, so keeper.yaml hedges it through
 * ETH. Deployed after everything else on the devnet (earlier addresses and nonces stay put).
 */
export const DEVNET_SOL_PRICE_E8 = 150n * E8;
export const SOL_DECIMALS = 9;
export const DEVNET_SOL_USDC_FEE = 3000;
/** The demo's SOL ($15,000 at deploy), in its wallet. */
export const DEMO_SOL_UNITS = 100n * 10n ** BigInt(SOL_DECIMALS);
/**
 * h* of one proxy under the risk engine's prior (equal vols, correlation 0.7): what a fresh keeper
 * hedges SOL with, so the demo opens with that much more ETH short and its first tick is quiet.
 */
export const PRIOR_PROXY_RATIO_PCT = 70n;

export interface ProxyAssetDeployment {
  sol: Address;
  solUsdFeed: Address;
  pool: PoolRef;
}

/** SOL priced in USDC (the sol-usdc pool). */
export function solUsdcPair(a: { sol: Address; usdc: Address }): TokenPair {
  return { base: a.sol, quote: a.usdc, baseDecimals: SOL_DECIMALS, quoteDecimals: 6 };
}

export async function deployProxyAsset(
  c: { deployer: Clients; demo: Clients },
  b: Pick<PortfolioBase, 'usdc' | 'perp' | 'perpMarketId' | 'ethPriceE8' | 'uniswap'>,
): Promise<ProxyAssetDeployment> {
  const { deployer, demo } = c;
  const me = deployer.walletClient.account.address;
  const token = loadAaveArtifact('MintableERC20');
  const sol = await deployContract(deployer, 'SOL', token.abi, token.bytecode, ['Wrapped SOL (devnet)', 'SOL', SOL_DECIMALS]);
  const solUsdFeed = await deployContract(deployer, 'SOL/USD feed', priceFeedAbi, priceFeedBytecode, [8, 'SOL / USD', DEVNET_SOL_PRICE_E8, me]);
  // A full-range pool, 5M USD a side: the market maker arbitrages it to the feed as it does BTC's.
  const usdSide = 5_000_000n;
  const solSeed = unitsForUsd(usdSide, DEVNET_SOL_PRICE_E8, SOL_DECIMALS);
  const { pool } = await createAndSeedPairPool(deployer, {
    uniswap: b.uniswap, pair: solUsdcPair({ sol, usdc: b.usdc }), fee: DEVNET_SOL_USDC_FEE, priceE8: DEVNET_SOL_PRICE_E8,
    amountBase: solSeed, amountQuote: usdSide * 10n ** 6n,
    fund: async () => {
      await send(deployer, 'USDC mint', { address: b.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [me, usdSide * 10n ** 6n] });
      await send(deployer, 'SOL mint', { address: sol, abi: devnetTokenAbi, functionName: 'mint', args: [me, solSeed] });
    },
  });

  // The demo holds SOL (anyone may mint the devnet token) and shorts its prior proxy hedge on ETH's perp, margined as its first short.
  const demoAddress = demo.walletClient.account.address;
  await send(demo, 'SOL mint', { address: sol, abi: devnetTokenAbi, functionName: 'mint', args: [demoAddress, DEMO_SOL_UNITS] });
  const solUsdE8 = (DEMO_SOL_UNITS * DEVNET_SOL_PRICE_E8) / 10n ** BigInt(SOL_DECIMALS);
  const shortWei = (solUsdE8 * PRIOR_PROXY_RATIO_PCT * 10n ** 18n) / (100n * b.ethPriceE8);
  const marginUnits = (((shortWei * b.ethPriceE8) / 10n ** 20n) * PORTFOLIO.perpMarginPct) / 100n;
  await send(deployer, 'portfolio USDC mint', { address: b.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [demoAddress, marginUnits] });
  await send(demo, 'approve', { address: b.usdc, abi: erc20Abi, functionName: 'approve', args: [b.perp, marginUnits] });
  await send(demo, 'perp deposit', { address: b.perp, abi: perpExchangeAbi, functionName: 'deposit', args: [b.perpMarketId, marginUnits] });
  await send(demo, 'perp short (SOL by proxy)', { address: b.perp, abi: perpExchangeAbi, functionName: 'trade', args: [b.perpMarketId, -shortWei, (b.ethPriceE8 * 99n) / 100n] });
  return { sol, solUsdFeed, pool: { address: pool, fee: DEVNET_SOL_USDC_FEE } };
}
