import { describe, expect, it } from 'vitest';
import type { AaveAccount, PerpAccount } from '../../src/core/types.js';
import {
  currentRatioE18,
  liquidationPriceE8,
  perpTradeFeeUnits,
  ratioAfter,
  topUpToReach,
} from '../../src/core/margin.js';
import { Dec, E18, MAX_UINT256, e18ToDecimal } from '../../src/core/format.js';

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;
const usd = (n: number): bigint => BigInt(Math.round(n * 1e8));

/** Build a perp account the way PerpExchange.getAccount reports it (PerpMath rounding). */
function perp(o: { sizeWei: bigint; entryE8: bigint; marginUnits: bigint; fundingUnits?: bigint; priceE8: bigint }): PerpAccount {
  const floorDiv = (x: bigint, d: bigint): bigint => (x % d !== 0n && x < 0n ? x / d - 1n : x / d);
  const pnl = o.sizeWei === 0n ? 0n : floorDiv(o.sizeWei * (o.priceE8 - o.entryE8), 10n ** 20n);
  const value = o.marginUnits + pnl - (o.fundingUnits ?? 0n);
  const abs = o.sizeWei < 0n ? -o.sizeWei : o.sizeWei;
  const notional = (abs * o.priceE8 + 10n ** 20n - 1n) / 10n ** 20n;
  const ratio = o.sizeWei === 0n ? MAX_UINT256 : value <= 0n ? 0n : (value * E18) / notional;
  return {
    venue: 'perp',
    sizeWei: o.sizeWei,
    entryPriceE8: o.entryE8,
    marginUnits: o.marginUnits,
    accountValueUnits: value,
    marginRatioE18: ratio,
    maintenanceRatioE18: 5n * 10n ** 16n,
    initialRatioE18: 10n ** 17n,
    takerFeeBps: 5n,
  };
}

function aave(o: { collateralUnits: bigint; debtWei: bigint; ltBps?: bigint; hfE18?: bigint }): AaveAccount {
  return {
    venue: 'aave',
    debtWei: o.debtWei,
    collateralUnits: o.collateralUnits,
    totalCollateralBaseE8: o.collateralUnits * 100n,
    totalDebtBaseE8: 0n,
    liquidationThresholdBps: o.ltBps ?? 8500n,
    ltvBps: 8000n,
    healthFactorE18: o.hfE18 ?? 0n,
  };
}

describe('perp margin ratio', () => {
  it('equals the exchange figure, computed by hand', () => {
    // short 10 ETH from $2000, now $2100: PnL -1000, minus 5 funding: value 1995 on notional 21000.
    const a = perp({ sizeWei: -10n * ETH, entryE8: usd(2000), marginUnits: 3000n * USDC, fundingUnits: 5n * USDC, priceE8: usd(2100) });
    expect(a.accountValueUnits).toBe(1995n * USDC);
    expect(currentRatioE18(a, usd(2100))).toBe(95n * 10n ** 15n);
    expect(currentRatioE18(a, usd(2100))).toBe(a.marginRatioE18);
  });

  it.each([
    ['short, odd amounts', -3_141_592_653_589_793_238n, usd(1234.56789), 777_777_777n, 1_234n, usd(1301.01)],
    ['long, odd amounts', 2_718_281_828_459_045_235n, usd(2500.5), 450_123_456n, -999n, usd(2399.99)],
    ['underwater short', -10n * ETH, usd(2000), 500n * USDC, 0n, usd(2100)],
  ])('matches the contract arithmetic: %s', (_name, sizeWei, entryE8, marginUnits, fundingUnits, priceE8) => {
    const a = perp({ sizeWei, entryE8, marginUnits, fundingUnits, priceE8 });
    expect(currentRatioE18(a, priceE8)).toBe(a.marginRatioE18);
  });

  it('is infinite with no position', () => {
    const a = perp({ sizeWei: 0n, entryE8: 0n, marginUnits: 100n * USDC, priceE8: usd(2000) });
    expect(currentRatioE18(a, usd(2000))).toBe(MAX_UINT256);
    expect(e18ToDecimal(MAX_UINT256).isFinite()).toBe(false);
    expect(liquidationPriceE8(a, usd(2000))).toBeNull();
  });

  it('charges the taker fee of the trade', () => {
    const a = perp({ sizeWei: 0n, entryE8: 0n, marginUnits: 0n, priceE8: usd(2000) });
    expect(perpTradeFeeUnits(a, -10n * ETH, usd(2000))).toBe(10n * USDC); // 20000 * 5 bps
    expect(perpTradeFeeUnits(a, 1n, usd(2000))).toBe(1n); // rounded up, like the exchange
    // open short 10 at 2000 with 2010 of margin: value 2000 after the 10 fee, ratio exactly 0.1
    const b = perp({ sizeWei: 0n, entryE8: 0n, marginUnits: 2010n * USDC, priceE8: usd(2000) });
    expect(ratioAfter(b, { sizeAfterWei: -10n * ETH, priceE8: usd(2000) })).toBe(10n ** 17n);
  });
});

describe('liquidation price round trip', () => {
  const tol = new Dec('1e-9');
  it.each([
    ['short with funding', perp({ sizeWei: -10n * ETH, entryE8: usd(2000), marginUnits: 3000n * USDC, fundingUnits: 5n * USDC, priceE8: usd(2100) }), usd(2100)],
    ['short, thin', perp({ sizeWei: -7_123_456_789_000_000_000n, entryE8: usd(3000), marginUnits: 1500n * USDC, priceE8: usd(3010) }), usd(3010)],
    ['long', perp({ sizeWei: 4n * ETH, entryE8: usd(2000), marginUnits: 1000n * USDC, fundingUnits: -3n * USDC, priceE8: usd(1950) }), usd(1950)],
  ])('perp %s: ratio at the liquidation price = maintenance', (_n, account, priceE8) => {
    const liq = liquidationPriceE8(account, priceE8);
    expect(liq).not.toBeNull();
    const r = ratioAfter(account, { sizeAfterWei: account.sizeWei, priceE8, atPriceE8: liq! });
    expect(e18ToDecimal(r).minus(e18ToDecimal(account.maintenanceRatioE18)).abs().lte(tol)).toBe(true);
    // and the liquidation side is right: a short is liquidated above, a long below
    expect(account.sizeWei < 0n ? liq! > priceE8 : liq! < priceE8).toBe(true);
  });

  it('short 10 ETH, value 1995 at $2100: liquidation at (1995 + 21000) / (10 * 1.05)', () => {
    const a = perp({ sizeWei: -10n * ETH, entryE8: usd(2000), marginUnits: 3000n * USDC, fundingUnits: 5n * USDC, priceE8: usd(2100) });
    expect(liquidationPriceE8(a, usd(2100))).toBe(219_000_000_000n); // $2190 exactly
  });

  it('an over-collateralized long has no liquidation price', () => {
    const a = perp({ sizeWei: 1n * ETH, entryE8: usd(2000), marginUnits: 5000n * USDC, priceE8: usd(2000) });
    expect(liquidationPriceE8(a, usd(2000))).toBeNull();
  });

  it('aave: HF at the liquidation price = 1', () => {
    const a = aave({ collateralUnits: 12_345_678_901n, debtWei: 3_333_333_333_333_333_333n, ltBps: 7800n });
    const liq = liquidationPriceE8(a, usd(2000));
    const hf = ratioAfter(a, { sizeAfterWei: -a.debtWei, priceE8: usd(2000), atPriceE8: liq! });
    expect(e18ToDecimal(hf).minus(1).abs().lte(tol)).toBe(true);
  });
});

describe('aave health factor', () => {
  it('collateral * LT / debt with Aave rounding', () => {
    // 10000 USDC * 85% / (3 ETH * $2000) = 1.41666..., wadDiv rounds half up
    const a = aave({ collateralUnits: 10_000n * USDC, debtWei: 3n * ETH });
    expect(currentRatioE18(a, usd(2000))).toBe(1_416_666_666_666_666_667n);
  });
  it('infinite without debt', () => {
    expect(currentRatioE18(aave({ collateralUnits: 1n, debtWei: 0n }), usd(2000))).toBe(MAX_UINT256);
  });
  it('values collateral with the USDC price', () => {
    const a = aave({ collateralUnits: 10_000n * USDC, debtWei: 4n * ETH, ltBps: 8000n });
    expect(currentRatioE18(a, usd(2000), usd(0.99))).toBe(99n * 10n ** 16n); // 9900 * 0.8 / 8000
  });
});

describe('topUpToReach', () => {
  const cases: [string, PerpAccount | AaveAccount, bigint, bigint, bigint][] = [
    ['perp, no trade', perp({ sizeWei: -10n * ETH, entryE8: usd(2000), marginUnits: 3000n * USDC, fundingUnits: 5n * USDC, priceE8: usd(2100) }), 25n * 10n ** 16n, usd(2100), -10n * ETH],
    ['perp, short more (fee included)', perp({ sizeWei: -10n * ETH, entryE8: usd(2000), marginUnits: 3000n * USDC, priceE8: usd(2000) }), 25n * 10n ** 16n, usd(2000), -17_500_000_000_000_000_001n],
    ['perp, open from nothing', perp({ sizeWei: 0n, entryE8: 0n, marginUnits: 0n, priceE8: usd(1999.99) }), 3n * 10n ** 17n, usd(1999.99), -1_234_567_890_123_456_789n],
    ['aave, no trade', aave({ collateralUnits: 10_000n * USDC, debtWei: 4n * ETH }), 16n * 10n ** 17n, usd(2000), -4n * ETH],
    ['aave, borrow more', aave({ collateralUnits: 10_000n * USDC, debtWei: 4n * ETH, ltBps: 7800n }), 16n * 10n ** 17n, usd(2345.67), -5_555_555_555_555_555_555n],
  ];
  it.each(cases)('%s: smallest amount that reaches the target', (_n, account, targetE18, priceE8, sizeAfterWei) => {
    const topUp = topUpToReach(account, targetE18, priceE8, sizeAfterWei);
    expect(topUp).toBeGreaterThan(0n);
    expect(ratioAfter(account, { sizeAfterWei, priceE8, extraCollateralUnits: topUp })).toBeGreaterThanOrEqual(targetE18);
    expect(ratioAfter(account, { sizeAfterWei, priceE8, extraCollateralUnits: topUp - 1n })).toBeLessThan(targetE18);
  });

  it('is 0 when the target is already met', () => {
    const a = perp({ sizeWei: -1n * ETH, entryE8: usd(2000), marginUnits: 1000n * USDC, priceE8: usd(2000) });
    expect(topUpToReach(a, 25n * 10n ** 16n, usd(2000), -1n * ETH)).toBe(0n);
  });

  it('perp: 10 ETH short at $2000 to 0.25 needs 5000 of value', () => {
    const a = perp({ sizeWei: -10n * ETH, entryE8: usd(2000), marginUnits: 3000n * USDC, priceE8: usd(2000) });
    expect(topUpToReach(a, 25n * 10n ** 16n, usd(2000), -10n * ETH)).toBe(2000n * USDC);
    // shorting 2 more costs a 2 USDC fee and needs 0.25 * 24000 = 6000
    expect(topUpToReach(a, 25n * 10n ** 16n, usd(2000), -12n * ETH)).toBe(3002n * USDC);
  });
});
