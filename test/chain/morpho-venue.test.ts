import { describe, expect, it } from 'vitest';
import { LENDING_CALL_GAS } from '../../src/devnet/confirm.js';
import { erc20Abi, parseEventLogs, type Address, type TransactionReceipt } from 'viem';
import { mockUsdcAbi, morphoAbi, morphoFeedOracleAbi, priceFeedAbi, weth9Abi } from '../../contracts-abi/index.js';
import { createPortfolioSnapshotReader } from '../../src/chain/portfolio-snapshot.js';
import { MULTICALL3_CANONICAL } from '../../src/config.js';
import { checkTxBounds } from '../../src/core/guard-tx.js';
import { isAllowedCall } from '../../src/core/guard.js';
import type { DevnetRole } from '../../src/devnet/accounts.js';
import { confirm } from '../../src/devnet/confirm.js';
import { morphoParamsArg } from '../../src/devnet/deploy-morpho.js';
import type { MorphoVenueAccount, MorphoVenueSpec, Portfolio, PortfolioAction } from '../../src/portfolio/model.js';
import { morphoCollateralModel } from '../../src/venues/morpho-collateral.js';
import { buildPortfolioAction, createPortfolioVenues, portfolioTxBoundsContext, type PortfolioVenue } from '../../src/venues/portfolio-venues.js';
import type { TxRequest } from '../../src/venues/types.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';

/**
 * Morpho Blue (real bytecode from @morpho-org/morpho-blue) as a lending-short venue on the devnet:
 * every action is built by the venue, checked by the transaction guard and the allow-list, sent,
 * and its effect read back from Morpho's own `position` / `market` and its events. The health
 * figure is checked against the contract's decision (a static `liquidate`) at several prices.
 */

const E8 = 10n ** 8n;
const WAD = 10n ** 18n;
const U = 10n ** 6n;
const ROLE: DevnetRole = 'liquidator';
const SLIPPAGE_BPS = 100;

function morphoPortfolio(d: Devnet): Portfolio {
  const a = d.addresses;
  const [token0, token1] = a.weth.toLowerCase() < a.usdc.toLowerCase() ? ['ETH', 'USDC'] : ['USDC', 'ETH'];
  const morpho: MorphoVenueSpec = {
    kind: 'morpho',
    id: 'morpho',
    morpho: a.morpho.address,
    marketId: a.morpho.marketId,
    loanAsset: 'ETH',
    swapPool: 'weth-usdc',
    swapRouter: a.uniswap.swapRouter,
    quoter: a.uniswap.quoterV2,
    collateral: { triggerE18: 13n * 10n ** 17n, targetE18: 16n * 10n ** 17n, maxTopUpUnits: 50_000n * U, maxTopUpPerDayUnits: 200_000n * U },
  };
  return {
    quote: { id: 'USDC', token: a.usdc, decimals: 6, feed: a.usdcUsdFeed },
    assets: [{ id: 'ETH', token: a.weth, decimals: 18, feed: a.ethUsdFeed, heartbeatSec: 3600, wrapsNative: true }],
    pools: [{ id: 'weth-usdc', address: a.uniswap.pool, token0, token1, fee: a.uniswap.fee }],
    venues: [morpho],
    instruments: [],
    policy: { assets: {}, cooldownSec: 0, maxSlippageBps: SLIPPAGE_BPS, includeNative: false },
  };
}

describe('Morpho Blue venue on the devnet', () => {
  const devnet = useDevnet();

  async function setup() {
    const d = devnet();
    const me = d.as(ROLE);
    const account = me.walletClient.account.address;
    const portfolio = morphoPortfolio(d);
    const venues: Readonly<Record<string, PortfolioVenue>> = await createPortfolioVenues({ portfolio, publicClient: me.publicClient });
    const reader = createPortfolioSnapshotReader({ publicClient: me.publicClient, account, portfolio, multicall3: MULTICALL3_CANONICAL, positionManager: d.addresses.uniswap.positionManager });
    const deployer = d.as('deployer');
    await confirm(deployer, deployer.walletClient.writeContract({ address: d.addresses.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [account, 100_000n * U] }), 'mint USDC');
    const m = { address: d.addresses.morpho.address, abi: morphoAbi } as const;
    const params = morphoParamsArg(d.addresses.morpho.marketParams);
    const id = d.addresses.morpho.marketId;
    const c = me.publicClient;
    const position = async (blockNumber?: bigint) => {
      const [supplyShares, borrowShares, collateral] = await c.readContract({ ...m, functionName: 'position', args: [id, account], blockNumber });
      return { supplyShares, borrowShares, collateral };
    };
    const market = async (blockNumber?: bigint) => {
      const [totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee] = await c.readContract({ ...m, functionName: 'market', args: [id], blockNumber });
      return { totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee };
    };
    const balance = (token: Address) => c.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [account] });

    /** Plan on a fresh snapshot, build, guard, allow-list, send; the receipts in order. */
    async function act(action: PortfolioAction): Promise<{ txs: TxRequest[]; receipts: TransactionReceipt[] }> {
      const snapshot = await reader.read();
      const ctx = { account, publicClient: c, snapshot, portfolio, maxSlippageBps: SLIPPAGE_BPS, blockNumber: snapshot.blockNumber };
      const built = await buildPortfolioAction(action, venues, ctx);
      if (built.status !== 'ready') throw new Error(`refused at ${built.label}: ${built.reason}`);
      const bounds = portfolioTxBoundsContext(portfolio, snapshot, SLIPPAGE_BPS);
      const allow = venues['morpho']!.allowList();
      for (const tx of built.txs) {
        expect(checkTxBounds(tx, bounds), tx.label).toEqual({ ok: true });
        expect(isAllowedCall(tx.address, tx.functionName, allow), tx.label).toBe(true);
      }
      const receipts: TransactionReceipt[] = [];
      for (const tx of built.txs) {
        receipts.push(await confirm(me, me.walletClient.writeContract({ address: tx.address, abi: tx.abi, functionName: tx.functionName, args: tx.args, gas: LENDING_CALL_GAS } as never), tx.label));
      }
      return { txs: built.txs, receipts };
    }
    const events = (receipts: TransactionReceipt[], eventName: 'Borrow' | 'Repay' | 'SupplyCollateral') =>
      parseEventLogs({ abi: morphoAbi, logs: receipts.flatMap((r) => r.logs), eventName }) as unknown as { args: { assets: bigint; shares?: bigint } }[];
    return { d, me, account, reader, act, events, position, market, balance, params, m, c };
  }
  type Setup = Awaited<ReturnType<typeof setup>>;

  const hedge = (units: bigint): PortfolioAction => ({ kind: 'adjustHedge', venue: 'morpho', instrument: 'morpho:ETH', asset: 'ETH', sizeDeltaUnits: units, reason: 'test' });
  const topUp = (units: bigint): PortfolioAction => ({ kind: 'topUp', venue: 'morpho', asset: null, amountUnits: units, reason: 'test' });

  /** 5,000 USDC of collateral and a 2 WETH borrow sold for USDC: health 5000 × 0.86 / 4000 = 1.075 at 2,000. */
  async function openPosition(s: Setup): Promise<void> {
    await s.act(topUp(5_000n * U));
    await s.act(hedge(-2n * WAD));
  }

  it('top-up: approve + supplyCollateral; the position\'s collateral is exactly the amount', async () => {
    const s = await setup();
    const wallet = await s.balance(s.d.addresses.usdc);
    const { txs } = await s.act(topUp(1_234n * U));
    expect(txs.map((t) => t.functionName)).toEqual(['approve', 'supplyCollateral']);
    expect(await s.position()).toEqual({ supplyShares: 0n, borrowShares: 0n, collateral: 1_234n * U });
    expect(wallet - (await s.balance(s.d.addresses.usdc))).toBe(1_234n * U);
  });

  it('hedge: borrow 2 WETH and sell them; the borrow shares are the event\'s, the WETH is sold, USDC received within the bound', async () => {
    const s = await setup();
    await s.act(topUp(5_000n * U));
    const [weth0, usdc0, m0] = [await s.balance(s.d.addresses.weth), await s.balance(s.d.addresses.usdc), await s.market()];
    const { txs, receipts } = await s.act(hedge(-2n * WAD));
    expect(txs.map((t) => t.functionName)).toEqual(['approve', 'borrow', 'exactInputSingle']);
    const [borrowed] = s.events(receipts, 'Borrow');
    expect(borrowed?.args.assets).toBe(2n * WAD);
    const p = await s.position();
    expect(p.borrowShares).toBe(borrowed?.args.shares);
    expect(p.collateral).toBe(5_000n * U);
    const m1 = await s.market();
    expect(m1.totalBorrowShares - m0.totalBorrowShares).toBe(p.borrowShares);
    expect(await s.balance(s.d.addresses.weth)).toBe(weth0); // every borrowed wei sold
    const sell = txs[2]!.bound;
    const gotUsdc = (await s.balance(s.d.addresses.usdc)) - usdc0;
    expect(sell.kind === 'quote' && gotUsdc >= sell.limitAmount).toBe(true);
  });

  it('unhedge: buy back and repay 0.5 WETH by assets, then everything by shares; no borrow share left', async () => {
    const s = await setup();
    await openPosition(s);
    const p0 = await s.position();
    const part = await s.act(hedge(WAD / 2n));
    expect(part.txs.map((t) => t.functionName)).toEqual(['approve', 'approve', 'exactOutputSingle', 'repay']);
    const [repaid] = s.events(part.receipts, 'Repay');
    expect(repaid?.args.assets).toBe(WAD / 2n);
    const p1 = await s.position();
    expect(p0.borrowShares - p1.borrowShares).toBe(repaid?.args.shares);
    const weth1 = await s.balance(s.d.addresses.weth);
    const rest = await s.act(hedge(10n * WAD));
    expect(rest.txs.map((t) => t.functionName)).toEqual(['exactOutputSingle', 'repay']); // approvals already max
    const [all] = s.events(rest.receipts, 'Repay');
    expect(all?.args.shares).toBe(p1.borrowShares);
    expect(await s.position()).toEqual({ supplyShares: 0n, borrowShares: 0n, collateral: 5_000n * U });
    // Bought what the shares would owe by the swap deadline: the dust beyond the debt stays in the wallet.
    const left = (await s.balance(s.d.addresses.weth)) - weth1;
    expect(left).toBeGreaterThanOrEqual(0n);
    expect(left).toBeLessThan(10n ** 12n);
  });

  it('withdraw: withdrawCollateral within what the model allows; Morpho refuses one unit more', async () => {
    const s = await setup();
    await openPosition(s);
    const snap = await s.reader.read();
    const account = snap.venues['morpho'] as MorphoVenueAccount;
    const spec = morphoPortfolio(s.d).venues[0] as MorphoVenueSpec;
    const ctx = { pricesE8: { ETH: snap.prices['ETH']!.priceE8 }, quotePriceE8: snap.quotePriceE8, assets: { ETH: morphoPortfolio(s.d).assets[0]! }, quote: morphoPortfolio(s.d).quote };
    // Evaluated for the next block's time (1 s later), when the withdrawal is mined.
    const next = { ...account, blockTimestampSec: account.blockTimestampSec + 1n };
    await s.d.test.setNextBlockTimestamp({ timestamp: next.blockTimestampSec });
    const w = morphoCollateralModel.withdrawableUnits(spec, next, ctx, null, 0n);
    const tooMuch = s.c.simulateContract({ account: s.me.walletClient.account, ...s.m, functionName: 'withdrawCollateral', args: [s.params, w + 1n, s.account, s.account], blockNumber: undefined });
    await expect(tooMuch).rejects.toThrow(/insufficient collateral/);
    const venues = await createPortfolioVenues({ portfolio: morphoPortfolio(s.d), publicClient: s.c });
    const built = await venues['morpho']!.buildWithdraw(w, null, { account: s.account, publicClient: s.c, snapshot: snap, portfolio: morphoPortfolio(s.d), maxSlippageBps: SLIPPAGE_BPS, blockNumber: snap.blockNumber });
    expect(built.status === 'ready' && built.txs.map((t) => t.functionName)).toEqual(['withdrawCollateral']);
    const tx = built.status === 'ready' ? built.txs[0]! : undefined;
    await confirm(s.me, s.me.walletClient.writeContract({ address: tx!.address, abi: tx!.abi, functionName: tx!.functionName, args: tx!.args, gas: LENDING_CALL_GAS } as never), 'withdraw');
    expect((await s.position()).collateral).toBe(5_000n * U - w);
  });
});

describe('Morpho Blue health: the model against the contract', () => {
  const devnet = useDevnet();

  it('at several ETH prices our health equals _isHealthy evaluated on-chain, and the contract liquidates exactly when it is below 1', async () => {
    const d = devnet();
    const { setup } = healthHelpers(d);
    const h = await setup();
    for (const ethUsd of [1_500n, 2_000n, 2_100n, 2_149n, 2_151n, 2_400n]) {
      await h.setEth(ethUsd * E8);
      // accrueInterest mined in the same block's state: market(id) is then exact at this block.
      // Interest accrued in the next block can cost more than the estimate on this one: a fixed limit.
      await confirm(h.liq, h.liq.walletClient.writeContract({ ...h.m, functionName: 'accrueInterest', args: [h.params], gas: LENDING_CALL_GAS }), 'accrue');
      const snap = await h.reader.read();
      const ours = morphoCollateralModel.buckets(h.spec, snap.venues['morpho'] as MorphoVenueAccount, h.ctx(snap))[0]!.ratioE18;
      expect(ours, `ETH ${ethUsd}`).toBe(await h.onChainHealth(snap.blockNumber));
      expect(await h.liquidatable(snap.blockNumber), `ETH ${ethUsd}: health ${ours}`).toBe(ours < WAD);
    }
  });

  it('the model\'s liquidation price is the contract\'s boundary to the E8 unit', async () => {
    const d = devnet();
    const { setup } = healthHelpers(d);
    const h = await setup();
    const snap0 = await h.reader.read();
    const at = snap0.blockTimestampSec + 100n;
    // The liquidation price for the block in which the feed moves (its time fixes the interest).
    const account = { ...(snap0.venues['morpho'] as MorphoVenueAccount), blockTimestampSec: at };
    const liq = morphoCollateralModel.buckets(h.spec, account, h.ctx(snap0))[0]!.liquidationPricesE8['ETH'] as bigint;
    expect(liq / E8).toBe(2_149n); // 5000 × 0.86 / 2 = 2150, less interest
    const base = await d.test.snapshot();
    const decide = async (priceE8: bigint) => {
      await d.test.revert({ id: base });
      await d.test.setNextBlockTimestamp({ timestamp: at });
      await h.setEth(priceE8);
      const block = await h.liq.publicClient.getBlockNumber({ cacheTime: 0 });
      return h.liquidatable(block);
    };
    expect(await decide(liq)).toBe(false);
    expect(await decide(liq + 1n)).toBe(true);
  });
});

function healthHelpers(d: Devnet) {
  async function setup() {
    const portfolio = morphoPortfolio(d);
    const spec = portfolio.venues[0] as MorphoVenueSpec;
    const borrower = d.as('aaveDemo');
    const liq = d.as('liquidator');
    const deployer = d.as('deployer');
    const account = borrower.walletClient.account.address;
    const m = { address: d.addresses.morpho.address, abi: morphoAbi } as const;
    const params = morphoParamsArg(d.addresses.morpho.marketParams);
    const id = d.addresses.morpho.marketId;
    // The borrower: 5,000 USDC collateral, 2 WETH borrowed (health 1.075 at 2,000).
    await confirm(deployer, deployer.walletClient.writeContract({ address: d.addresses.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [account, 5_000n * U] }), 'mint');
    await confirm(borrower, borrower.walletClient.writeContract({ address: d.addresses.usdc, abi: erc20Abi, functionName: 'approve', args: [m.address, 5_000n * U] }), 'approve');
    await confirm(borrower, borrower.walletClient.writeContract({ ...m, functionName: 'supplyCollateral', args: [params, 5_000n * U, account, '0x'] }), 'supplyCollateral');
    await confirm(borrower, borrower.walletClient.writeContract({ ...m, functionName: 'borrow', args: [params, 2n * WAD, 0n, account, account], gas: LENDING_CALL_GAS }), 'borrow');
    // The liquidator holds WETH and has approved Morpho, so only health decides a static liquidate.
    await confirm(liq, liq.walletClient.writeContract({ address: d.addresses.weth, abi: weth9Abi, functionName: 'deposit', value: 10n * WAD }), 'wrap');
    await confirm(liq, liq.walletClient.writeContract({ address: d.addresses.weth, abi: erc20Abi, functionName: 'approve', args: [m.address, 10n * WAD] }), 'approve');
    const reader = createPortfolioSnapshotReader({ publicClient: borrower.publicClient, account, portfolio, multicall3: MULTICALL3_CANONICAL, positionManager: d.addresses.uniswap.positionManager });
    const c = liq.publicClient;
    return {
      spec, liq, m, params, reader,
      ctx: (snap: { prices: Record<string, { priceE8: bigint }>; quotePriceE8: bigint }) => ({
        pricesE8: { ETH: snap.prices['ETH']!.priceE8 }, quotePriceE8: snap.quotePriceE8, assets: { ETH: portfolio.assets[0]! }, quote: portfolio.quote,
      }),
      setEth: (priceE8: bigint) => confirm(deployer, deployer.walletClient.writeContract({ address: d.addresses.ethUsdFeed, abi: priceFeedAbi, functionName: 'setPrice', args: [priceE8] }), 'feed'),
      /** `_isHealthy` written out from Morpho.sol on the raw reads of the block (interest already accrued in it). */
      async onChainHealth(blockNumber: bigint): Promise<bigint> {
        const [[, borrowShares, collateral], market, price] = await Promise.all([
          c.readContract({ ...m, functionName: 'position', args: [id, account], blockNumber }),
          c.readContract({ ...m, functionName: 'market', args: [id], blockNumber }),
          c.readContract({ address: params.oracle, abi: morphoFeedOracleAbi, functionName: 'price', blockNumber }),
        ]);
        const [, , totalBorrowAssets, totalBorrowShares] = market;
        const borrowed = (borrowShares * (totalBorrowAssets + 1n) + (totalBorrowShares + 10n ** 6n - 1n)) / (totalBorrowShares + 10n ** 6n);
        const maxBorrow = (((collateral * price) / 10n ** 36n) * params.lltv) / WAD;
        return (maxBorrow * WAD) / borrowed;
      },
      /** The contract's own decision: a static liquidate of 1 USDC of collateral. */
      async liquidatable(blockNumber: bigint): Promise<boolean> {
        try {
          await c.simulateContract({ account: liq.walletClient.account, ...m, functionName: 'liquidate', args: [params, account, U, 0n, '0x'], blockNumber });
          return true;
        } catch (err) {
          if (/position is healthy/.test(String(err))) return false;
          throw err;
        }
      },
    };
  }
  return { setup };
}

describe('portfolio keeper with a Morpho venue (devnet demo portfolio)', () => {
  const devnet = useDevnet();

  it('an ETH move is hedged on Morpho, its first ETH instrument: borrow + sell, read back from position()', async () => {
    const d = devnet();
    const me = d.as('portfolioDemo');
    const account = me.walletClient.account.address;
    const m = { address: d.addresses.morpho.address, abi: morphoAbi } as const;
    const params = morphoParamsArg(d.addresses.morpho.marketParams);
    // An existing Morpho position that leaves the delta as it was: 1 WETH borrowed and kept.
    const deployer = d.as('deployer');
    await confirm(deployer, deployer.walletClient.writeContract({ address: d.addresses.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [account, 20_000n * U] }), 'mint');
    await confirm(me, me.walletClient.writeContract({ address: d.addresses.usdc, abi: erc20Abi, functionName: 'approve', args: [m.address, 20_000n * U] }), 'approve');
    await confirm(me, me.walletClient.writeContract({ ...m, functionName: 'supplyCollateral', args: [params, 20_000n * U, account, '0x'] }), 'supplyCollateral');
    await confirm(me, me.walletClient.writeContract({ ...m, functionName: 'borrow', args: [params, WAD, 0n, account, account], gas: LENDING_CALL_GAS }), 'borrow');
    const a = d.addresses;
    const venue =
      `  morpho: { kind: morpho, morpho: ${a.morpho.address}, marketId: '${a.morpho.marketId}', loanAsset: ETH, swapPool: weth-usdc, ` +
      `swapRouter: ${a.uniswap.swapRouter}, quoter: ${a.uniswap.quoterV2}, trigger: 1.3, target: 1.6, maxTopUp: 50000, maxTopUpPerDay: 200000 }\n`;
    const yaml = (y: string) =>
      y
        .replace('instruments:\n', `${venue}instruments:\n`)
        .replace('  - { venue: perp, asset: ETH, priority: 1, weight: 1 }', '  - { venue: morpho, asset: ETH, priority: 1, weight: 1 }\n  - { venue: perp, asset: ETH, priority: 2, weight: 1 }')
        .replace('  - { venue: aave, asset: ETH, priority: 2, weight: 1 }', '  - { venue: aave, asset: ETH, priority: 3, weight: 1 }')
        .replace(/^ {4}BTC: \{ hedgeRatio.*$/m, '    BTC: { hedgeRatio: 1, band: 100, bandPct: 0, hysteresis: 0.5, minTrade: 0.0005, maxTrade: 2, maxNotionalPerDayUsd: 10000000 }');
    const { keeper } = await portfolioKeeperOn(d, { yaml });
    const first = await keeper.tickOnce();
    expect(first.plan.actions).toEqual([]);
    const bucket = first.assessment.venues.find((v) => v.venue === 'morpho')!.buckets[0]!;
    // 20000 × 0.86 / 2000 = 8.6, less a few seconds of interest.
    expect(bucket.ratioE18).toBeLessThanOrEqual(86n * 10n ** 17n);
    expect(bucket.ratioE18).toBeGreaterThan(86n * 10n ** 17n - 10n ** 12n);
    const before = await me.publicClient.readContract({ ...m, functionName: 'position', args: [a.morpho.marketId, account] });
    // ETH −2%: the LPs hold more ETH, the short grows, on Morpho first.
    await setPortfolioPrices(d, { eth: (2_000n * E8 * 98n) / 100n, btc: 60_000n * E8 });
    const r = await keeper.tickOnce();
    const hedges = r.plan.actions.filter((x) => x.kind === 'adjustHedge');
    expect(hedges.map((x) => x.instrument)).toEqual(['morpho:ETH']);
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    const size = hedges[0]!.kind === 'adjustHedge' ? hedges[0]!.sizeDeltaUnits : 0n;
    expect(size).toBeLessThan(0n);
    const after = await me.publicClient.readContract({ ...m, functionName: 'position', args: [a.morpho.marketId, account] });
    expect(after[1]).toBeGreaterThan(before[1]);
    const [totalBorrowAssets, totalBorrowShares] = await me.publicClient.readContract({ ...m, functionName: 'market', args: [a.morpho.marketId] }).then((x) => [x[2], x[3]]);
    const borrowedNow = (after[1] * (totalBorrowAssets! + 1n) + totalBorrowShares! + 10n ** 6n - 1n) / (totalBorrowShares! + 10n ** 6n);
    expect(borrowedNow - WAD - -size).toBeLessThan(10n ** 12n); // the 1 WETH, the hedge, interest
    expect(borrowedNow - WAD - -size).toBeGreaterThanOrEqual(0n);
    expect((await keeper.tickOnce()).assessment.assets.find((x) => x.asset === 'ETH')?.inBand).toBe(true);
  });
});

