import { describe, expect, it } from 'vitest';
import type { AssetSpec, MorphoVenueAccount, MorphoVenueSpec, QuoteSpec } from '../../src/portfolio/model.js';
import type { PriceContext } from '../../src/portfolio/venue-model.js';
import { morphoAccountHealthE18, morphoCollateralModel as model, morphoConsistency } from '../../src/venues/morpho-collateral.js';
import { accrueInterest, borrowedAssets, morphoHealthE18, toAssetsUp, toSharesDown, toSharesUp, wTaylorCompounded } from '../../src/venues/morpho-math.js';

const WAD = 10n ** 18n;
const MAX = 2n ** 256n - 1n;
const E8 = 10n ** 8n;
const U = 10n ** 6n;
const WETH = '0x00000000000000000000000000000000000000e1' as const;
const USDC = '0x00000000000000000000000000000000000000c1' as const;
const WBTC = '0x00000000000000000000000000000000000000b1' as const;

const ETH: AssetSpec = { id: 'ETH', token: WETH, decimals: 18, feed: '0x0000000000000000000000000000000000000001', heartbeatSec: 3600, wrapsNative: true };
const BTC: AssetSpec = { id: 'BTC', token: WBTC, decimals: 8, feed: '0x0000000000000000000000000000000000000002', heartbeatSec: 3600, wrapsNative: false };
const QUOTE: QuoteSpec = { id: 'USDC', token: USDC, decimals: 6, feed: null };
const ctx: PriceContext = { pricesE8: { ETH: 2_000n * E8, BTC: 60_000n * E8 }, quotePriceE8: E8, assets: { ETH, BTC }, quote: QUOTE };

const spec: MorphoVenueSpec = {
  kind: 'morpho',
  id: 'morpho',
  morpho: '0x0000000000000000000000000000000000000b10',
  marketId: `0x${'11'.repeat(32)}`,
  loanAsset: 'ETH',
  swapPool: 'weth-usdc',
  swapRouter: '0x0000000000000000000000000000000000000a01',
  quoter: '0x0000000000000000000000000000000000000a02',
  collateral: { triggerE18: 13n * 10n ** 17n, targetE18: 16n * 10n ** 17n, maxTopUpUnits: 10_000n * U, maxTopUpPerDayUnits: 50_000n * U },
};

/** 1e48 × USDC/USD ÷ ETH/USD: one USDC unit in wei, scaled by 1e36 (the devnet adapter's formula). */
const priceAt = (ethUsd: bigint): bigint => (10n ** 48n * E8) / (ethUsd * E8);
const T0 = 1_700_000_000n;

/** 1000 WETH supplied, 500 borrowed on 400e24 shares (the shares have appreciated), 2 WETH of ours. */
function account(over: Partial<MorphoVenueAccount> = {}, market: Partial<MorphoVenueAccount['market']> = {}): MorphoVenueAccount {
  return {
    kind: 'morpho',
    venue: 'morpho',
    marketParams: { loanToken: WETH, collateralToken: USDC, oracle: '0x0000000000000000000000000000000000000a03', irm: '0x0000000000000000000000000000000000000a04', lltv: 86n * 10n ** 16n },
    supplyShares: 0n,
    borrowShares: 2n * 10n ** 24n,
    collateralUnits: 5_000n * U,
    market: { totalSupplyAssets: 1_000n * WAD, totalSupplyShares: 1_000n * 10n ** 24n, totalBorrowAssets: 500n * WAD, totalBorrowShares: 400n * 10n ** 24n, lastUpdate: T0, fee: 0n, ...market },
    borrowRatePerSecE18: 0n,
    blockTimestampSec: T0,
    oraclePriceE36: priceAt(2_000n),
    ...over,
  };
}

const RATE = WAD / 2n / (365n * 86_400n); // 50% APR (IrmMock at 50% utilization)

describe('Morpho math (MathLib, SharesMathLib, _accrueInterest)', () => {
  it.each([
    // [name, value, expected]
    ['toAssetsUp of 2e24 shares at 500/400e24', toAssetsUp(2n * 10n ** 24n, 500n * WAD, 400n * 10n ** 24n), 2_500_000_000_000_000_000n],
    ['toAssetsUp rounds up (1 share of an empty market)', toAssetsUp(1n, 0n, 0n), 1n],
    ['toSharesUp of 1 wei in an empty market: 1e6 virtual shares', toSharesUp(1n, 0n, 0n), 1_000_000n],
    ['toSharesDown of 1 WETH at 500/400e24', toSharesDown(WAD, 500n * WAD, 400n * 10n ** 24n), 800_000_000_000_000_000_000_399n],
    ['rate of 50% APR', RATE, 15_854_895_991n],
    ['wTaylorCompounded(rate, 1h)', wTaylorCompounded(RATE, 3600n), 57_079_254_526_261n],
  ])('%s', (_name, value, expected) => {
    expect(value).toBe(expected);
  });

  it('accrues an hour of interest to borrow and supply, fee shares to the supply side only', () => {
    const m = account().market;
    const noFee = accrueInterest(m, RATE, T0 + 3600n);
    expect(noFee.totalBorrowAssets - m.totalBorrowAssets).toBe(28_539_627_263_130_500n);
    expect(noFee.totalSupplyAssets - m.totalSupplyAssets).toBe(28_539_627_263_130_500n);
    expect(noFee.totalSupplyShares).toBe(m.totalSupplyShares);
    expect(noFee.lastUpdate).toBe(T0 + 3600n);
    const withFee = accrueInterest({ ...m, fee: WAD / 10n }, RATE, T0 + 3600n);
    expect(withFee.totalSupplyShares - m.totalSupplyShares).toBe(2_853_889_422_266_724_485_154n);
    expect(withFee.totalBorrowShares).toBe(m.totalBorrowShares);
    expect(accrueInterest(m, RATE, T0)).toBe(m); // no time elapsed: untouched
  });
});

describe('morphoCollateralModel', () => {
  it.each([
    // [name, account, hedge units, health E18]
    ['stored market, no accrual', account(), -2_500_000_000_000_000_000n, 860_000_000_000_000_000n],
    ['an hour of interest at 50% APR', account({ borrowRatePerSecE18: RATE, blockTimestampSec: T0 + 3600n }), -2_500_142_698_136_315_653n, 859_950_914_642_863_008n],
    ['ETH at 1,000: the collateral buys twice the ETH', account({ oraclePriceE36: priceAt(1_000n) }), -2_500_000_000_000_000_000n, 1_720_000_000_000_000_000n],
    ['no borrow shares: maxUint256', account({ borrowShares: 0n }), 0n, MAX],
    ['no collateral', account({ collateralUnits: 0n }), -2_500_000_000_000_000_000n, 0n],
  ])('%s', (_name, a, hedge, health) => {
    expect(model.hedgeUnits(spec, a, ETH)).toBe(hedge);
    expect(model.hedgeUnits(spec, a, BTC)).toBe(0n);
    expect(morphoAccountHealthE18(a)).toBe(health);
    expect(model.ratioAfter(spec, a, ctx, {}, null)).toBe(health);
  });

  it('health >= 1e18 exactly when _isHealthy holds (maxBorrow >= borrowed)', () => {
    // borrowed = 2.5 WETH: maxBorrow = floor(c × 5e8 wei/unit) × 0.86 reaches it at c = 5813.953489 USDC.
    const at = (c: bigint) => morphoHealthE18({ borrowShares: 2n * 10n ** 24n, collateralUnits: c, oraclePriceE36: priceAt(2_000n), lltv: 86n * 10n ** 16n }, account().market);
    expect(at(5_813_953_489n)).toBeGreaterThanOrEqual(WAD);
    expect(at(5_813_953_488n)).toBeLessThan(WAD);
  });

  it('buckets: one whole-account bucket, the venue figure on the market as stored, the liquidation price of the loan asset', () => {
    const a = account({ borrowRatePerSecE18: RATE, blockTimestampSec: T0 + 3600n, collateralUnits: 10_000n * U });
    const [b] = model.buckets(spec, a, ctx);
    expect(b?.asset).toBeNull();
    expect(b?.ratioE18).toBe(1_719_901_829_285_726_017n);
    expect(b?.venueRatioE18).toBe(1_720_000_000_000_000_000n);
    expect(b?.liquidationRatioE18).toBe(WAD);
    expect(b?.collateralUnits).toBe(10_000n * U);
    const liq = b?.liquidationPricesE8['ETH'] as bigint;
    // Healthy at the liquidation price, not one E8 step above it (the oracle scaled from now).
    const healthAt = (l: bigint) => morphoAccountHealthE18({ ...a, oraclePriceE36: (a.oraclePriceE36 * 2_000n * E8) / l });
    expect(healthAt(liq)).toBeGreaterThanOrEqual(WAD);
    expect(healthAt(liq + 1n)).toBeLessThan(WAD);
    expect(liq / E8).toBe(3_439n); // 2000 × 1.7199
    expect(model.buckets(spec, account({ borrowShares: 0n }), ctx)[0]?.liquidationPricesE8).toEqual({ ETH: null });
  });

  it('ratioAfter: a borrow adds shares rounded up, a repay of everything clears every share', () => {
    const a = account({ collateralUnits: 10_000n * U });
    const m = a.market;
    const shares = toSharesUp(WAD, m.totalBorrowAssets, m.totalBorrowShares);
    const after = morphoHealthE18(
      { borrowShares: a.borrowShares + shares, collateralUnits: a.collateralUnits, oraclePriceE36: a.oraclePriceE36, lltv: a.marketParams.lltv },
      { ...m, totalBorrowAssets: m.totalBorrowAssets + WAD, totalBorrowShares: m.totalBorrowShares + shares },
    );
    expect(model.ratioAfter(spec, a, ctx, { hedgeDeltaUnits: { ETH: -WAD } }, null)).toBe(after);
    expect(model.ratioAfter(spec, a, ctx, { hedgeDeltaUnits: { ETH: 100n * WAD } }, null)).toBe(MAX);
    expect(model.ratioAfter(spec, a, ctx, { collateralDeltaUnits: -5_000n * U }, null)).toBe(860_000_000_000_000_000n);
    expect(() => model.ratioAfter(spec, a, ctx, { hedgeDeltaUnits: { BTC: -1n } }, null)).toThrow(/hedges ETH only/);
    expect(() => model.ratioAfter(spec, a, ctx, {}, 'ETH')).toThrow(/one bucket/);
  });

  it('topUpToTarget: the smallest supply reaching the target', () => {
    const a = account();
    const target = 16n * 10n ** 17n;
    const x = model.topUpToTarget(spec, a, ctx, null, target);
    expect(model.ratioAfter(spec, a, ctx, { collateralDeltaUnits: x }, null)).toBeGreaterThanOrEqual(target);
    expect(model.ratioAfter(spec, a, ctx, { collateralDeltaUnits: x - 1n }, null)).toBeLessThan(target);
    expect(x).toBe(4_302_325_582n); // 2.5 WETH × 1.6 / 0.86 at 2000 = 9302.325582 USDC, less the 5000 held
    expect(model.topUpToTarget(spec, account({ collateralUnits: 20_000n * U }), ctx, null, target)).toBe(0n);
    // With a borrow planned alongside.
    const y = model.topUpToTarget(spec, a, ctx, null, target, { hedgeDeltaUnits: { ETH: -WAD } });
    expect(model.ratioAfter(spec, a, ctx, { hedgeDeltaUnits: { ETH: -WAD }, collateralDeltaUnits: y }, null)).toBeGreaterThanOrEqual(target);
    expect(model.ratioAfter(spec, a, ctx, { hedgeDeltaUnits: { ETH: -WAD }, collateralDeltaUnits: y - 1n }, null)).toBeLessThan(target);
  });

  it('shortCapacityUnits: the largest borrow keeping the ratio, bounded by the market liquidity', () => {
    const a = account({ collateralUnits: 20_000n * U });
    const keep = 13n * 10n ** 17n;
    const x = model.shortCapacityUnits(spec, a, ctx, ETH, keep);
    expect(model.ratioAfter(spec, a, ctx, { hedgeDeltaUnits: { ETH: -x } }, null)).toBeGreaterThanOrEqual(keep);
    expect(model.ratioAfter(spec, a, ctx, { hedgeDeltaUnits: { ETH: -(x + 1n) } }, null)).toBeLessThan(keep);
    expect(x / 10n ** 15n).toBe(4_115n); // 20000 × 0.86 / 1.3 / 2000 − 2.5 = 4.1154 WETH
    // A thin market: only its liquidity can be borrowed.
    const thin = account({ collateralUnits: 20_000n * U }, { totalSupplyAssets: 501n * WAD });
    expect(model.shortCapacityUnits(spec, thin, ctx, ETH, keep)).toBe(WAD);
    expect(model.shortCapacityUnits(spec, a, ctx, BTC, keep)).toBe(0n);
    expect(model.shortCapacityUnits(spec, account(), ctx, ETH, keep)).toBe(0n); // already under keep
  });

  it('withdrawableUnits: keeps max(keep, 1); everything without debt', () => {
    const a = account({ collateralUnits: 20_000n * U });
    const keep = 16n * 10n ** 17n;
    const w = model.withdrawableUnits(spec, a, ctx, null, keep);
    expect(model.ratioAfter(spec, a, ctx, { collateralDeltaUnits: -w }, null)).toBeGreaterThanOrEqual(keep);
    expect(model.ratioAfter(spec, a, ctx, { collateralDeltaUnits: -(w + 1n) }, null)).toBeLessThan(keep);
    expect(w).toBe(10_697_674_418n);
    expect(model.withdrawableUnits(spec, account({ borrowShares: 0n }), ctx, null, keep)).toBe(5_000n * U);
    expect(model.withdrawableUnits(spec, account(), ctx, null, keep)).toBe(0n);
    const atOne = model.withdrawableUnits(spec, a, ctx, null, 0n);
    expect(model.ratioAfter(spec, a, ctx, { collateralDeltaUnits: -atOne }, null)).toBeGreaterThanOrEqual(WAD);
    expect(model.ratioAfter(spec, a, ctx, { collateralDeltaUnits: -(atOne + 1n) }, null)).toBeLessThan(WAD);
  });

  it('consistency: the market must be the portfolio\'s, and a supply of the loan asset is not modelled', () => {
    expect(morphoConsistency(spec, account(), ctx)).toBeNull();
    expect(morphoConsistency(spec, account({ supplyShares: 5n }), ctx)).toMatch(/not modelled: the account supplies ETH/);
    const wrongLoan = account({ marketParams: { ...account().marketParams, loanToken: WBTC } });
    expect(morphoConsistency(spec, wrongLoan, ctx)).toMatch(/lends 0x0+b1, not ETH/);
    const wrongColl = account({ marketParams: { ...account().marketParams, collateralToken: WBTC } });
    expect(morphoConsistency(spec, wrongColl, ctx)).toMatch(/not the quote USDC/);
  });

  it('a borrowed amount is the shares rounded up with the virtual shares and assets', () => {
    const m = account().market;
    expect(borrowedAssets(1n, m)).toBe(1n);
    expect(borrowedAssets(0n, m)).toBe(0n);
  });
});

describe('keeper.yaml: a morpho venue', () => {
  const A = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
  const ID = `0x${'ab'.repeat(32)}`;
  const yaml = (venue: string, instrument = '{ venue: m, asset: ETH }') =>
    [
      `quote: { symbol: USDC, token: ${A(0xc1)}, decimals: 6 }`,
      'assets:',
      `  ETH: { token: ${A(0xe1)}, feed: ${A(0xf1)}, decimals: 18 }`,
      `  BTC: { token: ${A(0xb1)}, feed: ${A(0xf2)}, decimals: 8 }`,
      'pools:',
      `  weth-usdc: { address: ${A(0x91)}, token0: USDC, token1: ETH, fee: 500 }`,
      `  wbtc-usdc: { address: ${A(0x92)}, token0: BTC, token1: USDC, fee: 500 }`,
      'venues:',
      `  m: ${venue}`,
      'instruments:',
      `  - ${instrument}`,
      'policy:',
      '  assets:',
      '    ETH: { band: 0.5, minTrade: 0.01, maxTrade: 50 }',
      '    BTC: { band: 0.02, minTrade: 0.0005, maxTrade: 2 }',
      '',
    ].join('\n');
  const venue = (over = '') => `{ kind: morpho, morpho: ${A(0xb10)}, marketId: '${ID}', loanAsset: ETH, swapPool: weth-usdc, swapRouter: ${A(0xa1)}, quoter: ${A(0xa2)}${over} }`;

  it('parses into a MorphoVenueSpec with its collateral policy', async () => {
    const { parsePortfolioYaml } = await import('../../src/portfolio/file.js');
    const p = parsePortfolioYaml(yaml(venue(', trigger: 1.2, target: 1.5')), 'keeper.yaml');
    expect(p.venues[0]).toEqual({
      kind: 'morpho', id: 'm', morpho: A(0xb10), marketId: ID, loanAsset: 'ETH', swapPool: 'weth-usdc', swapRouter: A(0xa1), quoter: A(0xa2),
      collateral: { triggerE18: 12n * 10n ** 17n, targetE18: 15n * 10n ** 17n, maxTopUpUnits: 100_000n * U, maxTopUpPerDayUnits: 500_000n * U },
    });
  });

  it.each([
    ['a bad market id', venue().replace(`'${ID}'`, '0x1234'), undefined, 'keeper.yaml: venues.m.marketId: expected a bytes32 id (0x and 64 hex digits)'],
    ['an undeclared loan asset', venue().replace('loanAsset: ETH', 'loanAsset: SOL'), undefined, 'keeper.yaml: venues.m.loanAsset: no asset "SOL" is declared'],
    ['the quote as loan asset', venue().replace('loanAsset: ETH', 'loanAsset: USDC'), undefined, 'keeper.yaml: venues.m.loanAsset: USDC is the quote'],
    ['a pool of another asset', venue().replace('swapPool: weth-usdc', 'swapPool: wbtc-usdc'), undefined, 'keeper.yaml: venues.m.swapPool: pool wbtc-usdc trades BTC/USDC, not ETH against the quote USDC'],
    ['an instrument of another asset', venue(), '{ venue: m, asset: BTC }', 'keeper.yaml: instruments[0].asset: venue m lends ETH; it cannot hedge BTC'],
    ['a typo in a key', venue().replace('quoter:', 'qouter:'), undefined, 'keeper.yaml: venues.m.qouter: unknown key; did you mean quoter?'],
  ])('reports %s at its key path', async (_name, v, instrument, message) => {
    const { parsePortfolioYaml } = await import('../../src/portfolio/file.js');
    let lines: string[] = [];
    try {
      parsePortfolioYaml(yaml(v, instrument), 'keeper.yaml');
    } catch (err) {
      lines = (err as { problems?: string[]; lines?: string[] }).problems ?? (err as { lines?: string[] }).lines ?? [String(err)];
    }
    expect(lines.some((l) => l.startsWith(message)), lines.join('\n')).toBe(true);
  });
});
