import { describe, expect, it } from 'vitest';
import {
  accountValueUnits, accrueFunding, createPerpState, depositMargin, liquidateIfDue, pendingFundingUnits, perpAccountView,
  perpParams, tradePerp, type PerpState,
} from '../../src/backtest/perp-model.js';
import { liquidationPriceE8, perpTradeFeeUnits } from '../../src/core/margin.js';

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;
const usd = (n: number): bigint => BigInt(Math.round(n * 1e8));
const p = perpParams({ fundingAprPaidByShorts: 0.1 });
const noFunding = perpParams();

/** A short of `eth` opened at `price` with `margin` USDC deposited first. */
function short(eth: bigint, price: number, marginUsd: bigint, params = noFunding): PerpState {
  const s = createPerpState(0);
  depositMargin(s, marginUsd * USDC);
  const r = tradePerp(s, params, -eth * ETH, usd(price));
  expect(r.status).toBe('ok');
  return s;
}

describe('perp model: fees and fills (PerpExchange arithmetic)', () => {
  it('taker fee 5 bps: 10 ETH at $2000 costs $10, out of margin', () => {
    const s = short(10n, 2000, 5000n);
    expect(s).toMatchObject({ sizeWei: -10n * ETH, entryPriceE8: usd(2000), marginUnits: 4990n * USDC });
  });

  it('the fee rounds up to the next USDC unit, like the contract and the planner', () => {
    const s = createPerpState(0);
    depositMargin(s, 100n * USDC);
    const r = tradePerp(s, noFunding, -1n, usd(1)); // 1 wei at $1: 5e-22 USDC -> 1 unit
    expect(r).toMatchObject({ status: 'ok', feeUnits: 1n });
    const big = short(1n, 1234.56789, 1_000_000n);
    const view = perpAccountView(big, noFunding, usd(1234.56789));
    const fill = tradePerp(big, noFunding, -(3n * ETH + 7n), usd(1234.56789));
    // (3e18 + 7) * 123456789000 * 5 / 1e24 = 1851851.835... -> 1851852
    expect(fill).toMatchObject({ status: 'ok', feeUnits: 1_851_852n });
    expect(perpTradeFeeUnits(view, -(3n * ETH + 7n), usd(1234.56789))).toBe(1_851_852n);
  });

  it('buying back part of a short realizes its PnL: 4 of 10 ETH from $2000 at $1900 = +$400, fee $3.80', () => {
    const s = short(10n, 2000, 5000n);
    const r = tradePerp(s, noFunding, 4n * ETH, usd(1900));
    expect(r).toMatchObject({ status: 'ok', realizedUnits: 400n * USDC, feeUnits: 3_800_000n });
    expect(s).toMatchObject({ sizeWei: -6n * ETH, entryPriceE8: usd(2000), marginUnits: 4990n * USDC + 400n * USDC - 3_800_000n });
  });

  it('adding to a short averages the entry, rounded down for shorts', () => {
    const s = short(1n, 2000, 5000n);
    tradePerp(s, noFunding, -2n * ETH, usd(2000.00000001));
    // (1 * 2000e8 + 2 * 200000000001) / 3 = 200000000000.67 -> floor
    expect(s.entryPriceE8).toBe(200_000_000_000n);
  });

  it('a risk-increasing trade under the 10% initial margin reverts and changes nothing', () => {
    const s = createPerpState(0);
    depositMargin(s, 150n * USDC);
    const before = { ...s };
    const r = tradePerp(s, noFunding, -10n * ETH, usd(2000));
    expect(r.status).toBe('revert');
    expect(s).toEqual(before);
  });

  it('reducing is allowed under the initial margin', () => {
    const s = short(10n, 2000, 2100n);
    expect(perpAccountView(s, noFunding, usd(2150)).marginRatioE18).toBeLessThan(10n ** 17n / 2n);
    expect(tradePerp(s, noFunding, 5n * ETH, usd(2150)).status).toBe('ok');
  });
});

describe('perp model: funding', () => {
  it('10% a year paid by shorts: a 10 ETH short at $2000 owes 20000 * 0.1 / 365 = $5.479452 a day', () => {
    expect(p.fundingRatePerSecE18).toBe(-3_170_979_198n);
    const s = short(10n, 2000, 5000n, p);
    accrueFunding(s, p, 86_400, usd(2000));
    // 10e18 * 3170979198 * 86400 * 2000e8 / 1e38 = 5.47945205...; rounded up against the trader.
    expect(pendingFundingUnits(s)).toBe(5_479_453n);
    expect(accountValueUnits(s, usd(2000))).toBe(4990n * USDC - 5_479_453n);
    // Settled into margin by the next interaction.
    depositMargin(s, 1n);
    expect(s.marginUnits).toBe(4990n * USDC - 5_479_453n + 1n);
    expect(pendingFundingUnits(s)).toBe(0n);
  });

  it('a long receives what shorts pay (rounded against it: toward zero)', () => {
    const s = createPerpState(0);
    depositMargin(s, 5000n * USDC);
    tradePerp(s, p, 10n * ETH, usd(2000));
    accrueFunding(s, p, 86_400, usd(2000));
    expect(pendingFundingUnits(s)).toBe(-5_479_452n);
  });
});

describe('perp model: liquidation', () => {
  // Short 10 ETH at $2000 with $2000 of value (exactly the 10% initial margin):
  // ratio = (2000 - 10 (P - 2000)) / (10 P) < 5% for P > 22000 / 10.5 = 2095.238.
  const open = (): PerpState => {
    const s = short(10n, 2000, 2010n);
    expect(accountValueUnits(s, usd(2000))).toBe(2000n * USDC);
    return s;
  };

  it('not at $2095 (ratio 5.01%)', () => {
    expect(liquidateIfDue(open(), noFunding, usd(2095))).toBeNull();
  });

  it('at $2100: closed, the liquidator takes 1% of $21,000 notional, $790 stays', () => {
    const s = open();
    expect(liquidateIfDue(s, noFunding, usd(2100))).toEqual({
      closedSizeWei: -10n * ETH, penaltyUnits: 210n * USDC, penaltyPaidUnits: 210n * USDC, badDebtUnits: 0n, fundingPaidUnits: 0n,
    });
    expect(s).toMatchObject({ sizeWei: 0n, entryPriceE8: 0n, marginUnits: 790n * USDC });
  });

  it('a gap to $2300 leaves -$1000: margin 0, the $230 penalty and the $1000 are bad debt', () => {
    const s = open();
    expect(liquidateIfDue(s, noFunding, usd(2300))).toMatchObject({ penaltyUnits: 230n * USDC, penaltyPaidUnits: 0n, badDebtUnits: 1230n * USDC });
    expect(s.marginUnits).toBe(0n);
  });

  it('agrees with the planner: liquidationPriceE8 of the account view is the boundary', () => {
    const liq = liquidationPriceE8(perpAccountView(open(), noFunding, usd(2000)), usd(2000))!;
    expect(Number(liq) / 1e8).toBeCloseTo(22_000 / 10.5, 4);
    // The contract floors PnL to whole USDC units (1e-6), which moves the boundary by up to
    // one unit of value: 1e-6 / 10 ETH = 1e-7 USD = 10 E8 steps per unit. Within $0.00001:
    expect(liquidateIfDue(open(), noFunding, liq - 1000n)).toBeNull();
    expect(liquidateIfDue(open(), noFunding, liq)).not.toBeNull();
  });

  it('the account view reports the contract margin ratio', () => {
    const view = perpAccountView(open(), noFunding, usd(2100));
    expect(view.accountValueUnits).toBe(1000n * USDC);
    expect(view.marginRatioE18).toBe((1000n * 10n ** 18n) / 21_000n); // 4.76%
  });
});
