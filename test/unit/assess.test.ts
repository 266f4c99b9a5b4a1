import { describe, expect, it } from 'vitest';
import type { HedgeAccount, HedgePolicy, LpPosition, Snapshot } from '../../src/core/types.js';
import { assess } from '../../src/core/assess.js';
import { MAX_UINT256 } from '../../src/core/format.js';

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;
const E16 = 10n ** 16n;
const usd = (n: number): bigint => BigInt(Math.round(n * 1e8));

const policy: HedgePolicy = {
  hedgeRatioE18: 10n ** 18n,
  deltaBandWei: ETH / 2n,
  deltaBandPctE18: 5n * E16,
  hysteresisE18: 50n * E16,
  cooldownSec: 60,
  minTradeWei: ETH / 100n,
  maxTradeWei: 50n * ETH,
  marginTriggerE18: 15n * E16,
  marginTargetE18: 25n * E16,
  hfTriggerE18: 130n * E16,
  hfTargetE18: 160n * E16,
  maxSlippageBps: 50,
  includeNativeEth: false,
  bandMode: 'fixed',
};

function lp(o: Partial<LpPosition>): LpPosition {
  return {
    tokenId: 1n, liquidity: 10n ** 15n, tickLower: -200_000, tickUpper: -190_000,
    amountBaseWei: 0n, amountQuoteUnits: 0n, feesBaseWei: 0n, feesQuoteUnits: 0n,
    inRange: true, baseIsToken0: true, ...o,
  };
}

const noPerp: HedgeAccount = {
  venue: 'perp', sizeWei: 0n, entryPriceE8: 0n, marginUnits: 0n, accountValueUnits: 0n,
  marginRatioE18: MAX_UINT256, maintenanceRatioE18: 5n * E16, initialRatioE18: 10n * E16, takerFeeBps: 5n,
};

function snap(o: { wethWei?: bigint; ethWei?: bigint; usdcUnits?: bigint; lps?: LpPosition[]; hedge?: HedgeAccount; priceE8?: bigint; poolE8?: bigint }): Snapshot {
  const priceE8 = o.priceE8 ?? usd(2000);
  return {
    chainId: 31337, blockNumber: 100n, blockTimestampSec: 1_700_000_030n, account: '0x0000000000000000000000000000000000000001',
    oracle: { priceE8, updatedAtSec: 1_700_000_000n, quotePriceE8: usd(1) },
    pool: { sqrtPriceX96: 0n, tick: 0, liquidity: 0n, priceE8: o.poolE8 ?? priceE8 },
    wallet: { ethWei: o.ethWei ?? 0n, wethWei: o.wethWei ?? 0n, usdcUnits: o.usdcUnits ?? 0n },
    lps: o.lps ?? [],
    hedge: o.hedge ?? noPerp,
  };
}

describe('assess: exposures', () => {
  // [name, snapshot, policy, wallet, lp, hedge, net, band]
  const cases: [string, Snapshot, HedgePolicy, bigint, bigint, bigint, bigint, bigint][] = [
    ['wallet only, no hedge yet', snap({ wethWei: 3n * ETH, ethWei: 5n * ETH }), policy, 3n * ETH, 0n, 0n, 3n * ETH, ETH / 2n],
    ['native ETH counted when asked', snap({ wethWei: 3n * ETH, ethWei: 5n * ETH }), { ...policy, includeNativeEth: true }, 8n * ETH, 0n, 0n, 8n * ETH, ETH / 2n],
    ['LP in range: principal + base fees', snap({ lps: [lp({ amountBaseWei: 4n * ETH, amountQuoteUnits: 8000n * USDC, feesBaseWei: ETH / 10n })] }), policy, 0n, 41n * ETH / 10n, 0n, 41n * ETH / 10n, ETH / 2n],
    ['LP out of range below: all base', snap({ lps: [lp({ amountBaseWei: 9n * ETH, inRange: false })] }), policy, 0n, 9n * ETH, 0n, 9n * ETH, ETH / 2n],
    ['LP out of range above: all quote, only fees are base', snap({ lps: [lp({ amountQuoteUnits: 20_000n * USDC, feesBaseWei: 7n, inRange: false })] }), policy, 0n, 7n, 0n, 7n, ETH / 2n],
    ['LP with zero liquidity', snap({ lps: [lp({ liquidity: 0n })] }), policy, 0n, 0n, 0n, 0n, ETH / 2n],
    ['pct band wins on a big book', snap({ wethWei: 40n * ETH, lps: [lp({ amountBaseWei: 60n * ETH })], hedge: { ...noPerp, sizeWei: -100n * ETH, accountValueUnits: 50_000n * USDC, entryPriceE8: usd(2000) } }), policy, 40n * ETH, 60n * ETH, -100n * ETH, 0n, 5n * ETH],
    ['10% band of 12 ETH gross, net 1 ETH inside', snap({ wethWei: 10n * ETH, lps: [lp({ amountBaseWei: 2n * ETH })], hedge: { ...noPerp, sizeWei: -11n * ETH, accountValueUnits: 5000n * USDC, entryPriceE8: usd(2000) } }), { ...policy, deltaBandPctE18: 10n * E16 }, 10n * ETH, 2n * ETH, -11n * ETH, ETH, 12n * ETH / 10n],
  ];
  it.each(cases)('%s', (_n, s, p, wallet, lpDelta, hedge, net, band) => {
    const a = assess(s, p);
    expect(a.walletDeltaWei).toBe(wallet);
    expect(a.lpDeltaWei).toBe(lpDelta);
    expect(a.spotDeltaWei).toBe(wallet + lpDelta);
    expect(a.hedgeDeltaWei).toBe(hedge);
    expect(a.netDeltaWei).toBe(net);
    expect(a.bandWei).toBe(band);
    expect(a.inBand).toBe((a.deviationWei < 0n ? -a.deviationWei : a.deviationWei) <= band);
  });

  it('no hedge yet: infinite ratio, no liquidation price, not breached', () => {
    const a = assess(snap({ wethWei: 3n * ETH }), policy);
    expect(a.collateral.ratioE18).toBe(MAX_UINT256);
    expect(a.collateral.ratio.isFinite()).toBe(false);
    expect(a.collateral.liquidationPriceE8).toBeNull();
    expect(a.collateral.distancePct).toBeNull();
    expect(a.collateral.breached).toBe(false);
    expect(a.targetHedgeWei).toBe(-3n * ETH);
    expect(a.deviationWei).toBe(3n * ETH);
    expect(a.inBand).toBe(false);
  });

  it('net delta in USD and LP counts', () => {
    const a = assess(snap({ wethWei: 2n * ETH, priceE8: usd(2500.5), lps: [lp({ amountBaseWei: ETH, inRange: false }), lp({ tokenId: 2n })] }), policy);
    expect(a.netDeltaUsd.toFixed(2)).toBe('7501.50');
    expect(a.lpCount).toBe(2);
    expect(a.lpInRangeCount).toBe(1);
  });

  it('hedge ratio 0.5 targets half the spot delta', () => {
    const hedge = { ...noPerp, sizeWei: -4n * ETH, entryPriceE8: usd(2000), accountValueUnits: 4000n * USDC };
    const a = assess(snap({ wethWei: 10n * ETH, hedge }), { ...policy, hedgeRatioE18: 5n * 10n ** 17n });
    expect(a.targetHedgeWei).toBe(-5n * ETH);
    expect(a.deviationWei).toBe(ETH); // hedge -4 vs target -5: one ETH under-hedged
    expect(a.netDeltaWei).toBe(6n * ETH);
    expect(a.inBand).toBe(false);
  });

  it('a band computed outside (vol / ww mode) replaces the fixed band', () => {
    const s = snap({ wethWei: 3n * ETH });
    expect(assess(s, policy).inBand).toBe(false);
    const a = assess(s, policy, { bandWei: 3n * ETH });
    expect(a.bandWei).toBe(3n * ETH);
    expect(a.inBand).toBe(true);
  });

  it('oracle age and pool/oracle divergence', () => {
    const a = assess(snap({ priceE8: usd(2000), poolE8: usd(2010) }), policy);
    expect(a.oracleAgeSec).toBe(30n);
    expect(a.poolOracleDivergenceBps).toBe(50n);
  });
});

describe('assess: collateral', () => {
  it('perp short: ratio, liquidation price and distance', () => {
    // short 10 from $2000, now $2100: value 3000 - 1000 - 5 funding = 1995
    const hedge: HedgeAccount = { ...noPerp, sizeWei: -10n * ETH, entryPriceE8: usd(2000), marginUnits: 3000n * USDC, accountValueUnits: 1995n * USDC, marginRatioE18: 95n * 10n ** 15n };
    const a = assess(snap({ wethWei: 10n * ETH, hedge, priceE8: usd(2100) }), policy);
    expect(a.collateral.venue).toBe('perp');
    expect(a.collateral.ratioE18).toBe(95n * 10n ** 15n);
    expect(a.collateral.ratioE18).toBe(a.collateral.venueRatioE18);
    expect(a.collateral.ratio.toString()).toBe('0.095');
    expect(a.collateral.liquidationRatioE18).toBe(5n * E16);
    expect(a.collateral.liquidationPriceE8).toBe(usd(2190));
    expect(a.collateral.distancePct!.toFixed(6)).toBe('4.285714'); // 90 / 2100
    expect(a.collateral.breached).toBe(true);
    expect(a.collateral.triggerRatioE18).toBe(15n * E16);
  });

  it('aave: hedge is minus the debt, HF from balances equals Aave figure', () => {
    const hedge: HedgeAccount = {
      venue: 'aave', debtWei: 3n * ETH, collateralUnits: 10_000n * USDC, totalCollateralBaseE8: 10_000n * 10n ** 8n,
      totalDebtBaseE8: 6000n * 10n ** 8n, liquidationThresholdBps: 8500n, ltvBps: 8000n, healthFactorE18: 1_416_666_666_666_666_667n,
    };
    const a = assess(snap({ wethWei: 3n * ETH, hedge }), policy);
    expect(a.hedgeDeltaWei).toBe(-3n * ETH);
    expect(a.netDeltaWei).toBe(0n);
    expect(a.inBand).toBe(true);
    expect(a.collateral.ratioE18).toBe(hedge.healthFactorE18);
    expect(a.collateral.venueRatioE18).toBe(hedge.healthFactorE18);
    expect(a.collateral.liquidationRatioE18).toBe(10n ** 18n);
    expect(a.collateral.liquidationPriceE8).toBe(283_333_333_333n); // 10000 * 0.85 / 3
    expect(a.collateral.triggerRatioE18).toBe(130n * E16);
    expect(a.collateral.breached).toBe(false);
  });
});
