import { describe, expect, it } from 'vitest';
import { decodeFunctionResult, encodeFunctionData, erc20Abi, maxUint256, type Address } from 'viem';
import { nonfungiblePositionManagerAbi, perpExchangeAbi } from '../../contracts-abi/index.js';
import { createClients } from '../../src/chain/clients.js';
import { createPortfolioSnapshotReader } from '../../src/chain/portfolio-snapshot.js';
import { MULTICALL3_CANONICAL } from '../../src/config.js';
import { mintPairLp, pairOrder, tickSpacingOf } from '../../src/devnet/uniswap.js';
import type { PerpVenueAccount } from '../../src/portfolio/model.js';
import { ticksAroundPrice } from '../../src/spot/uniswap-math.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { portfolioKeeperOn } from '../helpers/portfolio-keeper.js';
import { listToken, mintToken, mintUsdc, poolYamlLine, send, setListedPrice, yamlAfter as after, type Listing } from '../helpers/third-asset.js';

/**
 * Issue 11 acceptance: another asset needs configuration only. Acting as the devnet's admin and
 * users (never touching keeper code), the test lists LINK (18 decimals) the way a new asset comes
 * to exist on a chain: a token, a USD feed, a LINK/USDC pool, a LINK-USD perp market; the demo
 * account LPs in the pool and parks margin in the market. Then keeper.yaml gains LINK (asset, pool,
 * market, instrument, policy) by string edits, and the stock portfolio keeper hedges it.
 */

const E8 = 10n ** 8n;
const E18 = 10n ** 18n;
const USDC = 10n ** 6n;
const LINK_USD = 15n * E8;
const LINK_FEE = 3000;
const LINK_MARKET_MAX_AGE_SEC = 3_600n;
/** Deployer's full-range seed, per side (deep: the demo's LP and the hedges move it little). */
const SEED_USD = 5_000_000n;
/** The demo account's LINK: minted to the wallet, most of it then put in a ±10% LP with USDC. */
const DEMO = { walletLink: 1_200n * E18, lpLink: 1_000n * E18, lpUsdc: 15_000n * USDC, lpWidthPct: 10, perpMargin: 10_000n * USDC } as const;
/** The LINK policy line: band max(5 LINK, 5% of spot), trade back to half of it. */
const LINK_POLICY = { bandUnits: 5n * E18, bandPctE18: 5n * 10n ** 16n, hysteresisE18: 5n * 10n ** 17n } as const;
const MAX_UINT128 = (1n << 128n) - 1n;

interface LinkListing extends Listing {
  marketId: bigint;
  lpTokenId: bigint;
}

/**
 * What the chain's admin and users do to bring LINK to the devnet, as deploy-portfolio.ts did for
 * WBTC: the deployer owns the feed and the exchange; the demo account holds LINK and margin.
 */
async function listLink(d: Devnet): Promise<LinkListing> {
  const deployer = d.as('deployer');
  const demo = d.as('portfolioDemo');
  const a = d.addresses;
  const listed = await listToken(d, { symbol: 'LINK', name: 'ChainLink Token', decimals: 18, priceE8: LINK_USD, fee: LINK_FEE, seedUsd: SEED_USD });
  const { token, feed, pair } = listed;
  const count = await deployer.publicClient.readContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'marketCount' });
  await send(deployer, 'add LINK-USD market', { address: a.perp, abi: perpExchangeAbi, functionName: 'addMarket', args: [feed, LINK_MARKET_MAX_AGE_SEC] });
  const marketId = count + 1n;

  await mintToken(demo, listed, DEMO.walletLink);
  await mintUsdc(d, d.address('portfolioDemo'), DEMO.lpUsdc + DEMO.perpMargin);
  const range = ticksAroundPrice(LINK_USD, DEMO.lpWidthPct, tickSpacingOf(LINK_FEE), pairOrder(pair).baseIsToken0, 18, 6);
  const lp = await mintPairLp(demo, { positionManager: a.uniswap.positionManager, pair, fee: LINK_FEE, ...range, amountBase: DEMO.lpLink, amountQuote: DEMO.lpUsdc });
  // A hedge increase is sized to keep the venue's target ratio, so an empty market takes none: margin first.
  await send(demo, 'approve', { address: a.usdc, abi: erc20Abi, functionName: 'approve', args: [a.perp, DEMO.perpMargin] });
  await send(demo, 'perp deposit LINK', { address: a.perp, abi: perpExchangeAbi, functionName: 'deposit', args: [marketId, DEMO.perpMargin] });
  return { ...listed, marketId, lpTokenId: lp.tokenId };
}

/** The whole change a user makes: keeper.yaml only. */
function withLink(l: LinkListing, d: Devnet): (yaml: string) => string {
  return (y) => {
    let out = after(y, /^  BTC: \{ token.*$/m, `  LINK: { token: ${l.token}, decimals: 18, feed: ${l.feed}, heartbeat: 3600 }`);
    out = after(out, /^  weth-wbtc: .*$/m, poolYamlLine('link-usdc', l));
    const markets = `markets: { ETH: ${d.addresses.perpMarketId}, BTC: ${d.addresses.perpBtcMarketId} }`;
    if (!out.includes(markets)) throw new Error('yaml edit: perp markets line not found');
    out = out.replace(markets, `markets: { ETH: ${d.addresses.perpMarketId}, BTC: ${d.addresses.perpBtcMarketId}, LINK: ${l.marketId} }`);
    out = after(out, /^  - \{ venue: aave, asset: BTC.*$/m, '  - { venue: perp, asset: LINK, priority: 1, weight: 1 }');
    return after(out, /^    BTC: \{ hedgeRatio.*$/m, '    LINK: { hedgeRatio: 1, band: 5, bandPct: 0.05, hysteresis: 0.5, minTrade: 0.1, maxTrade: 5000, maxNotionalPerDayUsd: 10000000 }');
  };
}

/**
 * LINK the demo account holds at `blockNumber`, read without the keeper: wallet balanceOf plus what
 * its owner would get from the LP (decreaseLiquidity(all) + collect: principal and fees).
 */
async function linkSpotAt(d: Devnet, l: LinkListing, blockNumber: bigint): Promise<bigint> {
  const { publicClient } = d.as('portfolioDemo');
  const me = d.address('portfolioDemo');
  const npm = { account: me, address: d.addresses.uniswap.positionManager, abi: nonfungiblePositionManagerAbi, blockNumber } as const;
  const position = await publicClient.readContract({ ...npm, functionName: 'positions', args: [l.lpTokenId] });
  const decrease = [{ tokenId: l.lpTokenId, liquidity: position[7], amount0Min: 0n, amount1Min: 0n, deadline: maxUint256 }] as const;
  const collect = [{ tokenId: l.lpTokenId, recipient: me, amount0Max: MAX_UINT128, amount1Max: MAX_UINT128 }] as const;
  const calls = [
    encodeFunctionData({ abi: nonfungiblePositionManagerAbi, functionName: 'decreaseLiquidity', args: decrease }),
    encodeFunctionData({ abi: nonfungiblePositionManagerAbi, functionName: 'collect', args: collect }),
  ];
  const { result } = await publicClient.simulateContract({ ...npm, functionName: 'multicall', args: [calls] });
  const [all0, all1] = decodeFunctionResult({ abi: nonfungiblePositionManagerAbi, functionName: 'collect', data: result[1]! });
  const wallet = await publicClient.readContract({ address: l.token, abi: erc20Abi, functionName: 'balanceOf', args: [me], blockNumber });
  return wallet + (pairOrder(l.pair).baseIsToken0 ? all0 : all1);
}

/** The LINK hedge the policy leaves after a breach: -(spot - band × (1 - hysteresis)), band = max(abs, pct × spot). */
function hedgeAfterBreach(spot: bigint): bigint {
  const pctBand = (spot * LINK_POLICY.bandPctE18) / E18;
  const band = pctBand > LINK_POLICY.bandUnits ? pctBand : LINK_POLICY.bandUnits;
  return -(spot - (band * (E18 - LINK_POLICY.hysteresisE18)) / E18);
}

/** Everything the keeper could have touched, read from the contracts. */
async function chainState(d: Devnet, l: LinkListing) {
  const c = d.as('portfolioDemo').publicClient;
  const me = d.address('portfolioDemo');
  const a = d.addresses;
  const perp = (m: bigint | string) => c.readContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [me, BigInt(m)] });
  const bal = (token: Address) => c.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [me] });
  const [eth, btc, link] = await Promise.all([perp(a.perpMarketId), perp(a.perpBtcMarketId), perp(l.marketId)]);
  return {
    perpEth: { size: eth.sizeWei, margin: eth.marginUnits },
    perpBtc: { size: btc.sizeWei, margin: btc.marginUnits },
    perpLink: link,
    aaveWethDebt: await bal(a.aave.variableDebtWeth),
    aaveWbtcDebt: await bal(a.aave.variableDebtWbtc as Address),
    aaveCollateralUsdc: await bal(a.aave.aUsdc),
  };
}

/** ETH and BTC hedges as before: perp exactly, Aave debt up to the interest accrued meanwhile. */
function expectEthBtcUntouched(before: Awaited<ReturnType<typeof chainState>>, after: Awaited<ReturnType<typeof chainState>>): void {
  expect(after.perpEth).toEqual(before.perpEth);
  expect(after.perpBtc).toEqual(before.perpBtc);
  expect(after.aaveWethDebt - before.aaveWethDebt).toBeGreaterThanOrEqual(0n);
  expect(after.aaveWethDebt - before.aaveWethDebt).toBeLessThan(10n ** 12n);
  expect(after.aaveWbtcDebt - before.aaveWbtcDebt).toBeGreaterThanOrEqual(0n);
  expect(after.aaveWbtcDebt - before.aaveWbtcDebt).toBeLessThanOrEqual(10n);
  expect(after.aaveCollateralUsdc).toBeGreaterThanOrEqual(before.aaveCollateralUsdc);
}

describe('another asset (LINK, 18 decimals) added to the devnet portfolio by configuration only', () => {
  const devnet = useDevnet();

  it('the stock keeper hedges LINK on its perp market, leaves ETH and BTC alone, and re-hedges a LINK move', async () => {
    const d = devnet();
    const link = await listLink(d);
    const { keeper, portfolio } = await portfolioKeeperOn(d, { yaml: withLink(link, d) });
    expect(portfolio.assets.map((x) => [x.id, x.decimals])).toEqual([['ETH', 18], ['BTC', 8], ['LINK', 18], ['SOL', 9]]);
    const before = await chainState(d, link);
    expect(before.perpLink.sizeWei).toBe(0n);

    // First tick: LINK is all spot, no hedge; ETH and BTC are as the demo opened them.
    const r = await keeper.tickOnce();
    expect(r.doubts).toEqual({ portfolio: null, assets: {}, venues: {} });
    expect(r.assessment.assets.map((x) => [x.asset, x.inBand])).toEqual([['ETH', true], ['BTC', true], ['LINK', false], ['SOL', true]]);
    expect(r.plan.actions.map((x) => [x.kind, x.kind === 'adjustHedge' ? x.instrument : ''])).toEqual([['adjustHedge', 'perp:LINK']]);
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    const spot1 = await linkSpotAt(d, link, r.snapshot.blockNumber);
    expect(spot1).toBeGreaterThan(1_100n * E18); // wallet + LP, well over any band
    expect(r.assessment.assets.find((x) => x.asset === 'LINK')?.spotUnits).toBe(spot1);
    const after1 = await chainState(d, link);
    // 18 decimals: the exchange's size units are LINK units; the short leaves band × (1 - hysteresis) unhedged.
    expect(after1.perpLink.sizeWei).toBe(hedgeAfterBreach(spot1));
    expect(after1.perpLink.entryPriceE8).toBe(LINK_USD);
    expect(after1.perpLink.marginRatioE18).toBeGreaterThanOrEqual(25n * 10n ** 16n); // sized to keep the venue's target
    expectEthBtcUntouched(before, after1);

    const quiet = await keeper.tickOnce();
    expect(quiet.assessment.assets.map((x) => [x.asset, x.inBand])).toEqual([['ETH', true], ['BTC', true], ['LINK', true], ['SOL', true]]);
    expect(quiet.plan.actions).toEqual([]);

    // LINK -8%: the LP buys LINK on the way down (and earns fees in it); the short must grow.
    const moved = (LINK_USD * 92n) / 100n;
    await setListedPrice(d, link, moved);
    const r2 = await keeper.tickOnce();
    expect(r2.snapshot.prices['LINK']?.priceE8).toBe(moved);
    expect(r2.doubts).toEqual({ portfolio: null, assets: {}, venues: {} });
    expect(r2.assessment.assets.map((x) => [x.asset, x.inBand])).toEqual([['ETH', true], ['BTC', true], ['LINK', false], ['SOL', true]]);
    expect(r2.plan.actions.map((x) => (x.kind === 'adjustHedge' ? x.instrument : x.kind))).toEqual(['perp:LINK']);
    expect(r2.results.map((x) => x.outcome)).toEqual(['done']);
    const spot2 = await linkSpotAt(d, link, r2.snapshot.blockNumber);
    expect(spot2).toBeGreaterThan(spot1);
    const lp = r2.snapshot.lps.find((x) => x.pool === 'link-usdc')!;
    expect(lp.tokenId).toBe(link.lpTokenId);
    expect(pairOrder(link.pair).baseIsToken0 ? lp.fees0 : lp.fees1).toBeGreaterThan(0n);
    const after2 = await chainState(d, link);
    expect(after2.perpLink.sizeWei).toBe(hedgeAfterBreach(spot2));
    expect(after2.perpLink.sizeWei - after1.perpLink.sizeWei).toBe(r2.plan.actions[0]?.kind === 'adjustHedge' ? r2.plan.actions[0].sizeDeltaUnits : 0n);
    expectEthBtcUntouched(before, after2);

    const settled = await keeper.tickOnce();
    expect(settled.assessment.assets.map((x) => [x.asset, x.inBand])).toEqual([['ETH', true], ['BTC', true], ['LINK', true], ['SOL', true]]);
    expect(settled.plan.actions).toEqual([]);
    keeper.close();
  });

  it('the snapshot carries four assets (the devnet SOL too), the LINK pool, LP and market, and a steady read is still ONE eth_call', async () => {
    const d = devnet();
    const link = await listLink(d);
    const { keeper, portfolio } = await portfolioKeeperOn(d, { yaml: withLink(link, d) });
    const r = await keeper.tickOnce();
    const s = r.snapshot;
    expect(Object.keys(s.prices)).toEqual(['ETH', 'BTC', 'LINK', 'SOL']);
    expect(s.prices['LINK']?.priceE8).toBe(LINK_USD);
    expect(Object.keys(s.wallet.balances).sort()).toEqual(['BTC', 'ETH', 'LINK', 'SOL', 'USDC']);
    expect(Object.keys(s.pools)).toEqual(['weth-usdc', 'wbtc-usdc', 'weth-wbtc', 'link-usdc', 'sol-usdc']);
    expect(s.lps.map((x) => x.pool).sort()).toEqual(['link-usdc', 'weth-usdc', 'weth-wbtc']);
    const perp = s.venues['perp'] as PerpVenueAccount;
    expect(Object.keys(perp.markets)).toEqual(['ETH', 'BTC', 'LINK']);
    expect(perp.markets['LINK']?.marketId).toBe(link.marketId);
    expect(perp.markets['LINK']?.marginUnits).toBe(DEMO.perpMargin);

    // The keeper's own portfolio through the keeper's reader, on a client that counts requests.
    const methods: string[] = [];
    const { publicClient } = createClients({
      rpcUrls: [d.rpcUrl], chainId: 31337, privateKey: d.key('portfolioDemo'), pollingIntervalMs: 20,
      transport: { onRequest: ({ method }) => methods.push(method) },
    });
    const reader = createPortfolioSnapshotReader({
      publicClient, account: d.address('portfolioDemo'), portfolio, multicall3: MULTICALL3_CANONICAL, positionManager: d.addresses.uniswap.positionManager,
    });
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    await reader.read(head); // first read: resolves Multicall3, Aave's reserves, the LP ids and ticks
    methods.length = 0;
    const steady = await reader.read(head);
    expect(methods).toEqual(['eth_call']);
    expect(steady).toEqual(await keeper.reader.read(head));
    keeper.close();
  });
});
