import { describe, expect, it } from 'vitest';
import { decodeFunctionResult, encodeFunctionData, erc20Abi, maxUint256, parseEther, type Address } from 'viem';
import { aaveOracleAbi, nonfungiblePositionManagerAbi, perpExchangeAbi, poolAbi, priceFeedAbi, uniswapV3PoolAbi } from '../../contracts-abi/index.js';
import { answerToE8, createPortfolioSnapshotReader } from '../../src/chain/portfolio-snapshot.js';
import { createSnapshotReader } from '../../src/chain/snapshot.js';
import { createClients } from '../../src/chain/clients.js';
import { MULTICALL3_CANONICAL } from '../../src/config.js';
import { AAVE_DEVNET_RISK } from '../../src/devnet/aave.js';
import { DEVNET_ETH_PRICE_E8 } from '../../src/devnet/deploy.js';
import { createAndSeedPool, mintLpPosition, poolTokens, swapExactInput, tickSpacingOf } from '../../src/devnet/uniswap.js';
import type { AaveReserveHolding, AaveVenueAccount, AssetId, LpHolding, PerpVenueAccount, PoolSpec, Portfolio, PortfolioSnapshot } from '../../src/portfolio/model.js';
import type { DevnetRole } from '../../src/devnet/accounts.js';
import { ticksAroundPrice } from '../../src/spot/uniswap-math.js';
import { createPerpVenue } from '../../src/venues/perp.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';

/**
 * The portfolio snapshot (every feed, wallet token, pool, LP and venue account in one
 * block-pinned multicall) against direct reads at the same block and against today's
 * single-asset reader (src/chain/snapshot.ts), to the unit.
 */
const devnet = useDevnet();
const E18 = 10n ** 18n;

function ethPortfolio(d: Devnet): Portfolio {
  const a = d.addresses;
  const { baseIsToken0 } = poolTokens(a.weth, a.usdc);
  const collateral = { triggerE18: E18 / 10n, targetE18: E18 / 4n, maxTopUpUnits: 10_000n * 10n ** 6n, maxTopUpPerDayUnits: 50_000n * 10n ** 6n };
  return {
    quote: { id: 'USDC', token: a.usdc, decimals: 6, feed: a.usdcUsdFeed },
    assets: [{ id: 'ETH', token: a.weth, decimals: 18, feed: a.ethUsdFeed, heartbeatSec: 3600, wrapsNative: true }],
    pools: [{ id: 'weth-usdc', address: a.uniswap.pool, token0: baseIsToken0 ? 'ETH' : 'USDC', token1: baseIsToken0 ? 'USDC' : 'ETH', fee: a.uniswap.fee }],
    venues: [
      { kind: 'perp', id: 'perp', exchange: a.perp, markets: { ETH: BigInt(a.perpMarketId) }, collateral },
      {
        kind: 'aave',
        id: 'aave',
        addressesProvider: a.aave.poolAddressesProvider,
        swapPools: { ETH: 'weth-usdc' },
        swapRouter: a.uniswap.swapRouter,
        quoter: a.uniswap.quoterV2,
        collateral: { ...collateral, triggerE18: (13n * E18) / 10n, targetE18: (16n * E18) / 10n },
      },
    ],
    instruments: [
      { id: 'perp-eth', venue: 'perp', asset: 'ETH', priority: 0, weight: 1, maxSizeUnits: null },
      { id: 'aave-eth', venue: 'aave', asset: 'ETH', priority: 1, weight: 1, maxSizeUnits: null },
    ],
    policy: {
      assets: {
        ETH: {
          hedgeRatioE18: E18,
          bandUnits: parseEther('0.5'),
          bandPctE18: E18 / 20n,
          hysteresisE18: E18 / 2n,
          minTradeUnits: parseEther('0.01'),
          maxTradeUnits: parseEther('100'),
          maxNotionalPerDayUsdE8: 10n ** 14n,
        },
      },
      cooldownSec: 60,
      maxSlippageBps: 50,
      includeNative: false,
    },
  };
}

/** A pool spec with its tokens in Uniswap's (address) order. */
function poolSpec(id: string, address: Address, fee: number, x: [string, Address], y: [string, Address]): PoolSpec {
  const [t0, t1] = x[1].toLowerCase() < y[1].toLowerCase() ? [x, y] : [y, x];
  return { id, address, fee, token0: t0[0], token1: t1[0] };
}

/** The multi-asset demo's portfolio: ETH and BTC, three pools, perp markets for both, Aave. */
function ethBtcPortfolio(d: Devnet): Portfolio {
  const a = d.addresses;
  const base = ethPortfolio(d);
  const eth: [string, Address] = ['ETH', a.weth];
  const btc: [string, Address] = ['BTC', a.wbtc];
  const usdc: [string, Address] = ['USDC', a.usdc];
  return {
    ...base,
    assets: [...base.assets, { id: 'BTC', token: a.wbtc, decimals: 8, feed: a.btcUsdFeed, heartbeatSec: 3600, wrapsNative: false }],
    pools: [
      poolSpec('weth-usdc', a.pools.wethUsdc.address, a.pools.wethUsdc.fee, eth, usdc),
      poolSpec('wbtc-usdc', a.pools.wbtcUsdc.address, a.pools.wbtcUsdc.fee, btc, usdc),
      poolSpec('weth-wbtc', a.pools.wethWbtc.address, a.pools.wethWbtc.fee, eth, btc),
    ],
    venues: base.venues.map((v) =>
      v.kind === 'perp' ? { ...v, markets: { ETH: BigInt(a.perpMarketId), BTC: BigInt(a.perpBtcMarketId) } } : { ...v, swapPools: { ETH: 'weth-usdc', BTC: 'wbtc-usdc' } },
    ),
    instruments: [...base.instruments, { id: 'aave-btc', venue: 'aave', asset: 'BTC', priority: 0, weight: 1, maxSizeUnits: null }],
    policy: { ...base.policy, assets: { ...base.policy.assets, BTC: { ...base.policy.assets.ETH!, bandUnits: 1_000_000n, minTradeUnits: 10_000n, maxTradeUnits: 10n ** 9n } } },
  };
}

/** A client that records the JSON-RPC method of every HTTP request it sends. */
function countingClient(d: Devnet): { publicClient: ReturnType<Devnet['as']>['publicClient']; methods: string[] } {
  const methods: string[] = [];
  const { publicClient } = createClients({
    rpcUrls: [d.rpcUrl],
    chainId: 31337,
    privateKey: d.key('deployer'),
    pollingIntervalMs: 20,
    transport: { onRequest: ({ method }) => methods.push(method) },
  });
  return { publicClient, methods };
}

function reader(d: Devnet, account: Address, portfolio = ethPortfolio(d), publicClient = d.as('deployer').publicClient) {
  return createPortfolioSnapshotReader({ publicClient, account, portfolio, multicall3: MULTICALL3_CANONICAL, positionManager: d.addresses.uniswap.positionManager });
}

/** WETH -> USDC -> WETH through the pool by the market maker: fees for every LP in range. */
async function churn(d: Devnet): Promise<void> {
  const mm = d.as('marketMaker');
  const { weth, usdc } = d.addresses;
  const sold = await swapExactInput(mm, d.addresses.uniswap.swapRouter, { tokenIn: weth, tokenOut: usdc, amountIn: parseEther('40') });
  await swapExactInput(mm, d.addresses.uniswap.swapRouter, { tokenIn: usdc, tokenOut: weth, amountIn: sold.amountOut });
}

/** The snapshot against today's single-asset reader of the same account at the same block. */
async function expectSameAsSingleAssetReader(d: Devnet, s: PortfolioSnapshot, pool = { id: 'weth-usdc', address: d.addresses.uniswap.pool }): Promise<void> {
  const a = d.addresses;
  const old = await createSnapshotReader({
    publicClient: d.as('deployer').publicClient,
    account: s.account,
    addresses: { oracleFeed: a.ethUsdFeed, usdcFeed: a.usdcUsdFeed, weth: a.weth, usdc: a.usdc, positionManager: a.uniswap.positionManager, pool: pool.address },
    venue: createPerpVenue({ exchange: a.perp, marketId: BigInt(a.perpMarketId), usdc: a.usdc }),
    multicall3: MULTICALL3_CANONICAL,
  }).read(s.blockNumber);
  expect(s.blockTimestampSec).toBe(old.blockTimestampSec);
  expect(s.prices.ETH).toEqual({ priceE8: old.oracle.priceE8, updatedAtSec: old.oracle.updatedAtSec, round: old.oracle.round });
  expect(s.quotePriceE8).toBe(old.oracle.quotePriceE8);
  expect(s.wallet.nativeWei).toBe(old.wallet.ethWei);
  expect({ ETH: s.wallet.balances.ETH, USDC: s.wallet.balances.USDC }).toEqual({ ETH: old.wallet.wethWei, USDC: old.wallet.usdcUnits });
  expect(s.pools[pool.id]).toEqual({ sqrtPriceX96: old.pool.sqrtPriceX96, tick: old.pool.tick, liquidity: old.pool.liquidity });
  const expected = old.lps.map((l) => ({
    pool: pool.id,
    tokenId: l.tokenId,
    liquidity: l.liquidity,
    tickLower: l.tickLower,
    tickUpper: l.tickUpper,
    inRange: l.inRange,
    amount0: l.baseIsToken0 ? l.amountBaseWei : l.amountQuoteUnits,
    amount1: l.baseIsToken0 ? l.amountQuoteUnits : l.amountBaseWei,
    fees0: l.baseIsToken0 ? l.feesBaseWei : l.feesQuoteUnits,
    fees1: l.baseIsToken0 ? l.feesQuoteUnits : l.feesBaseWei,
  }));
  expect(s.lps.filter((l) => l.pool === pool.id)).toEqual(expected);
}

async function balanceAt(d: Devnet, token: Address, owner: Address, blockNumber: bigint): Promise<bigint> {
  return d.as('deployer').publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner], blockNumber });
}

/** Each perp market of the snapshot is the exchange's getAccount at the snapshot's block. */
async function expectPerpIsGetAccount(d: Devnet, s: PortfolioSnapshot, markets: Record<AssetId, bigint>): Promise<PerpVenueAccount> {
  const pc = d.as('deployer').publicClient;
  const expected: Record<AssetId, PerpVenueAccount['markets'][AssetId]> = {};
  const shortCostAprE18: Record<AssetId, bigint> = {};
  for (const [asset, marketId] of Object.entries(markets)) {
    const v = await pc.readContract({ blockNumber: s.blockNumber, address: d.addresses.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [s.account, marketId] });
    const { sizeWei, entryPriceE8, marginUnits, accountValueUnits, marginRatioE18, maintenanceRatioE18, initialRatioE18, takerFeeBps } = v;
    expected[asset] = { marketId, sizeE18: sizeWei, entryPriceE8, marginUnits, accountValueUnits, marginRatioE18, maintenanceRatioE18, initialRatioE18, takerFeeBps };
    // The market's funding rate per second (positive: longs pay shorts), as a yearly cost of the short.
    const market = await pc.readContract({ blockNumber: s.blockNumber, address: d.addresses.perp, abi: perpExchangeAbi, functionName: 'getMarket', args: [marketId] });
    shortCostAprE18[asset] = -market[2] * 31_536_000n;
  }
  expect(s.venues.perp).toEqual({ kind: 'perp', venue: 'perp', markets: expected, shortCostAprE18 });
  return s.venues.perp as PerpVenueAccount;
}

/**
 * The Aave venue against the aToken / debt token balances, Aave's oracle and getUserAccountData at
 * the snapshot's block: every reserve of the market, declared by the portfolio or not (WBTC for
 * the one-asset portfolios). Collateral: the demos supply only USDC, which Aave enables on supply.
 */
async function expectAaveIsTheTokens(d: Devnet, s: PortfolioSnapshot): Promise<AaveVenueAccount> {
  const a = d.addresses;
  const pc = d.as('deployer').publicClient;
  const at = { blockNumber: s.blockNumber } as const;
  const bal = (t: Address | undefined) => balanceAt(d, t as Address, s.account, s.blockNumber);
  const reserves = [
    { token: a.usdc, decimals: 6, aToken: a.aave.aUsdc, debt: [a.aave.variableDebtUsdc, a.aave.stableDebtUsdc], risk: AAVE_DEVNET_RISK.usdc },
    { token: a.weth, decimals: 18, aToken: a.aave.aWeth, debt: [a.aave.variableDebtWeth, a.aave.stableDebtWeth], risk: AAVE_DEVNET_RISK.weth },
    { token: a.wbtc, decimals: 8, aToken: a.aave.aWbtc, debt: [a.aave.variableDebtWbtc, a.aave.stableDebtWbtc], risk: AAVE_DEVNET_RISK.wbtc },
  ];
  const expected: Record<string, AaveReserveHolding> = {};
  for (const r of reserves) {
    const suppliedUnits = await bal(r.aToken);
    expected[r.token.toLowerCase()] = {
      token: r.token,
      decimals: r.decimals,
      priceE8: await pc.readContract({ ...at, address: a.aave.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [r.token] }),
      suppliedUnits,
      debtUnits: (await bal(r.debt[0])) + (await bal(r.debt[1])),
      usedAsCollateral: r.token === a.usdc && suppliedUnits > 0n,
      liquidationThresholdBps: r.risk.liquidationThresholdBps,
      ltvBps: r.risk.ltvBps,
    };
  }
  const data = await pc.readContract({ ...at, address: a.aave.pool, abi: poolAbi, functionName: 'getUserAccountData', args: [s.account] });
  // Each borrowable asset's variable borrow rate (ray per year) as the short's yearly cost, E18.
  const { shortCostAprE18, ...account } = s.venues.aave as AaveVenueAccount;
  const assetToken: Record<string, Address> = { ETH: a.weth, BTC: a.wbtc };
  for (const [asset, apr] of Object.entries(shortCostAprE18 ?? {})) {
    const reserve = await pc.readContract({ ...at, address: a.aave.pool, abi: poolAbi, functionName: 'getReserveData', args: [assetToken[asset]!] });
    expect(apr, asset).toBe(reserve.currentVariableBorrowRate / 10n ** 9n);
  }
  expect(account).toEqual({
    kind: 'aave',
    venue: 'aave',
    reserves: expected,
    accountData: { totalCollateralBaseE8: data[0], totalDebtBaseE8: data[1], liquidationThresholdBps: data[3], ltvBps: data[4], healthFactorE18: data[5] },
  });
  return s.venues.aave as AaveVenueAccount;
}

const MAX_UINT128 = (1n << 128n) - 1n;

/** The LP against what its owner would get, at the snapshot's block: collect (fees), and decreaseLiquidity(all) + collect. */
async function expectLpIsWhatTheOwnerGets(d: Devnet, owner: DevnetRole, lp: LpHolding, blockNumber: bigint): Promise<void> {
  const { publicClient } = d.as(owner);
  const npm = { account: d.address(owner), address: d.addresses.uniswap.positionManager, abi: nonfungiblePositionManagerAbi, blockNumber } as const;
  const collect = [{ tokenId: lp.tokenId, recipient: d.address(owner), amount0Max: MAX_UINT128, amount1Max: MAX_UINT128 }] as const;
  const { result: fees } = await publicClient.simulateContract({ ...npm, functionName: 'collect', args: collect });
  const decrease = [{ tokenId: lp.tokenId, liquidity: lp.liquidity, amount0Min: 0n, amount1Min: 0n, deadline: maxUint256 }] as const;
  const calls = [
    encodeFunctionData({ abi: nonfungiblePositionManagerAbi, functionName: 'decreaseLiquidity', args: decrease }),
    encodeFunctionData({ abi: nonfungiblePositionManagerAbi, functionName: 'collect', args: collect }),
  ];
  const { result } = await publicClient.simulateContract({ ...npm, functionName: 'multicall', args: [calls] });
  const all = decodeFunctionResult({ abi: nonfungiblePositionManagerAbi, functionName: 'collect', data: result[1]! });
  expect({ fees0: lp.fees0, fees1: lp.fees1 }).toEqual({ fees0: fees[0], fees1: fees[1] });
  expect({ all0: lp.amount0 + lp.fees0, all1: lp.amount1 + lp.fees1 }).toEqual({ all0: all[0], all1: all[1] });
}

describe('portfolio snapshot: one block-pinned read of the whole portfolio', () => {
  it('perp demo: the market account is getAccount, wallet is balanceOf, LPs (fees included) are the single-asset reader to the wei', async () => {
    const d = devnet();
    const a = d.addresses;
    const account = a.demo.perp.account;
    await churn(d);
    const s = await reader(d, account).read();
    const pc = d.as('deployer').publicClient;

    expect(s.chainId).toBe(31337);
    expect(s.blockNumber).toBe(await pc.getBlockNumber({ cacheTime: 0 }));
    const perp = await expectPerpIsGetAccount(d, s, { ETH: BigInt(a.perpMarketId) });
    expect(perp.markets.ETH?.sizeE18).toBeLessThan(0n); // the demo's short
    expect(s.wallet.balances).toEqual({ ETH: await balanceAt(d, a.weth, account, s.blockNumber), USDC: await balanceAt(d, a.usdc, account, s.blockNumber) });
    expect(s.wallet.nativeWei).toBe(await pc.getBalance({ address: account, blockNumber: s.blockNumber }));
    expect(s.prices.ETH?.priceE8).toBe(DEVNET_ETH_PRICE_E8);

    expect(s.lps).toHaveLength(1);
    const lp = s.lps[0]!;
    expect(lp.tokenId).toBe(BigInt(a.demo.perp.lpTokenId));
    expect(lp.inRange).toBe(true);
    expect(lp.fees0).toBeGreaterThan(0n);
    expect(lp.fees1).toBeGreaterThan(0n);
    await expectSameAsSingleAssetReader(d, s);
    await expectLpIsWhatTheOwnerGets(d, 'perpDemo', lp, s.blockNumber);

    // No Aave position: every reserve is listed all the same (WBTC, undeclared, too), empty.
    const aave = await expectAaveIsTheTokens(d, s);
    expect(Object.keys(aave.reserves)).toHaveLength(3);
    expect(aave.accountData.totalDebtBaseE8).toBe(0n);

    // Without Multicall3 (viem's deployless multicall, native balance and block time read apart): the same snapshot.
    const deployless = createPortfolioSnapshotReader({ publicClient: pc, account, portfolio: ethPortfolio(d), positionManager: a.uniswap.positionManager });
    expect(await deployless.read(s.blockNumber)).toEqual(s);
  });

  it('aave demo: reserves are the aToken / debt token balances, accountData is getUserAccountData, at the same block', async () => {
    const d = devnet();
    const a = d.addresses;
    // An hour and a block later the debt has accrued: the reads must still agree to the unit.
    await d.test.increaseTime({ seconds: 3600 });
    await d.test.mine({ blocks: 1 });
    const s = await reader(d, a.demo.aave.account).read();
    const aave = await expectAaveIsTheTokens(d, s);
    const usdc = aave.reserves[a.usdc.toLowerCase()]!;
    const weth = aave.reserves[a.weth.toLowerCase()]!;
    expect(usdc.usedAsCollateral).toBe(true);
    expect(weth.debtUnits).toBeGreaterThan(0n);
    expect(aave.reserves[a.wbtc.toLowerCase()]?.debtUnits).toBe(0n);
    // Aave's own valuation of the collateral, floored as GenericLogic does.
    expect((usdc.suppliedUnits * usdc.priceE8) / 10n ** 6n).toBe(aave.accountData.totalCollateralBaseE8);
    await expectSameAsSingleAssetReader(d, s);
  });

  it('a steady read is ONE eth_call; a new position costs more rounds once, and only configured pools count', async () => {
    const d = devnet();
    const a = d.addresses;
    const account = a.demo.perp.account;
    const { publicClient, methods } = countingClient(d);
    const r = reader(d, account, ethPortfolio(d), publicClient);
    await r.read(); // start: resolves Multicall3, Aave, the pools, the LP ids and ticks

    await churn(d);
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    methods.length = 0;
    const s1 = await r.read(head);
    expect(methods).toEqual(['eth_call']);
    await expectSameAsSingleAssetReader(d, s1);
    methods.length = 0;
    await r.read();
    expect(methods).toEqual(['eth_blockNumber', 'eth_call']);

    // The account gains a position in the configured pool and one in another fee tier (another pool).
    const owner = d.as('perpDemo');
    const { baseIsToken0 } = poolTokens(a.weth, a.usdc);
    const inPool = await mintLpPosition(owner, {
      positionManager: a.uniswap.positionManager,
      weth: a.weth,
      usdc: a.usdc,
      fee: a.uniswap.fee,
      ...ticksAroundPrice(DEVNET_ETH_PRICE_E8, 3, tickSpacingOf(a.uniswap.fee), baseIsToken0),
      amountWethWei: parseEther('1'),
      amountUsdcUnits: 2_000n * 10n ** 6n,
    });
    await createAndSeedPool(d.as('deployer'), { uniswap: a.uniswap, weth: a.weth, usdc: a.usdc, fee: 3000, priceE8: DEVNET_ETH_PRICE_E8, liquidityUsd: 100_000n });
    const otherTier = await mintLpPosition(owner, {
      positionManager: a.uniswap.positionManager,
      weth: a.weth,
      usdc: a.usdc,
      fee: 3000,
      ...ticksAroundPrice(DEVNET_ETH_PRICE_E8, 5, tickSpacingOf(3000), baseIsToken0),
      amountWethWei: parseEther('1'),
      amountUsdcUnits: 2_000n * 10n ** 6n,
    });
    await churn(d);
    methods.length = 0;
    const s2 = await r.read(await publicClient.getBlockNumber({ cacheTime: 0 }));
    // ids changed (2 more rounds) and the new position's ticks were not in the call (1 more).
    expect(methods.filter((m) => m === 'eth_call').length).toBe(4);
    expect(s2.lps.map((l) => l.tokenId)).toEqual([BigInt(a.demo.perp.lpTokenId), inPool.tokenId]);
    expect(s2.lps.map((l) => l.tokenId)).not.toContain(otherTier.tokenId);
    expect(s2.lps[1]?.fees0).toBeGreaterThan(0n);
    await expectSameAsSingleAssetReader(d, s2);

    methods.length = 0;
    const s3 = await r.read(s2.blockNumber);
    expect(methods).toEqual(['eth_call']);
    expect(s3).toEqual(s2);
  });

  it('two pools of one pair: each position is valued at its own pool, fees included, still one eth_call', async () => {
    const d = devnet();
    const a = d.addresses;
    const owner = d.as('perpDemo');
    const { baseIsToken0 } = poolTokens(a.weth, a.usdc);
    const { pool: pool30 } = await createAndSeedPool(d.as('deployer'), { uniswap: a.uniswap, weth: a.weth, usdc: a.usdc, fee: 3000, priceE8: DEVNET_ETH_PRICE_E8, liquidityUsd: 200_000n });
    const lp30 = await mintLpPosition(owner, {
      positionManager: a.uniswap.positionManager,
      weth: a.weth,
      usdc: a.usdc,
      fee: 3000,
      ...ticksAroundPrice(DEVNET_ETH_PRICE_E8, 5, tickSpacingOf(3000), baseIsToken0),
      amountWethWei: parseEther('2'),
      amountUsdcUnits: 4_000n * 10n ** 6n,
    });
    // Trade through the small pool so it sits at its own price, off the 0.05% pool's.
    await swapExactInput(d.as('marketMaker'), a.uniswap.swapRouter, { tokenIn: a.weth, tokenOut: a.usdc, fee: 3000, amountIn: parseEther('3') });
    await churn(d);
    const base = ethPortfolio(d);
    const two: Portfolio = { ...base, pools: [...base.pools, { ...base.pools[0]!, id: 'weth-usdc-30', address: pool30, fee: 3000 }] };
    const { publicClient, methods } = countingClient(d);
    const r = reader(d, a.demo.perp.account, two, publicClient);
    await r.read();
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    methods.length = 0;
    const s = await r.read(head);
    expect(methods).toEqual(['eth_call']);
    expect(s.lps.map((l) => [l.pool, l.tokenId])).toEqual([
      ['weth-usdc', BigInt(a.demo.perp.lpTokenId)],
      ['weth-usdc-30', lp30.tokenId],
    ]);
    expect(s.pools['weth-usdc-30']?.sqrtPriceX96).not.toBe(s.pools['weth-usdc']?.sqrtPriceX96);
    const fees30 = s.lps[1]!;
    expect(baseIsToken0 ? fees30.fees0 : fees30.fees1).toBeGreaterThan(0n); // the WETH sold into the 0.3% pool
    await expectSameAsSingleAssetReader(d, s);
    await expectSameAsSingleAssetReader(d, s, { id: 'weth-usdc-30', address: pool30 });
  });

  it('two assets (ETH, BTC), three pools, both venues: the same equalities, still one eth_call', async () => {
    const d = devnet();
    const a = d.addresses;
    const account = a.demo.portfolio.account;
    const mm = d.as('marketMaker');
    // Fees in both of the account's pools: round trips through WETH/USDC and WETH/WBTC.
    await churn(d);
    const got = await swapExactInput(mm, a.uniswap.swapRouter, { tokenIn: a.weth, tokenOut: a.wbtc, fee: a.pools.wethWbtc.fee, amountIn: parseEther('20') });
    await swapExactInput(mm, a.uniswap.swapRouter, { tokenIn: a.wbtc, tokenOut: a.weth, fee: a.pools.wethWbtc.fee, amountIn: got.amountOut });

    const { publicClient, methods } = countingClient(d);
    const r = reader(d, account, ethBtcPortfolio(d), publicClient);
    await r.read();
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    methods.length = 0;
    const s = await r.read(head);
    expect(methods).toEqual(['eth_call']);

    const pc = d.as('deployer').publicClient;
    const btcRound = await pc.readContract({ blockNumber: head, address: a.btcUsdFeed, abi: priceFeedAbi, functionName: 'latestRoundData' });
    expect(s.prices.BTC?.priceE8).toBe(btcRound[1]);
    expect(s.prices.BTC?.updatedAtSec).toBe(btcRound[3]);
    expect(s.wallet.balances).toEqual({
      ETH: await balanceAt(d, a.weth, account, head),
      BTC: await balanceAt(d, a.wbtc, account, head),
      USDC: await balanceAt(d, a.usdc, account, head),
    });
    expect(s.wallet.balances.BTC).toBeGreaterThan(0n);

    const perp = await expectPerpIsGetAccount(d, s, { ETH: BigInt(a.perpMarketId), BTC: BigInt(a.perpBtcMarketId) });
    expect(perp.markets.ETH?.sizeE18).toBeLessThan(0n);
    const aave = await expectAaveIsTheTokens(d, s);
    expect(aave.reserves[a.wbtc.toLowerCase()]?.debtUnits).toBeGreaterThan(0n);
    expect(aave.reserves[a.weth.toLowerCase()]?.debtUnits).toBeGreaterThan(0n);

    const [ethUsdcId, ethBtcId] = a.demo.portfolio.lpTokenIds.map(BigInt);
    expect(s.lps.map((l) => [l.pool, l.tokenId])).toEqual([
      ['weth-usdc', ethUsdcId],
      ['weth-wbtc', ethBtcId],
    ]);
    for (const lp of s.lps) {
      expect(lp.fees0 > 0n && lp.fees1 > 0n).toBe(true);
      await expectLpIsWhatTheOwnerGets(d, 'portfolioDemo', lp, head);
    }
    await expectSameAsSingleAssetReader(d, s);
    for (const p of ethBtcPortfolio(d).pools) {
      const [slot0, liquidity] = await Promise.all([
        pc.readContract({ blockNumber: head, address: p.address, abi: uniswapV3PoolAbi, functionName: 'slot0' }),
        pc.readContract({ blockNumber: head, address: p.address, abi: uniswapV3PoolAbi, functionName: 'liquidity' }),
      ]);
      expect(s.pools[p.id]).toEqual({ sqrtPriceX96: slot0[0], tick: slot0[1], liquidity });
    }
  });

  it('a failed read throws naming its feed or pool; a venue whose reads revert is left unread, named', async () => {
    const d = devnet();
    const a = d.addresses;
    const account = a.demo.perp.account;
    const base = ethPortfolio(d);
    const badFeed: Portfolio = { ...base, assets: base.assets.map((x) => ({ ...x, feed: a.usdc })) };
    await expect(reader(d, account, badFeed).read()).rejects.toThrow(`feed ETH: latestRoundData() at ${a.usdc} failed`);
    const badVenue: Portfolio = { ...base, venues: base.venues.map((v) => (v.kind === 'perp' ? { ...v, exchange: a.usdc } : v)) };
    // A venue whose reads revert is that venue's problem, not the snapshot's: left unread, named.
    const unread = await reader(d, account, badVenue).read();
    expect(unread.venues['perp']).toBeUndefined();
    expect(unread.venues['aave']).toBeDefined();
    expect(unread.unreadVenues?.['perp']).toMatch(/^getAccount\(0x[0-9a-fA-F]{40}, \d+\) at 0x[0-9a-fA-F]{40} reverted at block \d+/);
    const badPool: Portfolio = { ...base, pools: base.pools.map((p) => ({ ...p, fee: 3000 })) };
    await expect(reader(d, account, badPool).read()).rejects.toThrow(`pool weth-usdc at ${a.uniswap.pool} is`);
  });
});

describe('answerToE8: a feed answer in USD E8 whatever the feed decimals', () => {
  it.each([
    [200_012_345_678n, 8, 200_012_345_678n],
    [2_000_123_456_789_012_345_678n, 18, 200_012_345_678n], // floored beyond 8 decimals
    [1_999_999_999_999_999_999n, 18, 199_999_999n],
    [2_000_123n, 3, 200_012_300_000n],
    [0n, 8, 0n],
    [-5n, 8, 0n], // no price
  ])('%s at %i decimals -> %s', (answer, decimals, e8) => {
    expect(answerToE8(answer, decimals)).toBe(e8);
  });
});
