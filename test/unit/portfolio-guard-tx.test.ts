import { describe, expect, it } from 'vitest';
import { checkTxBounds, knownTxFunctions, type TxBound, type TxBoundsContext } from '../../src/core/guard-tx.js';
import { isAllowedCall } from '../../src/core/guard.js';
import type { Portfolio, PortfolioSnapshot } from '../../src/portfolio/model.js';
import { maxInUnitsAt, minOutUnitsAt, type PricedToken } from '../../src/venues/aave-portfolio.js';
import { createPerpPortfolioVenue, perpSizeE18 } from '../../src/venues/perp-portfolio.js';
import { buildPortfolioAction, portfolioTxBoundsContext, type PortfolioBuildContext } from '../../src/venues/portfolio-venues.js';

const WETH = '0x00000000000000000000000000000000000000aa';
const USDC = '0x00000000000000000000000000000000000000bb';
const WBTC = '0x00000000000000000000000000000000000000cc';
const OTHER = '0x00000000000000000000000000000000000000dd';
const EXCHANGE = '0x00000000000000000000000000000000000000e1';
const E8 = 10n ** 8n;
const ETH = 10n ** 18n;
const BTC = 10n ** 8n;
const U = 10n ** 6n;

/** ETH at 2,000, BTC at 60,000 (8 decimals), USDC at 1 (6 decimals), 50 bps. */
const ctx: TxBoundsContext = {
  priceE8: 0n,
  quotePriceE8: E8,
  maxSlippageBps: 50,
  weth: WETH,
  usdc: USDC,
  tokens: {
    [WETH]: { priceE8: 2_000n * E8, decimals: 18 },
    [WBTC]: { priceE8: 60_000n * E8, decimals: 8 },
    [USDC]: { priceE8: E8, decimals: 6 },
  },
};
const legacy: TxBoundsContext = { priceE8: 2_000n * E8, quotePriceE8: E8, maxSlippageBps: 50, weth: WETH, usdc: USDC };

type Tx = { functionName: string; args: readonly unknown[]; bound?: TxBound };
const none = (why: 'approve' | 'collateral' | 'debt'): TxBound => ({ kind: 'none', why });
const trade = (size: bigint, acceptable: bigint, asset?: string): Tx => ({
  functionName: 'trade',
  args: [2n, size, acceptable],
  bound: asset === undefined ? { kind: 'oracle-price', acceptablePriceE8: acceptable } : { kind: 'oracle-price', acceptablePriceE8: acceptable, asset },
});
const exactIn = (tokenIn: string, tokenOut: string, amountIn: bigint, min: bigint): Tx => ({
  functionName: 'exactInputSingle',
  args: [{ tokenIn, tokenOut, amountIn, amountOutMinimum: min }],
  bound: { kind: 'quote', quotedAmount: min, limitAmount: min },
});
const exactOut = (tokenIn: string, tokenOut: string, amountOut: bigint, max: bigint): Tx => ({
  functionName: 'exactOutputSingle',
  args: [{ tokenIn, tokenOut, amountOut, amountInMaximum: max }],
  bound: { kind: 'quote', quotedAmount: max, limitAmount: max },
});
const verdict = (tx: Tx, c: TxBoundsContext = ctx) => checkTxBounds(tx, c);

describe('multi-asset transaction guard: deny by default', () => {
  // `transfer` is known only with a bridge bound (below).
  it.each(['transferFrom', 'setApprovalForAll', 'liquidationCall', 'flashLoan', 'setUserUseReserveAsCollateral', 'multicall', 'liquidate', '__proto__', 'hasOwnProperty'])(
    'refuses %j, whatever it declares',
    (functionName) => {
      for (const bound of [none('approve'), none('collateral'), none('debt'), { kind: 'oracle-price', acceptablePriceE8: 2_000n * E8, asset: WETH } as const, undefined]) {
        const v = verdict({ functionName, args: [WETH, 1n], bound });
        expect(v.ok).toBe(false);
        expect(!v.ok && v.reason).toContain(`${functionName} is not a function the transaction guard knows`);
      }
    },
  );

  it('knows withdraw only in a multi-asset context', () => {
    expect(knownTxFunctions(ctx).sort()).toEqual([
      'approve', 'borrow', 'deposit', 'exactInputSingle', 'exactOutputSingle', 'repay', 'supply', 'supplyCollateral', 'trade', 'transfer', 'withdraw', 'withdrawCollateral',
    ]);
    expect(knownTxFunctions(legacy)).not.toContain('supplyCollateral');
    expect(knownTxFunctions(legacy)).not.toContain('withdrawCollateral');
    expect(knownTxFunctions(legacy)).not.toContain('withdraw');
    expect(verdict({ functionName: 'withdraw', args: [USDC, 1n, WETH], bound: none('collateral') }, legacy).ok).toBe(false);
  });

  it.each<[string, TxBound | undefined, boolean]>([
    ['none (collateral)', none('collateral'), true],
    ['none (debt)', none('debt'), false],
    ['none (approve)', none('approve'), false],
    ['an oracle price', { kind: 'oracle-price', acceptablePriceE8: 1n, asset: WETH }, false],
    ['nothing', undefined, false],
  ])('a withdraw declaring %s: %s', (_name, bound, ok) => {
    const v = verdict({ functionName: 'withdraw', args: [USDC, 100n * U, WETH], bound });
    expect(v.ok).toBe(ok);
    if (!ok && bound?.kind === 'none') expect(!v.ok && v.reason).toBe(`withdraw declares a none (${bound.why}) bound; the guard requires none (collateral) for it`);
  });

  it('refuses everything without the quote price, but one dead asset feed blocks only what needs that asset', () => {
    expect(verdict({ functionName: 'approve', args: [USDC, 1n], bound: none('approve') }, { ...ctx, quotePriceE8: 0n })).toEqual({ ok: false, reason: 'no usable oracle price to bound the transaction' });
    const deadBtc: TxBoundsContext = { ...ctx, tokens: { ...ctx.tokens, [WBTC]: { priceE8: 0n, decimals: 8 } } };
    expect(verdict({ functionName: 'deposit', args: [1n, 100n * U], bound: none('collateral') }, deadBtc).ok).toBe(true);
    expect(verdict(trade(-ETH, 1_990n * E8, WETH), deadBtc).ok).toBe(true);
    expect(verdict(trade(-BTC, 59_700n * E8, WBTC), deadBtc)).toEqual({ ok: false, reason: `trade of asset ${WBTC}, a token without a usable oracle price` });
    expect(verdict(exactIn(WBTC, USDC, BTC / 10n, 5_970n * U), deadBtc).ok).toBe(false);
  });
});

describe('multi-asset transaction guard: swaps between known tokens', () => {
  it.each<[string, Tx, boolean]>([
    // 0.1 WBTC is worth 6,000 USDC: -50 bps = 5,970.
    ['sell 0.1 WBTC, min 5,970 USDC (-50 bps)', exactIn(WBTC, USDC, BTC / 10n, 5_970n * U), true],
    ['sell 0.1 WBTC, min 5,969 USDC (-51.7 bps)', exactIn(WBTC, USDC, BTC / 10n, 5_969n * U), false],
    ['sell 0.1 WBTC, min 0 (unbounded)', exactIn(WBTC, USDC, BTC / 10n, 0n), false],
    ['buy 0.1 WBTC, max 6,030 USDC (+50 bps)', exactOut(USDC, WBTC, BTC / 10n, 6_030n * U), true],
    ['buy 0.1 WBTC, max 6,031 USDC', exactOut(USDC, WBTC, BTC / 10n, 6_031n * U), false],
    ['sell 6,000 USDC for >= 0.0995 WBTC', exactIn(USDC, WBTC, 6_000n * U, 9_950_000n), true],
    ['sell 6,000 USDC for >= 0.0994 WBTC', exactIn(USDC, WBTC, 6_000n * U, 9_940_000n), false],
    // 1 WBTC = 30 WETH: two risky tokens, each at its own price.
    ['sell 1 WBTC for >= 29.85 WETH', exactIn(WBTC, WETH, BTC, 29_850_000_000_000_000_000n), true],
    ['sell 1 WBTC for >= 29.8 WETH', exactIn(WBTC, WETH, BTC, 29_800_000_000_000_000_000n), false],
    ['WETH->USDC still bounded at the ETH price', exactIn(WETH, USDC, ETH, 1_990n * U), true],
    ['WETH->USDC min 1,980 USDC (-100 bps)', exactIn(WETH, USDC, ETH, 1_980n * U), false],
  ])('%s', (_name, tx, ok) => {
    expect(verdict(tx).ok).toBe(ok);
  });

  it('refuses a swap touching a token the context does not know, or one token to itself', () => {
    for (const tx of [exactIn(WBTC, OTHER, BTC, 1n), exactIn(OTHER, USDC, ETH, 10n ** 30n), exactOut(USDC, OTHER, 1n, 1n), exactIn(USDC, USDC, U, U)]) {
      const v = verdict(tx);
      expect(v.ok).toBe(false);
      expect(!v.ok && v.reason).toMatch(/is not a swap between two priced tokens of the portfolio/);
    }
  });

  it('the single-asset context still knows only the WETH/USDC pair', () => {
    expect(verdict(exactIn(WBTC, USDC, BTC / 10n, 5_970n * U), legacy)).toMatchObject({ ok: false, reason: expect.stringMatching(/not the hedged WETH\/USDC pair/) });
  });
});

describe('multi-asset transaction guard: a trade is bounded by the price of the asset it names', () => {
  it.each<[string, Tx, boolean]>([
    ['BTC market sell at 59,700 (BTC -50 bps)', trade(-BTC * 10n ** 10n, 59_700n * E8, WBTC), true],
    ['BTC market sell at 59,600 (BTC -66 bps)', trade(-ETH, 59_600n * E8, WBTC), false],
    // 1,990 is within the ETH bound: checked against the ETH price it would pass.
    ['BTC market sell at 1,990 (the ETH bound)', trade(-ETH, 1_990n * E8, WBTC), false],
    ['BTC market buy at 60,300 (+50 bps)', trade(ETH, 60_300n * E8, WBTC), true],
    ['BTC market buy at 60,400', trade(ETH, 60_400n * E8, WBTC), false],
    ['ETH market sell at 1,990', trade(-ETH, 1_990n * E8, WETH), true],
    ['ETH market sell at 59,700 is fine too (a sell above the oracle)', trade(-ETH, 59_700n * E8, WETH), true],
    ['ETH market buy at 60,300 (the BTC bound)', trade(ETH, 60_300n * E8, WETH), false],
  ])('%s', (_name, tx, ok) => {
    expect(verdict(tx).ok).toBe(ok);
  });

  it('refuses a trade that names no asset or an unknown one in a multi-asset context', () => {
    expect(verdict(trade(-ETH, 1_990n * E8))).toEqual({ ok: false, reason: 'trade bound names no asset: a multi-asset context cannot tell which price bounds it' });
    expect(verdict(trade(-ETH, 1_990n * E8, OTHER))).toEqual({ ok: false, reason: `trade of asset ${OTHER}, a token without a usable oracle price` });
  });

  it('the single-asset context accepts a trade naming WETH (or nothing), not another asset', () => {
    expect(verdict(trade(-ETH, 1_990n * E8), legacy).ok).toBe(true);
    expect(verdict(trade(-ETH, 1_990n * E8, WETH.toUpperCase().replace('0X', '0x')), legacy).ok).toBe(true);
    expect(verdict(trade(-ETH, 59_700n * E8, WBTC), legacy)).toEqual({ ok: false, reason: `trade of asset ${WBTC}: the single-asset context prices only WETH` });
  });
});

describe('what the portfolio venues build passes the multi-asset guard', () => {
  const asset = (id: string, token: `0x${string}`, decimals: number) => ({ id, token, decimals, feed: OTHER as `0x${string}`, heartbeatSec: 3600, wrapsNative: id === 'ETH' });
  const collateral = { triggerE18: 0n, targetE18: 0n, maxTopUpUnits: 0n, maxTopUpPerDayUnits: 0n };
  const perpSpec = { kind: 'perp', id: 'perp', exchange: EXCHANGE, markets: { ETH: 1n, BTC: 2n }, collateral } as const;
  const portfolio: Portfolio = {
    quote: { id: 'USDC', token: USDC, decimals: 6, feed: null },
    assets: [asset('ETH', WETH, 18), asset('BTC', WBTC, 8)],
    pools: [],
    venues: [perpSpec],
    instruments: [],
    policy: { assets: {}, cooldownSec: 0, maxSlippageBps: 50, includeNative: false },
  };
  const price = (priceE8: bigint) => ({ priceE8, updatedAtSec: 0n });
  const snapshot = { quotePriceE8: E8, prices: { ETH: price(2_000n * E8), BTC: price(60_000n * E8) } } as unknown as PortfolioSnapshot;
  const publicClient = { readContract: async () => 0n } as unknown as PortfolioBuildContext['publicClient'];
  const build: PortfolioBuildContext = { account: OTHER, publicClient, snapshot, portfolio, maxSlippageBps: 50, blockNumber: 1n };

  it('portfolioTxBoundsContext prices every asset and the quote', () => {
    expect(portfolioTxBoundsContext(portfolio, snapshot, 50)).toEqual({ ...ctx, weth: WETH, bridges: [] });
  });

  it('perp: a BTC short in 1e18 size units, bounded by the BTC price and naming WBTC; deposit and withdraw', async () => {
    expect(perpSizeE18(-BTC / 4n, 8)).toBe(-(ETH / 4n));
    const venue = createPerpPortfolioVenue(perpSpec, { portfolio });
    const venues = { perp: venue };
    const hedge = await buildPortfolioAction({ kind: 'adjustHedge', venue: 'perp', instrument: 'perp-btc', asset: 'BTC', sizeDeltaUnits: -BTC / 4n, reason: 't' }, venues, build);
    const topUp = await buildPortfolioAction({ kind: 'topUp', venue: 'perp', asset: 'BTC', amountUnits: 100n * U, reason: 't' }, venues, build);
    const move = await buildPortfolioAction({ kind: 'moveCollateral', from: 'perp', fromAsset: 'ETH', to: 'perp', toAsset: 'BTC', amountUnits: 5n * U, reason: 't' }, venues, build);
    const txs = [hedge, topUp, move].flatMap((b) => (b.status === 'ready' ? b.txs : []));
    expect(txs.map((t) => [t.functionName, t.args, t.bound])).toEqual([
      ['trade', [2n, -(ETH / 4n), 59_700n * E8], { kind: 'oracle-price', acceptablePriceE8: 59_700n * E8, asset: WBTC }],
      ['approve', [EXCHANGE, 2n ** 256n - 1n], none('approve')],
      ['deposit', [2n, 100n * U], none('collateral')],
      ['withdraw', [1n, 5n * U], none('collateral')],
      ['approve', [EXCHANGE, 2n ** 256n - 1n], none('approve')],
      ['deposit', [2n, 5n * U], none('collateral')],
    ]);
    for (const tx of txs) {
      expect(checkTxBounds(tx, ctx)).toEqual({ ok: true });
      expect(isAllowedCall(tx.address, tx.functionName, venue.allowList())).toBe(true);
    }
    // Without the asset it names, the multi-asset guard cannot price it.
    expect(checkTxBounds({ ...txs[0]!, bound: { kind: 'oracle-price', acceptablePriceE8: 59_700n * E8 } }, ctx).ok).toBe(false);
  });

  it('perp refuses a market it does not have, a null bucket, a zero size, a dead feed', async () => {
    const venue = createPerpPortfolioVenue({ ...perpSpec, markets: { ETH: 1n } }, { portfolio });
    const dead = { ...build, snapshot: { ...snapshot, prices: { ETH: price(0n) } } as unknown as PortfolioSnapshot };
    const cases = await Promise.all([
      venue.buildTxs({ kind: 'adjustHedge', venue: 'perp', instrument: 'i', asset: 'BTC', sizeDeltaUnits: -1n, reason: 't' }, build),
      venue.buildDeposit(1n, null, build),
      venue.buildTxs({ kind: 'adjustHedge', venue: 'perp', instrument: 'i', asset: 'ETH', sizeDeltaUnits: 0n, reason: 't' }, build),
      venue.buildTxs({ kind: 'adjustHedge', venue: 'perp', instrument: 'i', asset: 'ETH', sizeDeltaUnits: -ETH, reason: 't' }, dead),
    ]);
    expect(cases.map((c) => (c.status === 'refused' ? c.reason : 'ready'))).toEqual([
      'venue perp has no market for BTC',
      'venue perp has isolated margin: name the market\'s asset',
      'hedge trade of zero size',
      'no usable oracle price for ETH',
    ]);
  });

  it('aave swap bounds for any pair of decimals, exact and within the guard', () => {
    const wbtc: PricedToken = { symbol: 'BTC', token: WBTC, decimals: 8, priceE8: 60_000n * E8 };
    const usdc: PricedToken = { symbol: 'USDC', token: USDC, decimals: 6, priceE8: E8 };
    const weth: PricedToken = { symbol: 'ETH', token: WETH, decimals: 18, priceE8: 2_000n * E8 };
    expect(minOutUnitsAt(BTC / 10n, wbtc, usdc, 50)).toBe(5_970n * U);
    expect(maxInUnitsAt(BTC / 10n, usdc, wbtc, 50)).toBe(6_030n * U);
    // Rounded against the keeper: up for a minimum, down for a maximum.
    const odd = { ...wbtc, priceE8: 60_001n * E8 }; // one satoshi = 600.01 USDC units
    expect(minOutUnitsAt(1n, odd, usdc, 50)).toBe(598n); // 597.00995 -> 598
    expect(maxInUnitsAt(1n, usdc, odd, 50)).toBe(603n); // 603.01005 -> 603
    // The same numbers as the single-asset helpers for WETH/USDC.
    expect(minOutUnitsAt(ETH, weth, usdc, 50)).toBe(1_990n * U);
    expect(maxInUnitsAt(ETH, usdc, weth, 50)).toBe(2_010n * U);
    expect(verdict(exactIn(WBTC, USDC, BTC / 10n, minOutUnitsAt(BTC / 10n, wbtc, usdc, 50))).ok).toBe(true);
    expect(verdict(exactOut(USDC, WBTC, BTC / 10n, maxInUnitsAt(BTC / 10n, usdc, wbtc, 50))).ok).toBe(true);
    expect(verdict(exactIn(WBTC, USDC, BTC / 10n, minOutUnitsAt(BTC / 10n, wbtc, usdc, 60))).ok).toBe(false);
    expect(() => minOutUnitsAt(1n, { ...wbtc, priceE8: 0n }, usdc, 50)).toThrow(RangeError);
  });
});

describe('a deposit through a venue bridge (Hyperliquid): a token transfer that can pay only a configured bridge', () => {
  const BRIDGE = '0x2df1c51e09aecf9cacb7bc98cb1742757f163df7';
  const withBridge: TxBoundsContext = { ...ctx, bridges: [BRIDGE] };
  const transfer = (to: string, bound?: TxBound): Tx => ({ functionName: 'transfer', args: [to, 500n * U], bound: bound ?? { kind: 'bridge', recipient: to } });

  it('passes to the bridge the portfolio names', () => {
    expect(checkTxBounds(transfer(BRIDGE), withBridge)).toEqual({ ok: true });
  });
  it('refuses any other recipient, even one that declares itself a bridge', () => {
    expect(checkTxBounds(transfer(OTHER), withBridge)).toEqual({ ok: false, reason: `transfer to ${OTHER}: not a venue bridge of this portfolio` });
  });
  it('refuses a declaration that differs from the calldata', () => {
    expect(checkTxBounds(transfer(OTHER, { kind: 'bridge', recipient: BRIDGE }), withBridge)).toEqual({ ok: false, reason: `transfer to ${OTHER} differs from its declared bridge ${BRIDGE}` });
  });
  it('refuses every transfer without configured bridges, and in the single-asset context', () => {
    expect(checkTxBounds(transfer(BRIDGE), ctx).ok).toBe(false);
    expect(checkTxBounds(transfer(BRIDGE), legacy).ok).toBe(false);
  });
  it('refuses a transfer passed off as collateral', () => {
    expect(checkTxBounds(transfer(BRIDGE, none('collateral')), withBridge).ok).toBe(false);
  });
});
