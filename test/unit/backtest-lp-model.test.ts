import { describe, expect, it } from 'vitest';
import { createLpRange, lpAmountsAt, lpValueUnits } from '../../src/backtest/lp-model.js';
import { buildMarketTrack, type LpScenario, type MarketOptions } from '../../src/backtest/market.js';
import type { BacktestPath } from '../../src/backtest/path.js';
import { ewmaVolatility } from '../../src/core/risk/ewma.js';
import { positionBaseQuote, sqrtPriceX96AtTick, sqrtPriceX96FromPriceE8 } from '../../src/spot/uniswap-math.js';

const E8 = 10n ** 8n;
const USDC = 10n ** 6n;
const usd = (n: number): bigint => BigInt(Math.round(n * 1e8));

describe('LP model amounts = the SDK (positionBaseQuote) to the wei', () => {
  it.each([true, false])('baseIsToken0 %s, below / in / above range and on the boundary ticks', (baseIsToken0) => {
    const range = createLpRange({ priceE8: usd(2000), valueUnits: 100_000n * USDC, low: 0.8, high: 1.2, tickSpacing: 10, baseIsToken0 });
    const sqrts = [900, 1500, 1700, 1999.99, 2000, 2345.67, 2600, 5000].map((p) => sqrtPriceX96FromPriceE8(usd(p), baseIsToken0));
    sqrts.push(sqrtPriceX96AtTick(range.tickLower), sqrtPriceX96AtTick(range.tickUpper), sqrtPriceX96AtTick(range.tickUpper) - 1n);
    for (const sqrtPriceX96 of sqrts) {
      const sdk = positionBaseQuote({ liquidity: range.liquidity, tickLower: range.tickLower, tickUpper: range.tickUpper, sqrtPriceX96, baseIsToken0 });
      expect(lpAmountsAt(range, sqrtPriceX96)).toEqual(sdk);
    }
  });

  it('a $100,000 position at $2000, +-20%: value and composition match the closed form', () => {
    const range = createLpRange({ priceE8: usd(2000), valueUnits: 100_000n * USDC, low: 0.8, high: 1.2, tickSpacing: 10, baseIsToken0: false });
    const a = lpAmountsAt(range, sqrtPriceX96FromPriceE8(usd(2000), false));
    const value = lpValueUnits(a, usd(2000));
    expect(value <= 100_000n * USDC && value > 99_999n * USDC).toBe(true);
    // Human units, range [pa, pb] from the ticks: base = L (1/sqrt p - 1/sqrt pb), quote = L (sqrt p - sqrt pa).
    const pa = 1e12 / 1.0001 ** range.tickUpper;
    const pb = 1e12 / 1.0001 ** range.tickLower;
    const f = (1 / Math.sqrt(2000) - 1 / Math.sqrt(pb)) * 2000 + (Math.sqrt(2000) - Math.sqrt(pa));
    const l = 100_000 / f;
    expect(Number(a.amountBaseWei) / 1e18).toBeCloseTo(l * (1 / Math.sqrt(2000) - 1 / Math.sqrt(pb)), 4);
    expect(Number(a.amountQuoteUnits) / 1e6).toBeCloseTo(l * (Math.sqrt(2000) - Math.sqrt(pa)), 0);
  });
});

function pathOf(prices: number[], stepSec = 3600): BacktestPath {
  return { source: 'test', intervalSec: stepSec, steps: prices.map((p, i) => ({ timeSec: 1_600_000_000 + i * stepSec, priceE8: usd(p), isClose: true })) };
}

const lp: LpScenario = { valueUsd: 100_000, low: 0.8, high: 1.2, tickSpacing: 10, baseIsToken0: false, recenter: 'notional', feeAprPct: 0 };
const tx = { gasPriceGwei: 10, gas: { hedgeTrade: 150_000, topUp: 100_000, recenter: 500_000 } };
/** One episode over the whole path. */
function track(path: BacktestPath, o: Partial<MarketOptions> & { lp: LpScenario }) {
  const t = buildMarketTrack(path, [{ startStep: 0, endStep: path.steps.length - 1 }], { tx, slippageBps: 5, ...o });
  return { ...t.episodes[0]!, volAnnual: t.volAnnual };
}

describe('market track', () => {
  it("'notional' recentering re-mints at the notional; the inflow is notional - (value - costs)", () => {
    const t = track(pathOf([2000, 2100, 2500, 2500]), { lp });
    expect(t.recenterSteps).toEqual([2]);
    expect(t.lpInRange[2]).toBe(1);
    // Above the range the position is all USDC: value = quote. Re-minting swaps to the new
    // composition (slippage on that base amount) and pays 500k gas at 10 gwei at $2500.
    const old = lpAmountsAt(t.ranges[0]!, sqrtPriceX96FromPriceE8(usd(2500), false));
    expect(old.amountBaseWei).toBe(0n);
    const gasUnits = (500_000n * 10n ** 10n * usd(2500)) / 10n ** 20n;
    expect(gasUnits).toBe(12_500_000n); // $12.50
    const fresh = lpAmountsAt(t.ranges[1]!, sqrtPriceX96FromPriceE8(usd(2500), false));
    const slippage = (fresh.amountBaseWei * usd(2500) * 500n) / (10n ** 20n * 1_000_000n);
    expect(slippage).toBeGreaterThan(10n * USDC);
    expect(t.lpRecenterCostUnits[2]).toBe(gasUnits + slippage);
    expect(t.lpInflowUnits[2]).toBe(100_000n * USDC - (old.amountQuoteUnits - t.lpRecenterCostUnits[2]!));
    expect(t.lpInflowUnits[3]).toBe(0n);
  });

  it("'off' leaves it out of range; fees accrue only in range at the APR", () => {
    const t = track(pathOf([2000, 2000, 2500]), { lp: { ...lp, recenter: 'off', feeAprPct: 8.76 } });
    expect(t.recenterSteps).toEqual([]);
    expect([...t.lpInRange]).toEqual([1, 1, 0]);
    // One hour in range at 8.76% a year on ~$100,000: 100000 * 0.0876 / 8760 = $1.00 (value just under $100k).
    expect(Number(t.lpFeesUnits[1])).toBeGreaterThan(999_000);
    expect(t.lpFeesUnits[1]! <= 1_000_000n).toBe(true);
    expect(t.lpFeesUnits[2]).toBe(t.lpFeesUnits[1]);
    expect(t.gammaBasePerUsd[0]).toBeLessThan(0);
    expect(t.gammaBasePerUsd[2]).toBe(0);
  });

  it('volatility: unknown during warm-up, then the EWMA of the closes seen so far (no look-ahead)', () => {
    const prices = Array.from({ length: 40 }, (_, i) => 2000 * Math.exp(0.01 * Math.sin(i * 1.7) + 0.002 * i));
    const t = track(pathOf(prices), { lp, slippageBps: 0, volWarmup: 10, ewmaLambda: 0.9 });
    const r = prices.slice(1).map((p, i) => Math.log(Number(usd(p)) / Number(usd(prices[i]!))));
    expect(Number.isNaN(t.volAnnual[9]!)).toBe(true);
    const { variances } = ewmaVolatility(r, { lambda: 0.9, seedCount: 10 });
    // Step 10 has seen returns 0..9.
    expect(t.volAnnual[10]).toBeCloseTo(Math.sqrt(variances[9]! * 8760), 12);
    expect(t.volAnnual[39]).toBeCloseTo(Math.sqrt(variances[38]! * 8760), 12);
  });

  it('is unchanged by E8 rounding of a price exactly on a tick', () => {
    const range = createLpRange({ priceE8: 2000n * E8, valueUnits: 1000n * USDC, low: 0.95, high: 1.05, tickSpacing: 60, baseIsToken0: true });
    const onTick = lpAmountsAt(range, sqrtPriceX96AtTick(range.tickLower));
    expect(onTick.inRange).toBe(true);
    expect(onTick.amountQuoteUnits).toBe(0n);
  });
});
