import { describe, expect, it } from 'vitest';
import { maxUint256 } from 'viem';
import type { ChainAddresses } from '../../src/config.js';
import type { Address, OracleReading } from '../../src/core/types.js';
import {
  checkBuyQuote,
  checkSellQuote,
  maxAmountInUnits,
  minAmountOutUnits,
  slippageBps,
} from '../../src/venues/aave-swap.js';
import { createAaveVenue, parseAaveAccount } from '../../src/venues/aave.js';
import type { BuildContext, TxRequest } from '../../src/venues/types.js';

const E8 = 10n ** 8n;
const WEI = 10n ** 18n;
const USDC = 10n ** 6n;
const oracle = (priceE8: bigint, quotePriceE8 = E8): OracleReading => ({ priceE8, quotePriceE8, updatedAtSec: 0n });

describe('swap bounds from the oracle (never looser than maxSlippageBps)', () => {
  it.each([
    // amount, ETH price, USDC price, bps -> min out (sell), max in (buy)
    { wei: WEI, p: 2_000n * E8, q: E8, bps: 50, minOut: 1_990n * USDC, maxIn: 2_010n * USDC },
    { wei: WEI, p: 2_000n * E8, q: E8, bps: 0, minOut: 2_000n * USDC, maxIn: 2_000n * USDC },
    // 1 wei at $2000 is worth 2e-15 USDC: the sale must still return at least 1 unit, the buy may pay 0.
    { wei: 1n, p: 2_000n * E8, q: E8, bps: 50, minOut: 1n, maxIn: 0n },
    // 0.333... ETH at $1999.99999999: 666.666666... USDC, exact bounds rounded up / down.
    { wei: WEI / 3n, p: 199_999_999_999n, q: E8, bps: 30, minOut: 664_666_667n, maxIn: 668_666_666n },
    // USDC at $0.98: ETH costs 2040.816... USDC, and the bound follows it (a depeg does not loosen it).
    { wei: WEI, p: 2_000n * E8, q: 98_000_000n, bps: 50, minOut: 2_030_612_245n, maxIn: 2_051_020_408n },
    { wei: 0n, p: 2_000n * E8, q: E8, bps: 50, minOut: 0n, maxIn: 0n },
  ])('$wei wei at $p / $q, $bps bps -> min $minOut, max $maxIn', ({ wei, p, q, bps, minOut, maxIn }) => {
    expect(minAmountOutUnits(wei, oracle(p, q), bps)).toBe(minOut);
    expect(maxAmountInUnits(wei, oracle(p, q), bps)).toBe(maxIn);
  });

  it('rounds against the keeper: min out is the ceiling, max in the floor, of the exact bound', () => {
    const o = oracle(123_456_789_012n, 99_987_654n);
    for (const wei of [1n, 7n, 10n ** 12n + 3n, 12_345_678_901_234_567n, 999n * WEI + 1n]) {
      for (const bps of [1, 30, 50, 333, 9_999]) {
        const minOut = minAmountOutUnits(wei, o, bps);
        const maxIn = maxAmountInUnits(wei, o, bps);
        // exact = wei * p * (1e4 -/+ bps) * 1e8 / (1e20 * 1e4 * q); compare without dividing.
        const den = 10n ** 20n * 10_000n * o.quotePriceE8;
        const sellNum = wei * o.priceE8 * (10_000n - BigInt(bps)) * E8;
        const buyNum = wei * o.priceE8 * (10_000n + BigInt(bps)) * E8;
        expect(minOut * den).toBeGreaterThanOrEqual(sellNum);
        expect((minOut - 1n) * den).toBeLessThan(sellNum);
        expect(maxIn * den).toBeLessThanOrEqual(buyNum);
        expect((maxIn + 1n) * den).toBeGreaterThan(buyNum);
      }
    }
  });

  it('refuses unusable inputs instead of producing a bound of 0', () => {
    expect(() => minAmountOutUnits(WEI, oracle(0n), 50)).toThrow(/oracle price/);
    expect(() => maxAmountInUnits(WEI, oracle(2_000n * E8, 0n), 50)).toThrow(/oracle price/);
    expect(() => minAmountOutUnits(-1n, oracle(E8), 50)).toThrow(/negative/);
    expect(() => minAmountOutUnits(WEI, oracle(E8), 10_000)).toThrow(/maxSlippageBps/);
    expect(() => maxAmountInUnits(WEI, oracle(E8), 1.5)).toThrow(/maxSlippageBps/);
  });
});

describe('quote checks', () => {
  it.each([
    { quoted: 1_990n * USDC, min: 1_990n * USDC, ok: true },
    { quoted: 1_990n * USDC - 1n, min: 1_990n * USDC, ok: false },
    { quoted: 0n, min: 1n, ok: false },
  ])('sell: quote $quoted vs min $min -> ok=$ok', ({ quoted, min, ok }) => {
    expect(checkSellQuote(quoted, min, 50) === null).toBe(ok);
  });

  it.each([
    { quoted: 2_010n * USDC, max: 2_010n * USDC, ok: true },
    { quoted: 2_010n * USDC + 1n, max: 2_010n * USDC, ok: false },
  ])('buy: quote $quoted vs max $max -> ok=$ok', ({ quoted, max, ok }) => {
    expect(checkBuyQuote(quoted, max, 50) === null).toBe(ok);
  });

  it('says how far off the quote is', () => {
    // Oracle value 2000, bound 1990 (50 bps); a quote of 1900 is 500 bps under the oracle.
    expect(checkSellQuote(1_900n * USDC, 1_990n * USDC, 50)).toBe(
      'quote 1900.00 USDC is below the minimum 1990.00 USDC (oracle value less 50 bps; the quote is 500 bps off): not sent',
    );
    expect(checkBuyQuote(2_100n * USDC, 2_010n * USDC, 50)).toMatch(/exceeds the maximum 2010\.00 USDC .*500 bps off/);
    expect(slippageBps(1_900n, 2_000n, 'sell')).toBe(500n);
    expect(slippageBps(2_100n, 2_000n, 'sell')).toBe(-500n); // better than the oracle
    expect(slippageBps(2_100n, 2_000n, 'buy')).toBe(500n);
  });
});

describe('parseAaveAccount', () => {
  const config = [6n, 7_700n, 8_000n, 10_500n, 1_000n, true, true, false, true, false] as const;
  it("uses the account's weighted threshold and LTV while it has collateral", () => {
    const data = [5_000_000_000_000n, 3_000_000_000_000n, 0n, 8_500n, 8_200n, 1_416_666_666_666_666_667n] as const;
    const acct = parseAaveAccount([50_000n * USDC, 15n * WEI, data, config, 2_000n * E8, E8]);
    expect(acct).toEqual({
      venue: 'aave',
      debtWei: 15n * WEI,
      collateralUnits: 50_000n * USDC,
      totalCollateralBaseE8: 5_000_000_000_000n,
      totalDebtBaseE8: 3_000_000_000_000n,
      liquidationThresholdBps: 8_500n, // e.g. under e-mode: the account's figure, not the reserve's 8000
      ltvBps: 8_200n,
      healthFactorE18: 1_416_666_666_666_666_667n,
      aaveWethPriceE8: 2_000n * E8,
      aaveUsdcPriceE8: E8,
    });
  });

  it("falls back to the USDC reserve's figures without collateral (Aave reports 0 then)", () => {
    const data = [0n, 0n, 0n, 0n, 0n, maxUint256] as const;
    const acct = parseAaveAccount([0n, 0n, data, config, 2_000n * E8, E8]);
    expect(acct.liquidationThresholdBps).toBe(8_000n);
    expect(acct.ltvBps).toBe(7_700n);
    expect(acct.healthFactorE18).toBe(maxUint256);
  });

  it('rejects results of the wrong shape', () => {
    expect(() => parseAaveAccount([undefined, 0n, [], config, 1n, 1n])).toThrow(/unexpected read results/);
  });
});

/** A stub chain: the provider and data provider resolve, quotes and balances are set per test. */
function stubClient(s: { quoteOut?: bigint; quoteIn?: bigint; quoteThrows?: boolean; debtWei?: bigint; usdcUnits?: bigint; allowance?: bigint }) {
  const addr = (n: number): Address => `0x${n.toString(16).padStart(40, '0')}`;
  const calls: string[] = [];
  const client = {
    async readContract(p: { functionName: string; address: Address }) {
      calls.push(p.functionName);
      switch (p.functionName) {
        case 'getPool': return addr(0xa1);
        case 'getPriceOracle': return addr(0xa2);
        case 'getPoolDataProvider': return addr(0xa3);
        case 'getReserveTokensAddresses': return [addr(0xb1), addr(0xb2), addr(0xb3)];
        case 'BASE_CURRENCY_UNIT': return E8;
        case 'fee': return 500;
        case 'allowance': return s.allowance ?? maxUint256;
        case 'balanceOf': return p.address === addr(0xb3) ? (s.debtWei ?? 0n) : (s.usdcUnits ?? 0n);
        default: throw new Error(`unexpected read ${p.functionName}`);
      }
    },
    async simulateContract(p: { functionName: string }) {
      calls.push(p.functionName);
      if (s.quoteThrows) throw new Error('SPL');
      return { result: [p.functionName === 'quoteExactInputSingle' ? s.quoteOut : s.quoteIn, 0n, 0, 0n] };
    },
    async getBlock() {
      return { timestamp: 1_000n };
    },
  };
  return { client, calls };
}

const ADDRESSES: ChainAddresses = {
  oracleFeed: '0x00000000000000000000000000000000000000f1',
  usdcFeed: null,
  weth: '0x00000000000000000000000000000000000000c1',
  usdc: '0x00000000000000000000000000000000000000c2',
  uniswapPositionManager: '0x00000000000000000000000000000000000000d1',
  uniswapPool: '0x00000000000000000000000000000000000000d2',
  uniswapSwapRouter: '0x00000000000000000000000000000000000000d3',
  uniswapQuoter: '0x00000000000000000000000000000000000000d4',
  perpExchange: null,
  aavePoolAddressesProvider: '0x00000000000000000000000000000000000000e1',
};

async function build(stub: ReturnType<typeof stubClient>, sizeDeltaWei: bigint) {
  const publicClient = stub.client as unknown as BuildContext['publicClient'];
  const venue = await createAaveVenue({ addresses: ADDRESSES, publicClient });
  const ctx: BuildContext = { account: '0x00000000000000000000000000000000000000aa', publicClient, oracle: oracle(2_000n * E8), maxSlippageBps: 50, blockNumber: 7n };
  return venue.buildTxs({ kind: 'adjustHedge', sizeDeltaWei, reason: 'test' }, ctx);
}

const shape = (txs: TxRequest[]) => txs.map((t) => `${t.functionName}@${t.address.slice(-2)}`);

describe('createAaveVenue.buildTxs (stub chain)', () => {
  it('short more: borrow then sell, the minimum from the oracle', async () => {
    const built = await build(stubClient({ quoteOut: 1_995n * USDC }), -WEI);
    expect(built.status).toBe('ready');
    const txs = built.status === 'ready' ? built.txs : [];
    expect(shape(txs)).toEqual(['borrow@a1', 'exactInputSingle@d3']);
    expect(txs[0]?.args).toEqual([ADDRESSES.weth, WEI, 2n, 0, '0x00000000000000000000000000000000000000aa']);
    expect(txs[1]?.args[0]).toMatchObject({ amountIn: WEI, amountOutMinimum: 1_990n * USDC, fee: 500, deadline: 1_600n });
  });

  it('short more: a quote under the minimum is refused before any tx is built', async () => {
    const stub = stubClient({ quoteOut: 1_990n * USDC - 1n, allowance: 0n });
    const built = await build(stub, -WEI);
    expect(built).toMatchObject({ status: 'refused', label: 'uniswap.exactInputSingle WETH->USDC' });
    expect(built.status === 'refused' && built.reason).toMatch(/below the minimum 1990\.00 USDC/);
    expect(stub.calls).not.toContain('allowance');
  });

  it('a quoter failure is a refusal, not a crash', async () => {
    const built = await build(stubClient({ quoteThrows: true }), -WEI);
    expect(built).toMatchObject({ status: 'refused' });
    expect(built.status === 'refused' && built.reason).toMatch(/cannot quote selling.*SPL/);
  });

  it('short less: buy then repay, never more than the debt; approvals only when short', async () => {
    const stub = stubClient({ quoteIn: 1_000n * USDC, debtWei: WEI / 2n, usdcUnits: 10_000n * USDC, allowance: 0n });
    const built = await build(stub, WEI);
    const txs = built.status === 'ready' ? built.txs : [];
    expect(shape(txs)).toEqual(['approve@c2', 'approve@c1', 'exactOutputSingle@d3', 'repay@a1']);
    expect(txs[2]?.args[0]).toMatchObject({ amountOut: WEI / 2n, amountInMaximum: 1_005n * USDC });
    expect(txs[3]?.args).toEqual([ADDRESSES.weth, WEI / 2n, 2n, '0x00000000000000000000000000000000000000aa']);
  });

  it('short less: refused over the maximum, without debt, or without the USDC to pay', async () => {
    const over = await build(stubClient({ quoteIn: 2_010n * USDC + 1n, debtWei: WEI, usdcUnits: 10_000n * USDC }), WEI);
    expect(over.status === 'refused' && over.reason).toMatch(/exceeds the maximum 2010\.00 USDC/);
    const none = await build(stubClient({ quoteIn: 1n, debtWei: 0n }), WEI);
    expect(none).toMatchObject({ status: 'refused', reason: 'no WETH debt to repay' });
    const poor = await build(stubClient({ quoteIn: 2_000n * USDC, debtWei: WEI, usdcUnits: 1_999n * USDC }), WEI);
    expect(poor.status === 'refused' && poor.reason).toMatch(/needs 2000\.00 USDC, the wallet holds 1999\.00 USDC/);
  });

  it('is wired by configuration: without a quoter it refuses to start', async () => {
    const publicClient = stubClient({}).client as unknown as BuildContext['publicClient'];
    await expect(createAaveVenue({ addresses: { ...ADDRESSES, uniswapQuoter: null }, publicClient })).rejects.toThrow(/UNISWAP_QUOTER/);
  });
});
