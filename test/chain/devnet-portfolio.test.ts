import { parsePortfolioYaml } from '../../src/portfolio/file.js';
import { LENDING_CALL_GAS } from '../../src/devnet/confirm.js';
import { describe, expect, it } from 'vitest';
import { erc20Abi, maxUint256, parseEther, parseUnits, type Address } from 'viem';
import { mockUsdcAbi, nonfungiblePositionManagerAbi, perpExchangeAbi, priceFeedAbi } from '../../contracts-abi/index.js';
import { aavePoolAbi } from '../../src/devnet/aave-artifacts.js';
import { refreshFeeds } from '../../src/devnet/deploy.js';
import { btcInEthE8, DEVNET_BTC_PRICE_E8, wbtcUsdcPair, wbtcWethPair } from '../../src/devnet/deploy-portfolio.js';
import { createMarketDriver } from '../../src/devnet/market-driver.js';
import { createCorrelatedGbmPaths, takePrices } from '../../src/devnet/price-path.js';
import { devnetPortfolioYaml } from '../../src/devnet/portfolio-file.js';
import { pairPriceE8, readPoolState, wethUsdcPair, type TokenPair } from '../../src/devnet/uniswap.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';

const E8 = 10n ** 8n;
const devnet = useDevnet();

/** Read from a deploy made before the devnet had BTC: hundreds of tests rely on these. */
const BEFORE_BTC = {
  usdc: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  weth: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  ethUsdFeed: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
  usdcUsdFeed: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
  perp: '0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9',
  perpMarketId: '1',
  pool: '0xFdC4D91a842F98589094519645F3d5Af21155c7a',
  positionManager: '0xB7f8BC63BbcaD18155201308C8f3540b07f84F5e',
  aavePool: '0xf0D7de80A1C242fA3C738b083C422d65c6c7ABF1',
  demo: {
    perp: { account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', lpTokenId: '2' },
    aave: { account: '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65', lpTokenId: '3' },
  },
} as const;

const GBM = {
  seed: 11,
  stepSec: 3_600,
  correlation: 0.8,
  eth: { startPriceE8: 2_000n * E8, volAnnual: 0.8, driftAnnual: 0 },
  btc: { startPriceE8: DEVNET_BTC_PRICE_E8, volAnnual: 0.6, driftAnnual: 0 },
};

function expectWithinBps(actual: bigint, expected: bigint, bps: bigint): void {
  const diff = actual > expected ? actual - expected : expected - actual;
  expect(diff * 10_000n, `${actual} vs ${expected}`).toBeLessThanOrEqual(bps * expected);
}

async function poolPrice(d: Devnet, pool: Address, pair: TokenPair): Promise<bigint> {
  return pairPriceE8(pair, (await readPoolState(d.as('liquidator').publicClient, pool)).sqrtPriceX96);
}

const balanceOf = (d: Devnet, token: Address, who: Address) =>
  d.as('liquidator').publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [who] });

/** What the LP would return if closed now (static decreaseLiquidity from its owner), by token. */
async function lpAmounts(d: Devnet, tokenId: bigint): Promise<Map<string, bigint>> {
  const { publicClient } = d.as('portfolioDemo');
  const npm = d.addresses.uniswap.positionManager;
  const pos = await publicClient.readContract({ address: npm, abi: nonfungiblePositionManagerAbi, functionName: 'positions', args: [tokenId] });
  const { result } = await publicClient.simulateContract({
    account: d.address('portfolioDemo'),
    address: npm,
    abi: nonfungiblePositionManagerAbi,
    functionName: 'decreaseLiquidity',
    args: [{ tokenId, liquidity: pos[7], amount0Min: 0n, amount1Min: 0n, deadline: maxUint256 }],
  });
  return new Map([
    [pos[2].toLowerCase(), result[0]],
    [pos[3].toLowerCase(), result[1]],
  ]);
}

function pearson(x: number[], y: number[]): number {
  const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
  const [mx, my] = [mean(x), mean(y)];
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

const logReturns = (prices: bigint[]) => prices.slice(1).map((p, i) => Math.log(Number(p) / Number(prices[i]!)));

describe('devnet multi-asset portfolio', () => {
  it('leaves every address the devnet had before BTC unchanged', () => {
    const a = devnet().addresses;
    expect({
      usdc: a.usdc,
      weth: a.weth,
      ethUsdFeed: a.ethUsdFeed,
      usdcUsdFeed: a.usdcUsdFeed,
      perp: a.perp,
      perpMarketId: a.perpMarketId,
      pool: a.uniswap.pool,
      positionManager: a.uniswap.positionManager,
      aavePool: a.aave.pool,
      demo: { perp: a.demo.perp, aave: a.demo.aave },
    }).toEqual(BEFORE_BTC);
    expect(a.pools.wethUsdc).toEqual({ address: BEFORE_BTC.pool, fee: 500 });
    expect(a.demo.portfolio.account).toBe('0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc'); // anvil account #5
    expect(a.accounts.portfolioDemo).toBe(a.demo.portfolio.account);
  });

  it('has an 8-decimal WBTC and a BTC/USD feed at 60,000, which refreshFeeds re-stamps', async () => {
    const d = devnet();
    const { publicClient } = d.as('liquidator');
    const a = d.addresses;
    expect(await publicClient.readContract({ address: a.wbtc, abi: erc20Abi, functionName: 'decimals' })).toBe(8);
    expect(await publicClient.readContract({ address: a.btcUsdFeed, abi: priceFeedAbi, functionName: 'decimals' })).toBe(8);
    expect(await publicClient.readContract({ address: a.btcUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' })).toBe(60_000n * E8);
    await d.test.increaseTime({ seconds: 5_000 });
    await d.test.mine({ blocks: 1 });
    await refreshFeeds(d.rpcUrl, a);
    const head = await publicClient.getBlock({ blockTag: 'latest' });
    expect(await publicClient.readContract({ address: a.btcUsdFeed, abi: priceFeedAbi, functionName: 'latestTimestamp' })).toBe(head.timestamp);
    expect(await publicClient.readContract({ address: a.btcUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' })).toBe(60_000n * E8);
  });

  it('trades BTC-USD on the perp exchange: a 0.5 BTC short opens and its margin ratio reads', async () => {
    const d = devnet();
    const a = d.addresses;
    const trader = d.as('liquidator');
    const marketId = BigInt(a.perpBtcMarketId);
    expect(marketId).toBe(2n);
    const market = await trader.publicClient.readContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'getMarket', args: [marketId] });
    expect(market[0]).toBe(a.btcUsdFeed);
    const margin = 9_000n * 10n ** 6n;
    const deployer = d.as('deployer');
    await deployer.publicClient.waitForTransactionReceipt({
      hash: await deployer.walletClient.writeContract({ address: a.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [d.address('liquidator'), margin] }),
    });
    for (const call of [
      { address: a.usdc, abi: erc20Abi, functionName: 'approve', args: [a.perp, margin] },
      { address: a.perp, abi: perpExchangeAbi, functionName: 'deposit', args: [marketId, margin] },
      { address: a.perp, abi: perpExchangeAbi, functionName: 'trade', args: [marketId, -parseEther('0.5'), 59_000n * E8] },
    ] as const) {
      const receipt = await trader.publicClient.waitForTransactionReceipt({ hash: await trader.walletClient.writeContract(call as never) });
      expect(receipt.status).toBe('success');
    }
    const acct = await trader.publicClient.readContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [d.address('liquidator'), marketId] });
    expect(acct.sizeWei).toBe(-parseEther('0.5'));
    expect(acct.entryPriceE8).toBe(60_000n * E8);
    // 9,000 USDC less the 5 bps fee on 30,000 notional, over that notional.
    expect(acct.marginUnits).toBe(8_985n * 10n ** 6n);
    expect(acct.marginRatioE18).toBe(parseUnits('0.2995', 18));
  });

  it('lists WBTC on Aave: the demo holds WETH and WBTC debts, HF 1.6, and can borrow more WBTC', async () => {
    const d = devnet();
    const a = d.addresses;
    const demo = d.as('portfolioDemo');
    const me = d.address('portfolioDemo');
    const account = () => demo.publicClient.readContract({ address: a.aave.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [me] });
    const before = await account();
    // 12 WETH at 2,000 + 0.7 WBTC at 60,000 = 66,000 USD (plus interest since the dump).
    expect(before[1]).toBeGreaterThanOrEqual(66_000n * E8);
    expect(before[1]).toBeLessThan(66_010n * E8);
    expect(before[5]).toBeLessThanOrEqual(parseUnits('1.6', 18));
    expect(before[5]).toBeGreaterThan(parseUnits('1.599', 18));

    const more = 1_000_000n; // 0.01 WBTC
    const hash = await demo.walletClient.writeContract({ address: a.aave.pool, abi: aavePoolAbi, functionName: 'borrow', args: [a.wbtc, more, 2n, 0, me], gas: LENDING_CALL_GAS });
    expect((await demo.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
    const [wethDebt, wbtcDebt] = await Promise.all([balanceOf(d, a.aave.variableDebtWeth, me), balanceOf(d, a.aave.variableDebtWbtc!, me)]);
    expect(wbtcDebt).toBeGreaterThanOrEqual(70_000_000n + more);
    expect(wbtcDebt).toBeLessThan(70_000_000n + more + 1_000n);
    expect(wethDebt).toBeGreaterThanOrEqual(parseEther('12'));
    const after = await account();
    // Both debts at the oracle prices, each rounded down by Aave.
    const expected = (wethDebt * 2_000n * E8) / 10n ** 18n + (wbtcDebt * 60_000n * E8) / E8;
    expect(after[1] - expected).toBeLessThanOrEqual(2n);
    expect(expected - after[1]).toBeLessThanOrEqual(2n);
  });

  it('seeds the WBTC/USDC and WETH/WBTC pools at the feed prices (and WETH/USDC stays near its feed)', async () => {
    const d = devnet();
    const a = d.addresses;
    expect(a.pools.wbtcUsdc.fee).toBe(3000);
    expect(a.pools.wethWbtc.fee).toBe(3000);
    expectWithinBps(await poolPrice(d, a.pools.wbtcUsdc.address, wbtcUsdcPair(a)), 60_000n * E8, 50n);
    expectWithinBps(await poolPrice(d, a.pools.wethWbtc.address, wbtcWethPair(a)), 30n * E8, 50n);
    expectWithinBps(await poolPrice(d, a.pools.wethUsdc.address, wethUsdcPair(a.weth, a.usdc)), 2_000n * E8, 50n);
    const state = await readPoolState(d.as('liquidator').publicClient, a.pools.wethWbtc.address);
    expect(state.fee).toBe(3000);
    expect([state.token0, state.token1].sort()).toEqual([a.weth, a.wbtc].sort());
  });

  it('gives portfolioDemo the recorded LPs and hedges, delta-neutral in ETH and BTC', async () => {
    const d = devnet();
    const a = d.addresses;
    const me = d.address('portfolioDemo');
    const { publicClient } = d.as('portfolioDemo');
    expect(a.demo.portfolio.lpTokenIds).toHaveLength(2);
    const [ethUsdcLp, btcEthLp] = a.demo.portfolio.lpTokenIds.map(BigInt) as [bigint, bigint];
    for (const id of [ethUsdcLp, btcEthLp]) {
      expect(await publicClient.readContract({ address: a.uniswap.positionManager, abi: nonfungiblePositionManagerAbi, functionName: 'ownerOf', args: [id] })).toBe(me);
    }
    const pos2 = await publicClient.readContract({ address: a.uniswap.positionManager, abi: nonfungiblePositionManagerAbi, functionName: 'positions', args: [btcEthLp] });
    expect(pos2[4]).toBe(3000);
    const lp1 = await lpAmounts(d, ethUsdcLp);
    const lp2 = await lpAmounts(d, btcEthLp);
    const key = (t: Address) => t.toLowerCase();

    const perp = await publicClient.readContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [me, BigInt(a.perpMarketId)] });
    // 18 ETH against the ETH spot, and 5.25 more: SOL's hedge by proxy at the prior's h* = 0.7 (100 SOL × $150 × 0.7 / $2,000).
    expect(perp.sizeWei).toBe(-parseEther('23.25'));
    // 30% of 36,000 notional, less the 5 bps fee.
    expect(perp.marginRatioE18).toBe(parseUnits('0.2995', 18));

    const [wallWeth, wallWbtc, debtWeth, debtWbtc] = await Promise.all([
      balanceOf(d, a.weth, me),
      balanceOf(d, a.wbtc, me),
      balanceOf(d, a.aave.variableDebtWeth, me),
      balanceOf(d, a.aave.variableDebtWbtc!, me),
    ]);
    expect(await balanceOf(d, a.usdc, me)).toBe(100_000n * 10n ** 6n);
    const ethNet = wallWeth + lp1.get(key(a.weth))! + lp2.get(key(a.weth))! - debtWeth + perp.sizeWei + parseEther('5.25');
    const btcNet = wallWbtc + lp2.get(key(a.wbtc))! - debtWbtc;
    // Zero at deploy; only a few wei of LP rounding and the debts' interest since then.
    expect(ethNet < 0n ? -ethNet : ethNet).toBeLessThan(parseEther('0.001'));
    expect(btcNet < 0n ? -btcNet : btcNet).toBeLessThan(1_000n);
    expect(debtWeth).toBeGreaterThanOrEqual(parseEther('12'));
    expect(lp1.get(key(a.weth))! > parseEther('9')).toBe(true);
    expect(lp2.get(key(a.wbtc))! > 40_000_000n).toBe(true);
  });

  it('writes the keeper.yaml of the portfolio with pool tokens in address order', () => {
    const a = devnet().addresses;
    const yaml = devnetPortfolioYaml(a);
    const lines = yaml.split('\n');
    expect(lines[0]).toBe(`positionManager: ${a.uniswap.positionManager}`);
    expect(lines[1]).toBe(`quote: { symbol: USDC, token: ${a.usdc}, decimals: 6, feed: ${a.usdcUsdFeed} }`);
    // The keeper's own loader reads it as written.
    expect(parsePortfolioYaml(yaml, 'keeper.yaml').assets.map((x) => [x.id, x.decimals])).toEqual([['ETH', 18], ['BTC', 8], ['SOL', 9]]);
    expect(lines).toContain(`  BTC: { token: ${a.wbtc}, decimals: 8, feed: ${a.btcUsdFeed}, heartbeat: 3600 }`);
    // USDC (0x5FbD...) sorts below WETH (0xe7f1...): USDC is the pool's token0.
    expect(lines).toContain(`  weth-usdc: { address: ${a.uniswap.pool}, token0: USDC, token1: ETH, fee: 500 }`);
    const btcFirst = a.wbtc.toLowerCase() < a.weth.toLowerCase();
    expect(lines).toContain(`  weth-wbtc: { address: ${a.pools.wethWbtc.address}, token0: ${btcFirst ? 'BTC' : 'ETH'}, token1: ${btcFirst ? 'ETH' : 'BTC'}, fee: 3000 }`);
    expect(lines).toContain(`  perp: { kind: perp, exchange: ${a.perp}, markets: { ETH: 1, BTC: 2 }, trigger: 0.15, target: 0.25, maxTopUp: 50000, maxTopUpPerDay: 200000 }`);
    expect(yaml).toContain(`addressesProvider: ${a.aave.poolAddressesProvider}, swapRouter: ${a.uniswap.swapRouter}, quoter: ${a.uniswap.quoterV2},`);
    expect(yaml.endsWith('\n')).toBe(true);
  });

  it('correlated ETH/BTC paths: correlation of 500 returns > 0.5, the same seed gives the same prices', () => {
    const { eth, btc } = createCorrelatedGbmPaths(GBM);
    // Pull them out of step on purpose: the pairs stay aligned.
    const ethPrices = [GBM.eth.startPriceE8, ...takePrices(eth, 500)];
    const btcPrices = [GBM.btc.startPriceE8, ...takePrices(btc, 500)];
    const corr = pearson(logReturns(ethPrices), logReturns(btcPrices));
    expect(corr).toBeGreaterThan(0.5);
    expect(corr).toBeLessThan(0.95);
    const again = createCorrelatedGbmPaths(GBM);
    expect(takePrices(again.btc, 500)).toEqual(btcPrices.slice(1));
    expect(takePrices(again.eth, 500)).toEqual(ethPrices.slice(1));
    const other = createCorrelatedGbmPaths({ ...GBM, seed: 12 });
    expect(takePrices(other.eth, 5)).not.toEqual(ethPrices.slice(1, 6));
    const independent = createCorrelatedGbmPaths({ ...GBM, correlation: 0 });
    const e0 = [GBM.eth.startPriceE8, ...takePrices(independent.eth, 500)];
    const b0 = [GBM.btc.startPriceE8, ...takePrices(independent.btc, 500)];
    expect(Math.abs(pearson(logReturns(e0), logReturns(b0)))).toBeLessThan(0.2);
  });

  it('the market driver moves BTC with ETH: both feeds, and all three pools arbitraged to them', async () => {
    const d = devnet();
    const a = d.addresses;
    const { eth, btc } = createCorrelatedGbmPaths({ ...GBM, stepSec: 86_400 }); // daily steps: visible moves
    const expected = createCorrelatedGbmPaths({ ...GBM, stepSec: 86_400 });
    const driver = createMarketDriver({ rpcUrl: d.rpcUrl, addresses: a, path: eth, btcPath: btc, arbitrage: true });
    const { publicClient } = d.as('liquidator');
    for (let i = 0; i < 3; i++) {
      const r = await driver.step();
      const [ethE8, btcE8] = [takePrices(expected.eth, 1)[0]!, takePrices(expected.btc, 1)[0]!];
      expect(r).toMatchObject({ priceE8: ethE8, btcPriceE8: btcE8, arbitrage: 'at-target', btcArbitrage: 'at-target' });
      expect(await publicClient.readContract({ address: a.btcUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' })).toBe(btcE8);
      expect(await publicClient.readContract({ address: a.ethUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' })).toBe(ethE8);
      expectWithinBps(await poolPrice(d, a.pools.wbtcUsdc.address, wbtcUsdcPair(a)), btcE8, 5n);
      expectWithinBps(await poolPrice(d, a.pools.wethWbtc.address, wbtcWethPair(a)), btcInEthE8(btcE8, ethE8), 5n);
      expectWithinBps(await poolPrice(d, a.pools.wethUsdc.address, wethUsdcPair(a.weth, a.usdc)), ethE8, 5n);
    }
  });
});
