import { describe, expect, it } from 'vitest';
import { erc20Abi, type Address } from 'viem';
import { perpExchangeAbi, priceFeedAbi } from '../../contracts-abi/index.js';
import { checkTxBounds } from '../../src/core/guard-tx.js';
import { isAllowedCall, type CallAllowList } from '../../src/core/guard.js';
import type { DevnetRole } from '../../src/devnet/accounts.js';
import type { AaveVenueSpec, PerpVenueSpec, Portfolio, PortfolioAction, PortfolioSnapshot } from '../../src/portfolio/model.js';
import { minOutUnitsAt } from '../../src/venues/aave-portfolio.js';
import {
  buildPortfolioAction,
  createPortfolioVenues,
  portfolioAllowList,
  portfolioTxBoundsContext,
  type PortfolioBuildContext,
  type PortfolioVenue,
} from '../../src/venues/portfolio-venues.js';
import type { BuiltTxs, TxRequest } from '../../src/venues/types.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';

const E8 = 10n ** 8n;
const ETH = 10n ** 18n;
const BTC = 10n ** 8n;
const U = 10n ** 6n;
const SLIPPAGE_BPS = 50;

/**
 * The devnet as a portfolio: ETH (pool weth-usdc) and BTC (8-decimal WBTC, pool wbtc-usdc), each
 * hedged on its perp market and on Aave; USDC the quote.
 */
function devnetPortfolio(d: Devnet): Portfolio {
  const a = d.addresses;
  const collateral = { triggerE18: 0n, targetE18: 0n, maxTopUpUnits: 0n, maxTopUpPerDayUnits: 0n };
  const pool = (id: string, asset: string, token: Address, address: Address, fee: number) => {
    const [token0, token1] = token.toLowerCase() < a.usdc.toLowerCase() ? [asset, 'USDC'] : ['USDC', asset];
    return { id, address, token0: token0 as string, token1: token1 as string, fee };
  };
  const perp: PerpVenueSpec = { kind: 'perp', id: 'perp', exchange: a.perp, markets: { ETH: BigInt(a.perpMarketId), BTC: BigInt(a.perpBtcMarketId) }, collateral };
  const aave: AaveVenueSpec = {
    kind: 'aave',
    id: 'aave',
    addressesProvider: a.aave.poolAddressesProvider,
    swapPools: { ETH: 'weth-usdc', BTC: 'wbtc-usdc' },
    swapRouter: a.uniswap.swapRouter,
    quoter: a.uniswap.quoterV2,
    collateral,
  };
  return {
    quote: { id: 'USDC', token: a.usdc, decimals: 6, feed: a.usdcUsdFeed },
    assets: [
      { id: 'ETH', token: a.weth, decimals: 18, feed: a.ethUsdFeed, heartbeatSec: 3600, wrapsNative: true },
      { id: 'BTC', token: a.wbtc, decimals: 8, feed: a.btcUsdFeed, heartbeatSec: 3600, wrapsNative: false },
    ],
    pools: [pool('weth-usdc', 'ETH', a.weth, a.uniswap.pool, a.uniswap.fee), pool('wbtc-usdc', 'BTC', a.wbtc, a.pools.wbtcUsdc.address, a.pools.wbtcUsdc.fee)],
    venues: [perp, aave],
    instruments: [],
    policy: { assets: {}, cooldownSec: 0, maxSlippageBps: SLIPPAGE_BPS, includeNative: false },
  };
}

describe('portfolio venues build, guard and send the transactions of portfolio actions (devnet)', () => {
  const devnet = useDevnet();
  let venuesCache: Readonly<Record<string, PortfolioVenue>> | undefined;

  const setup = async (role: DevnetRole, maxSlippageBps = SLIPPAGE_BPS) => {
    const d = devnet();
    const { publicClient, walletClient } = d.as(role);
    const portfolio = devnetPortfolio(d);
    venuesCache ??= await createPortfolioVenues({ portfolio, publicClient });
    const block = await publicClient.getBlock();
    const feed = async (address: Address) => {
      const [decimals, round] = await Promise.all([
        publicClient.readContract({ address, abi: priceFeedAbi, functionName: 'decimals', blockNumber: block.number }),
        publicClient.readContract({ address, abi: priceFeedAbi, functionName: 'latestRoundData', blockNumber: block.number }),
      ]);
      expect(decimals).toBe(8);
      return { priceE8: round[1], updatedAtSec: round[3] };
    };
    const [eth, btc, usdc] = await Promise.all([feed(d.addresses.ethUsdFeed), feed(d.addresses.btcUsdFeed), feed(d.addresses.usdcUsdFeed)]);
    const account = walletClient.account.address;
    const snapshot: PortfolioSnapshot = {
      chainId: 31337,
      blockNumber: block.number,
      blockTimestampSec: block.timestamp,
      account,
      prices: { ETH: eth, BTC: btc },
      quotePriceE8: usdc.priceE8,
      wallet: { nativeWei: 0n, balances: {} },
      pools: {},
      lps: [],
      venues: {},
    };
    const ctx: PortfolioBuildContext = { account, publicClient, snapshot, portfolio, maxSlippageBps, blockNumber: block.number };
    const bounds = portfolioTxBoundsContext(portfolio, snapshot, maxSlippageBps);
    const venues = venuesCache;
    return { d, publicClient, walletClient, account, portfolio, ctx, bounds, venues, ethPriceE8: eth.priceE8, btcPriceE8: btc.priceE8, quotePriceE8: usdc.priceE8 };
  };
  type Setup = Awaited<ReturnType<typeof setup>>;

  const ready = (b: BuiltTxs): TxRequest[] => {
    if (b.status !== 'ready') throw new Error(`refused at ${b.label}: ${b.reason}`);
    return b.txs;
  };

  /** Build, check every transaction against the multi-asset guard and the allow-list, send in order. */
  const run = async (s: Setup, action: PortfolioAction, allowList: CallAllowList): Promise<TxRequest[]> => {
    const txs = ready(await buildPortfolioAction(action, s.venues, s.ctx));
    for (const tx of txs) {
      expect(checkTxBounds(tx, s.bounds), tx.label).toEqual({ ok: true });
      expect(isAllowedCall(tx.address, tx.functionName, allowList), tx.label).toBe(true);
    }
    for (const tx of txs) {
      const hash = await s.walletClient.writeContract({ address: tx.address, abi: tx.abi, functionName: tx.functionName, args: tx.args, value: tx.value } as never);
      expect((await s.publicClient.waitForTransactionReceipt({ hash })).status, tx.label).toBe('success');
    }
    return txs;
  };

  const perpAccount = async (s: Setup, marketId = s.d.addresses.perpMarketId) =>
    s.publicClient.readContract({ address: s.d.addresses.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [s.account, BigInt(marketId)] });
  const balance = async (s: Setup, token: Address) => s.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [s.account] });
  const aave = async (s: Setup) => {
    const [collateral, debt, wallet] = await Promise.all([balance(s, s.d.addresses.aave.aUsdc), balance(s, s.d.addresses.aave.variableDebtWeth), balance(s, s.d.addresses.usdc)]);
    return { collateral, debt, wallet };
  };
  const fn = (txs: TxRequest[]) => txs.map((t) => t.functionName);

  it('perp: short 1 ETH more at an oracle-bounded price naming WETH; the position changes by exactly -1e18', async () => {
    const s = await setup('perpDemo');
    const before = await perpAccount(s);
    const txs = await run(s, { kind: 'adjustHedge', venue: 'perp', instrument: 'perp-eth', asset: 'ETH', sizeDeltaUnits: -ETH, reason: 't' }, s.venues.perp!.allowList());
    expect(txs.map((t) => t.bound)).toEqual([{ kind: 'oracle-price', acceptablePriceE8: (s.ethPriceE8 * 9_950n) / 10_000n, asset: s.d.addresses.weth }]);
    const after = await perpAccount(s);
    expect(after.sizeWei - before.sizeWei).toBe(-ETH);
  });

  it('perp: top up 100 USDC (approve + deposit), then withdraw it; margin moves by exactly the amount', async () => {
    const s = await setup('perpDemo');
    const m0 = await perpAccount(s);
    const w0 = await balance(s, s.d.addresses.usdc);
    const up = await run(s, { kind: 'topUp', venue: 'perp', asset: 'ETH', amountUnits: 100n * U, reason: 't' }, s.venues.perp!.allowList());
    expect(fn(up)).toEqual(['approve', 'deposit']);
    const m1 = await perpAccount(s);
    expect(m1.marginUnits - m0.marginUnits).toBe(100n * U);
    expect(await balance(s, s.d.addresses.usdc)).toBe(w0 - 100n * U);

    const s2 = await setup('perpDemo');
    const down = ready(await s2.venues.perp!.buildWithdraw(60n * U, 'ETH', s2.ctx));
    expect(fn(down)).toEqual(['withdraw']);
    for (const tx of down) {
      expect(checkTxBounds(tx, s2.bounds)).toEqual({ ok: true });
      expect(isAllowedCall(tx.address, tx.functionName, s2.venues.perp!.allowList())).toBe(true);
      const hash = await s2.walletClient.writeContract({ address: tx.address, abi: tx.abi, functionName: tx.functionName, args: tx.args } as never);
      expect((await s2.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
    }
    expect((await perpAccount(s2)).marginUnits - m1.marginUnits).toBe(-60n * U);
    expect(await balance(s2, s2.d.addresses.usdc)).toBe(w0 - 40n * U);
  });

  it('aave: short 0.5 ETH more = borrow + sell; debt +0.5 ETH, USDC received = the quote, within the slippage of the oracle', async () => {
    const s = await setup('aaveDemo');
    const before = await aave(s);
    const txs = await run(s, { kind: 'adjustHedge', venue: 'aave', instrument: 'aave-eth', asset: 'ETH', sizeDeltaUnits: -ETH / 2n, reason: 't' }, s.venues.aave!.allowList());
    expect(fn(txs).filter((f) => f !== 'approve')).toEqual(['borrow', 'exactInputSingle']);
    const sell = txs.find((t) => t.functionName === 'exactInputSingle')!;
    const after = await aave(s);
    // The borrow, plus a few seconds of interest on the whole debt, less Aave's half-up rounding of scaled balances.
    expect(after.debt - before.debt).toBeGreaterThanOrEqual(ETH / 2n - 1n);
    expect(after.debt - before.debt).toBeLessThan(ETH / 2n + 10n ** 13n);
    const received = after.wallet - before.wallet;
    // Quoted at the planning block, filled on the same pool state: the quote to the unit.
    expect(sell.bound).toMatchObject({ kind: 'quote', quotedAmount: received });
    const weth = { symbol: 'ETH', token: s.d.addresses.weth, decimals: 18, priceE8: s.ethPriceE8 };
    const usdc = { symbol: 'USDC', token: s.d.addresses.usdc, decimals: 6, priceE8: s.quotePriceE8 };
    expect(received).toBeGreaterThanOrEqual(minOutUnitsAt(ETH / 2n, weth, usdc, SLIPPAGE_BPS));
    expect(received).toBeLessThanOrEqual((s.ethPriceE8 * ETH) / 2n / s.quotePriceE8 / 10n ** 12n);
  });

  it('aave: short 0.25 ETH less = buy with USDC + repay; USDC paid = the quote, debt -0.25 ETH', async () => {
    const s = await setup('aaveDemo');
    const before = await aave(s);
    const txs = await run(s, { kind: 'adjustHedge', venue: 'aave', instrument: 'aave-eth', asset: 'ETH', sizeDeltaUnits: ETH / 4n, reason: 't' }, s.venues.aave!.allowList());
    expect(fn(txs).filter((f) => f !== 'approve')).toEqual(['exactOutputSingle', 'repay']);
    const buy = txs.find((t) => t.functionName === 'exactOutputSingle')!;
    const after = await aave(s);
    expect(buy.bound).toMatchObject({ kind: 'quote', quotedAmount: before.wallet - after.wallet });
    expect(before.debt - after.debt).toBeLessThanOrEqual(ETH / 4n + 1n);
    expect(before.debt - after.debt).toBeGreaterThan(ETH / 4n - 10n ** 13n);
  });

  it('aave: top up 100 USDC (supply), withdraw 100 USDC; collateral and wallet move by the amount', async () => {
    const s = await setup('aaveDemo');
    const a0 = await aave(s);
    const up = await run(s, { kind: 'topUp', venue: 'aave', asset: null, amountUnits: 100n * U, reason: 't' }, s.venues.aave!.allowList());
    expect(fn(up).filter((f) => f !== 'approve')).toEqual(['supply']);
    const a1 = await aave(s);
    expect(a1.wallet).toBe(a0.wallet - 100n * U);
    // aToken balances are scaled by the liquidity index (rounded half-up): one unit either way.
    expect(a1.collateral - a0.collateral).toBeGreaterThanOrEqual(100n * U - 1n);
    expect(a1.collateral - a0.collateral).toBeLessThanOrEqual(100n * U + 1n);

    const s2 = await setup('aaveDemo');
    const down = ready(await s2.venues.aave!.buildWithdraw(100n * U, null, s2.ctx));
    expect(down.map((t) => [t.functionName, t.args, t.bound])).toEqual([['withdraw', [s2.d.addresses.usdc, 100n * U, s2.account], { kind: 'none', why: 'collateral' }]]);
    for (const tx of down) {
      expect(checkTxBounds(tx, s2.bounds)).toEqual({ ok: true });
      expect(isAllowedCall(tx.address, tx.functionName, s2.venues.aave!.allowList())).toBe(true);
      const hash = await s2.walletClient.writeContract({ address: tx.address, abi: tx.abi, functionName: tx.functionName, args: tx.args } as never);
      expect((await s2.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
    }
    const a2 = await aave(s2);
    expect(a2.wallet).toBe(a0.wallet);
    expect(a2.collateral - a1.collateral).toBeGreaterThanOrEqual(-100n * U - 1n);
    expect(a2.collateral - a1.collateral).toBeLessThanOrEqual(-100n * U + 1n);
  });

  it('moveCollateral perp -> aave: perp margin -X, Aave collateral +X, the wallet unchanged', async () => {
    const s = await setup('perpDemo');
    const X = 250n * U;
    const [m0, a0] = await Promise.all([perpAccount(s), aave(s)]);
    expect(a0.collateral).toBe(0n); // the perp demo opens its Aave account with this move
    const txs = await run(s, { kind: 'moveCollateral', from: 'perp', fromAsset: 'ETH', to: 'aave', toAsset: null, amountUnits: X, reason: 't' }, portfolioAllowList(s.venues));
    expect(fn(txs)).toEqual(['withdraw', 'approve', 'supply']);
    const [m1, a1] = await Promise.all([perpAccount(s), aave(s)]);
    expect(m1.marginUnits - m0.marginUnits).toBe(-X);
    expect(a1.collateral).toBe(X);
    expect(a1.wallet).toBe(a0.wallet);
  });

  it('perp BTC market: margin in, then short 0.01 BTC (8 decimals) = exactly -1e16 size units, bounded by the BTC price', async () => {
    const s = await setup('perpDemo');
    const btcMarket = s.d.addresses.perpBtcMarketId;
    const m0 = await perpAccount(s, btcMarket);
    await run(s, { kind: 'topUp', venue: 'perp', asset: 'BTC', amountUnits: 1_000n * U, reason: 't' }, s.venues.perp!.allowList());
    expect((await perpAccount(s, btcMarket)).marginUnits - m0.marginUnits).toBe(1_000n * U);
    const s2 = await setup('perpDemo');
    const txs = await run(s2, { kind: 'adjustHedge', venue: 'perp', instrument: 'perp-btc', asset: 'BTC', sizeDeltaUnits: -(BTC / 100n), reason: 't' }, s2.venues.perp!.allowList());
    const acceptable = (s2.btcPriceE8 * 9_950n) / 10_000n;
    expect(txs.map((t) => [t.args, t.bound])).toEqual([[[BigInt(btcMarket), -(10n ** 16n), acceptable], { kind: 'oracle-price', acceptablePriceE8: acceptable, asset: s2.d.addresses.wbtc }]]);
    expect((await perpAccount(s2, btcMarket)).sizeWei - m0.sizeWei).toBe(-(10n ** 16n));
    // The single-asset context prices only ETH: it refuses this trade rather than bound it at the ETH price.
    const legacy = { priceE8: s2.ethPriceE8, quotePriceE8: s2.quotePriceE8, maxSlippageBps: SLIPPAGE_BPS, weth: s2.d.addresses.weth, usdc: s2.d.addresses.usdc };
    expect(checkTxBounds(txs[0]!, legacy).ok).toBe(false);
  });

  it('aave WBTC: borrow 0.01 BTC and sell it on the wbtc-usdc pool, then buy 0.005 back and repay', async () => {
    const s = await setup('aaveDemo');
    const a = s.d.addresses;
    const debtWbtc = a.aave.variableDebtWbtc!;
    const [debt0, wallet0] = await Promise.all([balance(s, debtWbtc), balance(s, a.usdc)]);
    const txs = await run(s, { kind: 'adjustHedge', venue: 'aave', instrument: 'aave-btc', asset: 'BTC', sizeDeltaUnits: -(BTC / 100n), reason: 't' }, s.venues.aave!.allowList());
    expect(txs.map((t) => t.label)).toEqual(['approve BTC for the swap router', 'aave.borrow BTC', 'uniswap.exactInputSingle BTC->USDC']);
    const [debt1, wallet1] = await Promise.all([balance(s, debtWbtc), balance(s, a.usdc)]);
    expect(debt1 - debt0).toBeGreaterThanOrEqual(BTC / 100n - 1n);
    expect(debt1 - debt0).toBeLessThanOrEqual(BTC / 100n + 1n);
    expect(txs[2]!.bound).toMatchObject({ kind: 'quote', quotedAmount: wallet1 - wallet0 });
    const wbtc = { symbol: 'BTC', token: a.wbtc, decimals: 8, priceE8: s.btcPriceE8 };
    const usdc = { symbol: 'USDC', token: a.usdc, decimals: 6, priceE8: s.quotePriceE8 };
    expect(wallet1 - wallet0).toBeGreaterThanOrEqual(minOutUnitsAt(BTC / 100n, wbtc, usdc, SLIPPAGE_BPS));

    const s2 = await setup('aaveDemo');
    const back = await run(s2, { kind: 'adjustHedge', venue: 'aave', instrument: 'aave-btc', asset: 'BTC', sizeDeltaUnits: BTC / 200n, reason: 't' }, s2.venues.aave!.allowList());
    expect(back.map((t) => t.label).filter((l) => !l.startsWith('approve'))).toEqual(['uniswap.exactOutputSingle USDC->BTC', 'aave.repay BTC']);
    const [debt2, wallet2] = await Promise.all([balance(s2, debtWbtc), balance(s2, a.usdc)]);
    expect(debt1 - debt2).toBeGreaterThanOrEqual(BTC / 200n - 1n);
    expect(debt1 - debt2).toBeLessThanOrEqual(BTC / 200n + 1n);
    expect(back.find((t) => t.functionName === 'exactOutputSingle')!.bound).toMatchObject({ kind: 'quote', quotedAmount: wallet1 - wallet2 });
  });

  it('refuses up front (nothing sent) a sale whose quote breaks the slippage bound, and a repay without debt', async () => {
    const s = await setup('aaveDemo', 0); // 0 bps: the pool's fee alone breaks the bound
    const nonce = await s.publicClient.getTransactionCount({ address: s.account });
    const built = await buildPortfolioAction({ kind: 'adjustHedge', venue: 'aave', instrument: 'i', asset: 'ETH', sizeDeltaUnits: -ETH, reason: 't' }, s.venues, s.ctx);
    expect(built).toMatchObject({ status: 'refused', label: 'uniswap.exactInputSingle ETH->USDC', reason: expect.stringMatching(/is below the minimum [\d.]+ USDC \(oracle value less 0 bps\): not sent$/) });
    expect(await s.publicClient.getTransactionCount({ address: s.account })).toBe(nonce);
    const p = await setup('perpDemo');
    const repay = await buildPortfolioAction({ kind: 'adjustHedge', venue: 'aave', instrument: 'i', asset: 'ETH', sizeDeltaUnits: ETH, reason: 't' }, p.venues, p.ctx);
    expect(repay).toEqual({ status: 'refused', label: 'aave.repay ETH', reason: 'no ETH debt to repay' });
  });
});
