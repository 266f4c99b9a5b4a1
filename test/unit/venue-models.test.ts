import { describe, expect, it } from 'vitest';
import type { PerpAccount } from '../../src/core/types.js';
import type {
  AaveReserveHolding,
  AaveVenueAccount,
  AaveVenueSpec,
  AssetSpec,
  PerpMarketAccount,
  PerpVenueAccount,
  PerpVenueSpec,
  QuoteSpec,
  VenueSpec,
} from '../../src/portfolio/model.js';
import type { PriceContext } from '../../src/portfolio/venue-model.js';
import { currentRatioE18, liquidationPriceE8, ratioAfter, topUpToReach } from '../../src/core/margin.js';
import { MAX_UINT256, aaveHealthFactorE18 } from '../../src/venues/aave-math.js';
import { perpCollateralModel as perpModel, sizeE18ToUnits, unitsToSizeE18 } from '../../src/venues/perp-collateral.js';
import { aaveAccountConsistency, aaveAccountTotals, aaveCollateralModel as aaveModel } from '../../src/venues/aave-collateral.js';
import { bucketsOf, venueModel } from '../../src/venues/models.js';

const E18 = 10n ** 18n;
const USDC = 10n ** 6n;
const usd = (n: number): bigint => BigInt(Math.round(n * 1e8));
const addr = (n: number): `0x${string}` => `0x${n.toString(16).padStart(40, '0')}`;

const ETH: AssetSpec = { id: 'ETH', token: addr(0xe1), decimals: 18, feed: addr(0xf1), heartbeatSec: 3600, wrapsNative: true };
const BTC: AssetSpec = { id: 'BTC', token: addr(0xb1), decimals: 8, feed: addr(0xf2), heartbeatSec: 3600, wrapsNative: false };
const QUOTE: QuoteSpec = { id: 'USDC', token: addr(0xc1), decimals: 6, feed: null };
const policy = { triggerE18: 12n * 10n ** 16n, targetE18: 2n * 10n ** 17n, maxTopUpUnits: 10n ** 12n, maxTopUpPerDayUnits: 10n ** 12n };

function ctxOf(prices: Record<string, bigint>, quote: QuoteSpec = QUOTE): PriceContext {
  return { pricesE8: prices, quotePriceE8: usd(1), assets: { ETH, BTC }, quote };
}

// ------------------------------------------------------------------------------------ perp

const perpSpec: PerpVenueSpec = { kind: 'perp', id: 'perp', exchange: addr(0xee), markets: { ETH: 1n, BTC: 2n }, collateral: policy };

/** A market as PerpExchange.getAccount reports it (PerpMath rounding), scaled by the quote's decimals. */
function market(o: { sizeE18: bigint; entryE8: bigint; marginUnits: bigint; fundingUnits?: bigint; priceE8: bigint; quoteDecimals?: number }): PerpMarketAccount {
  const spq = 10n ** BigInt(26 - (o.quoteDecimals ?? 6));
  const floorDiv = (x: bigint, d: bigint): bigint => (x % d !== 0n && x < 0n ? x / d - 1n : x / d);
  const pnl = floorDiv(o.sizeE18 * (o.priceE8 - o.entryE8), spq);
  const value = o.marginUnits + pnl - (o.fundingUnits ?? 0n);
  const abs = o.sizeE18 < 0n ? -o.sizeE18 : o.sizeE18;
  const notional = (abs * o.priceE8 + spq - 1n) / spq;
  const ratio = o.sizeE18 === 0n ? MAX_UINT256 : value <= 0n ? 0n : (value * E18) / notional;
  return {
    marketId: 1n, sizeE18: o.sizeE18, entryPriceE8: o.entryE8, marginUnits: o.marginUnits, accountValueUnits: value,
    marginRatioE18: ratio, maintenanceRatioE18: 5n * 10n ** 16n, initialRatioE18: 10n ** 17n, takerFeeBps: 5n,
  };
}

const idle = (priceE8: bigint): PerpMarketAccount => market({ sizeE18: 0n, entryE8: 0n, marginUnits: 0n, priceE8 });
const perpAccount = (eth: PerpMarketAccount, btc: PerpMarketAccount = idle(usd(60_000))): PerpVenueAccount =>
  ({ kind: 'perp', venue: 'perp', markets: { ETH: eth, BTC: btc } });
const legacy = (m: PerpMarketAccount): PerpAccount => ({
  venue: 'perp', sizeWei: m.sizeE18, entryPriceE8: m.entryPriceE8, marginUnits: m.marginUnits, accountValueUnits: m.accountValueUnits,
  marginRatioE18: m.marginRatioE18, maintenanceRatioE18: m.maintenanceRatioE18, initialRatioE18: m.initialRatioE18, takerFeeBps: m.takerFeeBps,
});

describe('perp collateral model, ETH (18 decimals) = core/margin.ts to the unit', () => {
  const cases = [
    // name, size, entry, margin, funding, price, trade (units), extra, target, keep
    ['short, odd amounts', -3_141_592_653_589_793_238n, usd(1234.56789), 777_777_777n, 1_234n, usd(1301.01), -1_000_000_000_000_000_001n, 5n * USDC, 2n * 10n ** 17n, 15n * 10n ** 16n],
    ['long, odd amounts', 2_718_281_828_459_045_235n, usd(2500.5), 450_123_456n, -999n, usd(2399.99), -5_000_000_000_000_000_000n, 0n, 3n * 10n ** 17n, 5n * 10n ** 16n],
    ['underwater short', -10n * E18, usd(2000), 500n * USDC, 0n, usd(2100), -E18, 100n * USDC, 2n * 10n ** 17n, 12n * 10n ** 16n],
    ['flat, margin only', 0n, 0n, 1_000n * USDC, 0n, usd(3000), -2n * E18, 0n, 25n * 10n ** 16n, 2n * 10n ** 17n],
    ['short reduced at entry', -5n * E18, usd(2000), 2_000n * USDC, 3n, usd(2000), 2n * E18, -300n * USDC, 5n * 10n ** 17n, 3n * 10n ** 17n],
  ] as const;

  it.each(cases)('%s', (_n, size, entry, marginUnits, fundingUnits, price, trade, extra, target, keep) => {
    const m = market({ sizeE18: size, entryE8: entry, marginUnits, fundingUnits, priceE8: price });
    const acc = perpAccount(m);
    const old = legacy(m);
    const ctx = ctxOf({ ETH: price, BTC: usd(60_000) });

    expect(perpModel.hedgeUnits(perpSpec, acc, ETH)).toBe(size);
    const [bucket] = perpModel.buckets(perpSpec, acc, ctx);
    expect(bucket).toEqual({
      venue: 'perp', asset: 'ETH', ratioE18: currentRatioE18(old, price), venueRatioE18: m.marginRatioE18,
      liquidationRatioE18: 5n * 10n ** 16n, collateralUnits: marginUnits, liquidationPricesE8: { ETH: liquidationPriceE8(old, price) },
    });
    expect(bucket?.ratioE18).toBe(m.marginRatioE18);

    const change = { hedgeDeltaUnits: { ETH: trade }, collateralDeltaUnits: extra, bucket: 'ETH' };
    expect(perpModel.ratioAfter(perpSpec, acc, ctx, change, 'ETH'))
      .toBe(ratioAfter(old, { sizeAfterWei: size + trade, priceE8: price, extraCollateralUnits: extra }));
    expect(perpModel.topUpToTarget(perpSpec, acc, ctx, 'ETH', target, { hedgeDeltaUnits: { ETH: trade } }))
      .toBe(topUpToReach(old, target, price, size + trade));

    // Capacity and withdrawal are edges of margin.ts's own ratio: x holds, x + 1 does not.
    const floor = keep > m.initialRatioE18 ? keep : m.initialRatioE18;
    const holdsShort = (x: bigint): boolean => ratioAfter(old, { sizeAfterWei: size - x, priceE8: price }) >= floor;
    const cap = perpModel.shortCapacityUnits(perpSpec, acc, ctx, ETH, keep);
    if (cap > 0n) expect(holdsShort(cap)).toBe(true);
    expect(holdsShort(cap + 1n)).toBe(false);

    const w = perpModel.withdrawableUnits(perpSpec, acc, ctx, 'ETH', keep);
    const holdsW = (x: bigint): boolean => ratioAfter(old, { sizeAfterWei: size, priceE8: price, extraCollateralUnits: -x }) >= floor;
    if (size !== 0n) {
      if (w > 0n) expect(holdsW(w)).toBe(true);
      expect(holdsW(w + 1n)).toBe(false);
    } else {
      expect(w).toBe(marginUnits - fundingUnits);
    }
  });

  it('keeps the exchange initial ratio even when the caller keeps less', () => {
    const m = market({ sizeE18: -E18, entryE8: usd(2000), marginUnits: 1_000n * USDC, priceE8: usd(2000) });
    const ctx = ctxOf({ ETH: usd(2000), BTC: usd(60_000) });
    expect(perpModel.shortCapacityUnits(perpSpec, perpAccount(m), ctx, ETH, 0n))
      .toBe(perpModel.shortCapacityUnits(perpSpec, perpAccount(m), ctx, ETH, 10n ** 17n));
    // freeMargin: value 1000 - ceil(2000 × 0.1) = 800 USDC.
    expect(perpModel.withdrawableUnits(perpSpec, perpAccount(m), ctx, 'ETH', 0n)).toBe(800n * USDC);
  });
});

describe('perp collateral model, BTC (8 decimals), by hand', () => {
  // short 0.5 BTC from 60,000, now 62,000: PnL -1,000 USDC, notional 31,000 USDC.
  const btc = (marginUnits: bigint): PerpMarketAccount =>
    market({ sizeE18: -5n * 10n ** 17n, entryE8: usd(60_000), marginUnits, priceE8: usd(62_000) });
  const ctx = ctxOf({ ETH: usd(2000), BTC: usd(62_000) });
  const acc = (m: PerpMarketAccount): PerpVenueAccount => perpAccount(idle(usd(2000)), m);

  it('converts sizes by the asset decimals, truncating toward zero', () => {
    expect(perpModel.hedgeUnits(perpSpec, acc(btc(3_500n * USDC)), BTC)).toBe(-50_000_000n);
    expect(sizeE18ToUnits(-123_456_789_012_345_678n, 8)).toBe(-12_345_678n);
    expect(sizeE18ToUnits(123_456_789_012_345_678n, 8)).toBe(12_345_678n);
    expect(unitsToSizeE18(-10_000_000n, 8)).toBe(-(10n ** 17n));
    expect(unitsToSizeE18(5n, 24)).toBe(0n);
  });

  it('ratio, trade, top-up and liquidation price', () => {
    const a = acc(btc(3_500n * USDC));
    const bucket = perpModel.buckets(perpSpec, a, ctx).find((b) => b.asset === 'BTC');
    // 2,500 / 31,000
    expect(bucket?.ratioE18).toBe(80_645_161_290_322_580n);
    // 2500 - 0.5 (62,000 - Q) = 0.05 × 0.5 Q  =>  Q = 33,500 / 0.525 = 63,809.52380952...
    expect(bucket?.liquidationPricesE8).toEqual({ BTC: 6_380_952_380_952n });
    // short 0.1 more: fee 6,200 × 5 bps = 3.1 USDC, 1 unit of entry re-averaging; notional 37,200.
    const trade = { hedgeDeltaUnits: { BTC: -10_000_000n } };
    expect(perpModel.ratioAfter(perpSpec, a, ctx, trade, 'BTC')).toBe((2_496_899_999n * E18) / 37_200_000_000n);
    // 10% of 37,200 = 3,720 USDC of value needed, 2,496.899999 there.
    expect(perpModel.topUpToTarget(perpSpec, a, ctx, 'BTC', 10n ** 17n, trade)).toBe(1_223_100_001n);
    expect(perpModel.ratioAfter(perpSpec, a, ctx, { ...trade, collateralDeltaUnits: 1_223_100_000n }, 'BTC')).toBeLessThan(10n ** 17n);
    // under the initial ratio already: no more short
    expect(perpModel.shortCapacityUnits(perpSpec, a, ctx, BTC, 0n)).toBe(0n);
  });

  it('capacity and withdrawal', () => {
    const a = acc(btc(5_000n * USDC)); // value 4,000
    // 10 × (4,000 - 31 x - 0.000001) >= 62,000 (0.5 + x)  =>  x <= 8,999.99999 / 62,310 = 0.1444390948...
    expect(perpModel.shortCapacityUnits(perpSpec, a, ctx, BTC, 10n ** 17n)).toBe(14_443_909n);
    // 4,000 - 10% of 31,000
    expect(perpModel.withdrawableUnits(perpSpec, a, ctx, 'BTC', 10n ** 17n)).toBe(900n * USDC);
    expect(perpModel.withdrawableUnits(perpSpec, a, ctx, 'BTC', 2n * 10n ** 17n)).toBe(0n);
  });

  it('takes the quote decimals from the context (an 18-decimal quote)', () => {
    const q18: QuoteSpec = { ...QUOTE, decimals: 18 };
    const m = market({ sizeE18: -E18, entryE8: usd(2000), marginUnits: 200n * E18, priceE8: usd(2000), quoteDecimals: 18 });
    const c = ctxOf({ ETH: usd(2000), BTC: usd(60_000) }, q18);
    expect(perpModel.buckets(perpSpec, perpAccount(m), c)[0]?.ratioE18).toBe(10n ** 17n);
    expect(perpModel.topUpToTarget(perpSpec, perpAccount(m), c, 'ETH', 2n * 10n ** 17n)).toBe(200n * E18);
  });

  it('rejects a bucket it does not have', () => {
    expect(() => perpModel.ratioAfter(perpSpec, acc(btc(USDC)), ctx, {}, null)).toThrow(/perp venue perp: no bucket null/);
  });
});

// ------------------------------------------------------------------------------------ aave

const aaveSpec: AaveVenueSpec = {
  kind: 'aave', id: 'aave', addressesProvider: addr(0xa0), swapPools: { ETH: 'eth-usdc', BTC: 'btc-usdc' },
  swapRouter: addr(0xa1), quoter: addr(0xa2), collateral: policy,
};

function reserve(token: `0x${string}`, decimals: number, priceE8: bigint, o: Partial<AaveReserveHolding>): AaveReserveHolding {
  return { token, decimals, priceE8, suppliedUnits: 0n, debtUnits: 0n, usedAsCollateral: false, liquidationThresholdBps: 8250n, ltvBps: 8000n, ...o };
}
const usdcReserve = (units: bigint, priceE8: bigint, lt = 7800n, ltv = 7500n): AaveReserveHolding =>
  reserve(QUOTE.token, 6, priceE8, { suppliedUnits: units, usedAsCollateral: units > 0n, liquidationThresholdBps: lt, ltvBps: ltv });

/** An account whose getUserAccountData is the model's own totals (the consistency check is tested apart). */
function aaveAccount(reserves: AaveReserveHolding[]): AaveVenueAccount {
  const byToken = Object.fromEntries(reserves.map((r) => [r.token.toLowerCase(), r]));
  const base: AaveVenueAccount = { kind: 'aave', venue: 'aave', reserves: byToken, accountData: { totalCollateralBaseE8: 0n, totalDebtBaseE8: 0n, liquidationThresholdBps: 0n, ltvBps: 0n, healthFactorE18: 0n } };
  const t = aaveAccountTotals(base);
  return { ...base, accountData: { totalCollateralBaseE8: t.totalCollateralBaseE8, totalDebtBaseE8: t.totalDebtBaseE8, liquidationThresholdBps: t.liquidationThresholdBps, ltvBps: t.ltvBps, healthFactorE18: t.healthFactorE18 } };
}
const withPrice = (a: AaveVenueAccount, token: string, priceE8: bigint): AaveVenueAccount =>
  ({ ...a, reserves: { ...a.reserves, [token]: { ...a.reserves[token]!, priceE8 } } });
const ctxA = ctxOf({ ETH: usd(1), BTC: usd(1) }); // the keeper's feeds: Aave's own prices must win
const hf = (a: AaveVenueAccount): bigint => aaveModel.ratioAfter(aaveSpec, a, ctxA, {}, null);

describe('aave collateral model: one USDC collateral, WETH debt = aave-math to the wei', () => {
  it.each([
    [10_000n * USDC, usd(1), 2n * E18, usd(2000), 8000n],
    [12_345_678_901n, 99_987_654n, 3_141_592_653_589_793_238n, usd(2345.6789), 7800n],
    [1n, usd(1), 1n, usd(3000), 8500n],
    [5_000n * USDC, usd(1), 0n, usd(2000), 8000n],
    [987_654_321n, 100_010_000n, 123_456_789_012_345n, usd(1999.99999999), 8250n],
  ])('collateral %s, debt %s wei', (collateralUnits, usdcPriceE8, debtWei, wethPriceE8, lt) => {
    const a = aaveAccount([usdcReserve(collateralUnits, usdcPriceE8, lt), reserve(ETH.token, 18, wethPriceE8, { debtUnits: debtWei })]);
    const expected = aaveHealthFactorE18({ collateralUnits, usdcPriceE8, debtWei, wethPriceE8, liquidationThresholdBps: lt });
    expect(aaveModel.buckets(aaveSpec, a, ctxA)[0]?.ratioE18).toBe(expected);
    expect(aaveModel.hedgeUnits(aaveSpec, a, ETH)).toBe(-debtWei);
    const change = { hedgeDeltaUnits: { ETH: -E18 / 3n }, collateralDeltaUnits: 777n * USDC };
    expect(aaveModel.ratioAfter(aaveSpec, a, ctxA, change, null)).toBe(aaveHealthFactorE18({
      collateralUnits: collateralUnits + 777n * USDC, usdcPriceE8, debtWei: debtWei + E18 / 3n, wethPriceE8, liquidationThresholdBps: lt,
    }));
  });
});

describe('aave collateral model: several reserves, following GenericLogic by hand', () => {
  const weth = (debt: bigint, price: bigint): AaveReserveHolding => reserve(ETH.token, 18, price, { debtUnits: debt });
  const wbtc = (o: Partial<AaveReserveHolding>): AaveReserveHolding => reserve(BTC.token, 8, 6_012_345_678_901n, { liquidationThresholdBps: 7500n, ltvBps: 7000n, ...o });
  const twoDebts = aaveAccount([usdcReserve(20_000_500_000n, 100_010_000n), weth(2_345_678_901_234_567_890n, 234_567_890_123n), wbtc({ debtUnits: 12_345_678n })]);

  it('two debts (18 and 8 decimals)', () => {
    // collateral: 20,000,500,000 × 100,010,000 / 1e6                  = 2,000,250,005,000
    // debt WETH: 2,345,678,901,234,567,890 × 234,567,890,123 / 1e18    =   550,220,950,768
    // debt WBTC: 12,345,678 × 6,012,345,678,901 / 1e8                   =   742,264,837,764
    // HF = wadDiv(percentMul(2,000,250,005,000, 7800) = 1,560,195,003,900, 1,292,485,788,532)
    expect(aaveAccountTotals(twoDebts)).toMatchObject({ totalCollateralBaseE8: 2_000_250_005_000n, totalDebtBaseE8: 1_292_485_788_532n, liquidationThresholdBps: 7800n, ltvBps: 7500n });
    expect(hf(twoDebts)).toBe(1_207_127_395_707_818_975n);
    expect(aaveModel.hedgeUnits(aaveSpec, twoDebts, BTC)).toBe(-12_345_678n);
  });

  it('two collaterals: the weighted threshold is floored before percentMul', () => {
    const a = aaveAccount([
      usdcReserve(10_000n * USDC, 99_980_000n),
      wbtc({ suppliedUnits: 10_000_000n, priceE8: 6_000_123_000_000n, usedAsCollateral: true, liquidationThresholdBps: 7000n, ltvBps: 7000n }),
      weth(3n * E18, 200_012_345_678n),
    ]);
    // values 999,800,000,000 + 600,012,300,000 = 1,599,812,300,000; debt 600,037,037,034
    // LT = 11,998,526,100,000,000 / 1,599,812,300,000 = 7499.98 -> 7499; LTV = 11,698,586,100,000,000 / ... -> 7312
    expect(aaveAccountTotals(a)).toMatchObject({ totalCollateralBaseE8: 1_599_812_300_000n, totalDebtBaseE8: 600_037_037_034n, liquidationThresholdBps: 7499n, ltvBps: 7312n });
    // wadDiv(percentMul(1,599,812,300,000, 7499) = 1,199,699,243,770, 600,037,037,034)
    expect(hf(a)).toBe(1_999_375_321_397_071_093n);
  });

  it('liquidation price per borrowed asset: the last price at HF >= 1', () => {
    // 10,000 USDC × 80% = 8,000 against 2 WETH: HF = 1 at exactly 4,000 (4,000.00000001 is under).
    const simple = aaveAccount([usdcReserve(10_000n * USDC, usd(1), 8000n), weth(2n * E18, usd(2000))]);
    expect(aaveModel.buckets(aaveSpec, simple, ctxA)[0]?.liquidationPricesE8).toEqual({ ETH: usd(4000), BTC: null });
    const eth = ETH.token.toLowerCase();
    expect(hf(withPrice(simple, eth, usd(4000)))).toBeGreaterThanOrEqual(E18);
    expect(hf(withPrice(simple, eth, usd(4000) + 1n))).toBeLessThan(E18);

    const prices = aaveModel.buckets(aaveSpec, twoDebts, ctxA)[0]!.liquidationPricesE8;
    for (const [token, q] of [[eth, prices.ETH], [BTC.token.toLowerCase(), prices.BTC]] as const) {
      expect(q).toBeTypeOf('bigint');
      expect(hf(withPrice(twoDebts, token, q!))).toBeGreaterThanOrEqual(E18);
      expect(hf(withPrice(twoDebts, token, q! + 1n))).toBeLessThan(E18);
    }
  });

  it('liquidation price of an asset that is mostly collateral: the first price at HF >= 1 from below', () => {
    // 10 WETH supplied (LT 82.5%), 1 WETH and 10,000 USDC borrowed: liquidated as ETH falls.
    // Continuous: 10 Q × 0.825 = Q + 10,000  =>  Q = 10,000 / 7.25 = 1,379.31...
    const a = aaveAccount([
      reserve(QUOTE.token, 6, usd(1), { debtUnits: 10_000n * USDC }),
      weth(E18, usd(2000)),
    ].map((r) => (r.token === ETH.token ? { ...r, suppliedUnits: 10n * E18, usedAsCollateral: true } : r)));
    const q = aaveModel.buckets(aaveSpec, a, ctxA)[0]!.liquidationPricesE8.ETH!;
    expect(q / 10n ** 6n).toBe(137_931n);
    const eth = ETH.token.toLowerCase();
    expect(hf(withPrice(a, eth, q))).toBeGreaterThanOrEqual(E18);
    expect(hf(withPrice(a, eth, q - 1n))).toBeLessThan(E18);
  });

  it('short capacity: the borrow check (per-unit truncation) or the keep ratio, whichever binds', () => {
    const a = aaveAccount([usdcReserve(10_000n * USDC, usd(1), 8000n, 7500n), weth(0n, usd(2000))]);
    // LTV binds at keep 1.0: percentDiv(floor(x × 2,000e8 / 1e18), 7500) <= 10,000e8  <=>  value <= 7,500e8,
    // and the value floors: 3.75 ETH plus 4,999,999 wei is still worth 7,500e8.
    expect(aaveModel.shortCapacityUnits(aaveSpec, a, ctxA, ETH, E18)).toBe(3_750_000_000_004_999_999n);
    // keep 1.5: 8,000 / (2,000 x) >= 1.5  =>  x <= 2.6666... ETH (HF at the edge checked exactly)
    const x = aaveModel.shortCapacityUnits(aaveSpec, a, ctxA, ETH, 15n * 10n ** 17n);
    expect(x / 10n ** 12n).toBe(2_666_666n);
    expect(aaveModel.ratioAfter(aaveSpec, a, ctxA, { hedgeDeltaUnits: { ETH: -x } }, null)).toBeGreaterThanOrEqual(15n * 10n ** 17n);
    expect(aaveModel.ratioAfter(aaveSpec, a, ctxA, { hedgeDeltaUnits: { ETH: -x - 1n } }, null)).toBeLessThan(15n * 10n ** 17n);
    // no swap pool for the asset: nothing to sell the borrow on
    expect(aaveModel.shortCapacityUnits({ ...aaveSpec, swapPools: {} }, a, ctxA, ETH, E18)).toBe(0n);
  });

  it('top-up to a target: the smallest supply that reaches it', () => {
    // 10,000 × 80% against 8,000 of debt: HF 1.0; 1.5 needs 15,000 of collateral.
    const a = aaveAccount([usdcReserve(10_000n * USDC, usd(1), 8000n), weth(2n * E18, usd(4000))]);
    expect(aaveModel.topUpToTarget(aaveSpec, a, ctxA, null, 15n * 10n ** 17n)).toBe(5_000n * USDC);
    const target = 2n * E18;
    const t = aaveModel.topUpToTarget(aaveSpec, twoDebts, ctxA, null, target);
    expect(aaveModel.ratioAfter(aaveSpec, twoDebts, ctxA, { collateralDeltaUnits: t }, null)).toBeGreaterThanOrEqual(target);
    expect(aaveModel.ratioAfter(aaveSpec, twoDebts, ctxA, { collateralDeltaUnits: t - 1n }, null)).toBeLessThan(target);
    expect(aaveModel.topUpToTarget(aaveSpec, twoDebts, ctxA, null, E18)).toBe(0n);
  });

  it('withdrawable: HF kept at max(keep, 1.0), all of it without debt', () => {
    const a = aaveAccount([usdcReserve(10_000n * USDC, usd(1), 8000n), weth(2n * E18, usd(2000))]);
    expect(aaveModel.withdrawableUnits(aaveSpec, a, ctxA, null, 15n * 10n ** 17n)).toBe(2_500n * USDC);
    expect(aaveModel.withdrawableUnits(aaveSpec, a, ctxA, null, E18 / 2n)).toBe(5_000n * USDC);
    const free = aaveAccount([usdcReserve(10_000n * USDC, usd(1), 8000n)]);
    expect(aaveModel.withdrawableUnits(aaveSpec, free, ctxA, null, 2n * E18)).toBe(10_000n * USDC);
    expect(hf(free)).toBe(MAX_UINT256);
  });

  it('consistency with getUserAccountData', () => {
    expect(aaveAccountConsistency(aaveSpec, twoDebts, ctxA)).toBeNull();
    const off = { ...twoDebts, accountData: { ...twoDebts.accountData, healthFactorE18: twoDebts.accountData.healthFactorE18 + 1n } };
    expect(aaveAccountConsistency(aaveSpec, off, ctxA)).toBe('aave venue aave: health factor (E18): model 1207127395707818975, Aave 1207127395707818976');
    const debt = { ...twoDebts, accountData: { ...twoDebts.accountData, totalDebtBaseE8: 1n } };
    expect(aaveAccountConsistency(aaveSpec, debt, ctxA)).toMatch(/total debt \(base E8\): model 1292485788532, Aave 1$/);
    const dai = addr(0xda1);
    const held = aaveAccount([...Object.values(twoDebts.reserves), reserve(dai, 18, usd(1), { suppliedUnits: 1n, usedAsCollateral: true })]);
    expect(aaveAccountConsistency(aaveSpec, held, ctxA)).toBe(`aave venue aave: not modelled: ${dai} (supplied 1, debt 0 in its own units), a position the portfolio does not declare`);
    const empty = aaveAccount([...Object.values(twoDebts.reserves), reserve(dai, 18, usd(1), {})]);
    expect(aaveAccountConsistency(aaveSpec, empty, ctxA)).toBeNull();
  });
});

// ------------------------------------------------------------------------------------ models

describe('venueModel', () => {
  it('picks the model by kind and checks the account belongs to the spec', () => {
    expect(venueModel(perpSpec)).toBe(perpModel);
    expect(venueModel(aaveSpec)).toBe(aaveModel);
    const aaveAcc = aaveAccount([usdcReserve(USDC, usd(1))]);
    expect(() => bucketsOf(perpSpec, aaveAcc, ctxA)).toThrow('venue perp: account of kind aave given for a perp venue');
    expect(() => bucketsOf(aaveSpec, { ...aaveAcc, venue: 'aave2' }, ctxA)).toThrow('venue aave: account of venue aave2 given');
    expect(bucketsOf(aaveSpec, aaveAcc, ctxA)).toHaveLength(1);
  });

  it('throws on an unknown kind, naming it and the venue', () => {
    const compound = { kind: 'compound', id: 'm1', markets: { ETH: 1n } } as unknown as VenueSpec;
    expect(() => venueModel(compound)).toThrow('unknown venue kind (venue m1): "compound"');
  });
});
