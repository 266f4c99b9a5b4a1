import { describe, expect, it } from 'vitest';
import { checkTxBounds, knownTxFunctions, type TxBound, type TxBoundsContext } from '../../src/core/guard-tx.js';
import { isAllowedCall } from '../../src/core/guard.js';
import type { OracleReading } from '../../src/core/types.js';
import { createPerpVenue } from '../../src/venues/perp.js';
import { buyWethTx, maxAmountInUnits, minAmountOutUnits, sellWethTx, type SwapVenue } from '../../src/venues/aave-swap.js';
import type { BuildContext, TxRequest } from '../../src/venues/types.js';

const WETH = '0x00000000000000000000000000000000000000aa';
const USDC = '0x00000000000000000000000000000000000000bb';
const E8 = 10n ** 8n;
const ETH = 10n ** 18n;
const U = 10n ** 6n;
const ctx: TxBoundsContext = { priceE8: 2_000n * E8, quotePriceE8: E8, maxSlippageBps: 50, weth: WETH, usdc: USDC };

type Tx = { functionName: string; args: readonly unknown[]; bound?: TxBound };
const none = (why: 'approve' | 'collateral' | 'debt'): TxBound => ({ kind: 'none', why });
const trade = (size: bigint, acceptable: bigint, bound: TxBound = { kind: 'oracle-price', acceptablePriceE8: acceptable }): Tx => ({
  functionName: 'trade',
  args: [1n, size, acceptable],
  bound,
});
const sell = (amountOutMinimum: bigint, quotedAmount = amountOutMinimum, limitAmount = amountOutMinimum): Tx => ({
  functionName: 'exactInputSingle',
  args: [{ tokenIn: WETH, tokenOut: USDC, amountIn: ETH, amountOutMinimum }],
  bound: { kind: 'quote', quotedAmount, limitAmount },
});
const buy = (amountInMaximum: bigint, quotedAmount = amountInMaximum): Tx => ({
  functionName: 'exactOutputSingle',
  args: [{ tokenIn: USDC, tokenOut: WETH, amountOut: ETH, amountInMaximum }],
  bound: { kind: 'quote', quotedAmount, limitAmount: amountInMaximum },
});
const verdict = (tx: Tx, c: TxBoundsContext = ctx) => checkTxBounds(tx, c);

describe('checkTxBounds denies by default', () => {
  it.each(['transfer', 'transferFrom', 'setApprovalForAll', 'multicall', 'withdraw', 'liquidate', 'constructor', '__proto__', 'toString', ''])(
    'refuses %j, a function it does not know, whatever it declares',
    (functionName) => {
      for (const bound of [none('approve'), none('collateral'), { kind: 'oracle-price', acceptablePriceE8: 2_000n * E8 } as const, undefined]) {
        const v = verdict({ functionName, args: [WETH, 1n], bound });
        expect(v.ok).toBe(false);
        expect(!v.ok && v.reason).toContain(`${functionName} is not a function the transaction guard knows`);
      }
    },
  );

  it.each<[string, unknown]>([
    ['no declaration', undefined],
    ['null', null],
    ['an unknown kind', { kind: 'trust-me' }],
    ['none without a reason', { kind: 'none' }],
    ['none with an unknown reason', { kind: 'none', why: 'because' }],
  ])('refuses a known function (approve) that declares %s', (_name, bound) => {
    const v = verdict({ functionName: 'approve', args: [WETH, 1n], bound: bound as TxBound });
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(/^approve declares no bound the transaction guard knows/);
  });

  it.each<[string, Tx, RegExp]>([
    ['a trade declaring no price bound', trade(-ETH, 1_990n * E8, none('approve')), /trade declares a none \(approve\) bound; the guard requires oracle-price/],
    ['a swap declaring an oracle price', { ...sell(1_990n * U), bound: { kind: 'oracle-price', acceptablePriceE8: 1n } }, /requires quote/],
    ['an approve passed off as a swap', { functionName: 'approve', args: [WETH, 1n], bound: { kind: 'quote', quotedAmount: 1n, limitAmount: 1n } }, /requires none \(approve\)/],
    ['a deposit declared as debt', { functionName: 'deposit', args: [1n, 1n], bound: none('debt') }, /requires none \(collateral\)/],
    ['a borrow declared as collateral', { functionName: 'borrow', args: [], bound: none('collateral') }, /requires none \(debt\)/],
  ])('refuses a declaration that does not fit the function: %s', (_name, tx, reason) => {
    const v = verdict(tx);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(reason);
  });

  it('refuses a declaration that differs from the calldata, or a quote that breaks its own limit', () => {
    const lying = trade(-ETH, 1_000n * E8, { kind: 'oracle-price', acceptablePriceE8: 1_995n * E8 });
    expect(verdict(lying)).toEqual({ ok: false, reason: 'trade calldata accepts price 100000000000, its declared bound is 199500000000' });
    expect(verdict(sell(1_990n * U, 1_995n * U, 1_995n * U))).toMatchObject({ ok: false, reason: expect.stringMatching(/amountOutMinimum 1990000000 differs from its declared limit 1995000000/) });
    expect(verdict(sell(1_990n * U, 1_989n * U))).toMatchObject({ ok: false, reason: expect.stringMatching(/quote 1989000000 does not meet its own amountOutMinimum 1990000000/) });
    expect(verdict(buy(2_010n * U, 2_011n * U))).toMatchObject({ ok: false, reason: expect.stringMatching(/quote 2011000000 does not meet its own amountInMaximum/) });
    expect(verdict({ functionName: 'exactInputSingle', args: [], bound: { kind: 'quote', quotedAmount: 1n, limitAmount: 1n } }).ok).toBe(false);
  });

  it('refuses everything, approvals included, without a usable oracle price', () => {
    for (const c of [{ ...ctx, priceE8: 0n }, { ...ctx, quotePriceE8: -1n }]) {
      expect(verdict({ functionName: 'approve', args: [WETH, 1n], bound: none('approve') }, c)).toEqual({ ok: false, reason: 'no usable oracle price to bound the transaction' });
    }
  });
});

describe('checkTxBounds still checks the known functions', () => {
  it('knows exactly the functions the venues send', () => {
    expect(knownTxFunctions().sort()).toEqual(['approve', 'borrow', 'deposit', 'exactInputSingle', 'exactOutputSingle', 'repay', 'supply', 'trade']);
  });

  it.each<[string, Tx, boolean]>([
    ['perp sell at -0.5%', trade(-ETH, 1_990n * E8), true],
    ['perp sell at -0.6%', trade(-ETH, 1_988n * E8), false],
    ['perp buy at +0.5%', trade(ETH, 2_010n * E8), true],
    ['perp buy at +0.6%', trade(ETH, 2_012n * E8), false],
    ['sell WETH, min out -0.5%, quoted above it', sell(1_990n * U, 1_996n * U), true],
    ['sell WETH, min out 0 (unbounded)', sell(0n), false],
    ['buy WETH, max in +0.5%, quoted under it', buy(2_010n * U, 2_004n * U), true],
    ['buy WETH, max in +1%', buy(2_020n * U, 2_004n * U), false],
    ['approve', { functionName: 'approve', args: [WETH, 1n], bound: none('approve') }, true],
    ['perp deposit', { functionName: 'deposit', args: [1n, 1n], bound: none('collateral') }, true],
    ['aave supply', { functionName: 'supply', args: [], bound: none('collateral') }, true],
    ['aave borrow', { functionName: 'borrow', args: [], bound: none('debt') }, true],
    ['aave repay', { functionName: 'repay', args: [], bound: none('debt') }, true],
  ])('%s', (_name, tx, ok) => {
    expect(verdict(tx).ok).toBe(ok);
  });

  it('a swap of another pair is refused even with a fitting quote', () => {
    const other = { ...sell(ETH), args: [{ tokenIn: WETH, tokenOut: '0x00000000000000000000000000000000000000cc', amountIn: ETH, amountOutMinimum: ETH }] };
    expect(verdict(other)).toMatchObject({ ok: false, reason: expect.stringMatching(/is not the hedged WETH\/USDC pair/) });
  });
});

describe('what the venues build declares its bounds and passes the guard', () => {
  const oracle = { priceE8: 2_000n * E8, quotePriceE8: E8, updatedAtSec: 0n } as OracleReading;
  const passes = (txs: readonly TxRequest[], allowList: Parameters<typeof isAllowedCall>[2]) =>
    txs.map((tx) => ({ fn: tx.functionName, bound: tx.bound.kind, ok: checkTxBounds(tx, ctx).ok, allowed: isAllowedCall(tx.address, tx.functionName, allowList) }));

  it('perp: approve + deposit, trade', async () => {
    const venue = createPerpVenue({ exchange: '0x00000000000000000000000000000000000000e1', marketId: 1n, usdc: USDC });
    const publicClient = { readContract: async () => 0n } as unknown as BuildContext['publicClient'];
    const build: BuildContext = { account: WETH, publicClient, oracle, maxSlippageBps: 50, blockNumber: 1n };
    const topUp = await venue.buildTxs({ kind: 'topUp', amountUnits: 100n * U, reason: 'test' }, build);
    const hedge = await venue.buildTxs({ kind: 'adjustHedge', sizeDeltaWei: -ETH, reason: 'test' }, build);
    const txs = [...(topUp.status === 'ready' ? topUp.txs : []), ...(hedge.status === 'ready' ? hedge.txs : [])];
    expect(passes(txs, venue.allowList())).toEqual([
      { fn: 'approve', bound: 'none', ok: true, allowed: true },
      { fn: 'deposit', bound: 'none', ok: true, allowed: true },
      { fn: 'trade', bound: 'oracle-price', ok: true, allowed: true },
    ]);
  });

  it('aave swaps: the quote and the oracle-derived limit travel with the transaction', () => {
    const s: SwapVenue = { swapRouter: '0x00000000000000000000000000000000000000d3', quoter: '0x00000000000000000000000000000000000000d4', weth: WETH, usdc: USDC, fee: 500 };
    const minOutUnits = minAmountOutUnits(ETH, oracle, 50);
    const maxInUnits = maxAmountInUnits(ETH, oracle, 50);
    const sellTx = sellWethTx(s, { recipient: WETH, deadlineSec: 1n, amountInWei: ETH, minOutUnits, quotedOutUnits: 1_995n * U });
    const buyTx = buyWethTx(s, { recipient: WETH, deadlineSec: 1n, amountOutWei: ETH, maxInUnits, quotedInUnits: 2_003n * U });
    expect(sellTx.bound).toEqual({ kind: 'quote', quotedAmount: 1_995n * U, limitAmount: minOutUnits });
    expect(passes([sellTx, buyTx], [{ target: s.swapRouter, functions: ['exactInputSingle', 'exactOutputSingle'] }]).map((r) => r.ok && r.allowed)).toEqual([true, true]);
    // A quote worse than the limit (the venue checks it before building; the guard checks again).
    expect(checkTxBounds({ ...sellTx, bound: { ...sellTx.bound, quotedAmount: minOutUnits - 1n } as TxBound }, ctx).ok).toBe(false);
  });
});
