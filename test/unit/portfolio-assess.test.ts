import { describe, expect, it } from 'vitest';
import { assessPortfolio, targetHedgeUnits, bandUnitsFor } from '../../src/core/portfolio/assess.js';
import { portfolioExposures, unitsToUsdE8 } from '../../src/core/portfolio/exposure.js';
import { MAX_UINT256 } from '../../src/core/format.js';
import {
  BTC, BTC_PRICE, E16, E18, ETH, ETH_PRICE, USD, btcPolicy, ethPolicy, lp, modelOf, portfolio, snapshot, stubAccount,
} from '../helpers/portfolio-stubs.js';

const E8 = 10n ** 8n;

/** Wallet 1 ETH (+0.5 native) and 0.1 BTC; a WBTC/WETH LP, a WETH/USDC LP and one in an undeclared pool. */
const snap = snapshot({
  wallet: { nativeWei: ETH / 2n, balances: { ETH: ETH, BTC: BTC / 10n, USDC: 5_000n * USD } },
  lps: [
    lp('wbtc-weth', 20_000_000n, 3n * ETH, 100_000n, ETH / 100n),
    lp('weth-usdc', 2n * ETH, 4_000n * USD),
    lp('unknown-pool', 7n * ETH, 7n * ETH),
  ],
  venues: {
    alpha: stubAccount('alpha', { ETH: -6n * ETH, BTC: -3n * BTC / 10n }, { ETH: 1_500n * USD, BTC: 4_500n * USD }),
    beta: stubAccount('beta', {}, {}),
  },
});

describe('portfolioExposures: the delta vector', () => {
  it.each([
    // includeNative, ETH wallet, ETH lp, ETH gross, BTC wallet, BTC lp
    [false, ETH, 5n * ETH + ETH / 100n, 6n * ETH + ETH / 100n, BTC / 10n, 20_100_000n],
    [true, ETH + ETH / 2n, 5n * ETH + ETH / 100n, 6n * ETH + ETH / 2n + ETH / 100n, BTC / 10n, 20_100_000n],
  ])('includeNative=%s: a WBTC/WETH LP adds to both assets, the quote side and undeclared pools add nothing',
    (includeNative, ethWallet, ethLp, ethGross, btcWallet, btcLp) => {
      const [eth, btc] = portfolioExposures(portfolio({ policyOver: { includeNative } }), snap);
      expect(eth).toMatchObject({ asset: 'ETH', walletUnits: ethWallet, lpUnits: ethLp, spotUnits: ethWallet + ethLp, grossSpotUnits: ethGross });
      expect(btc).toMatchObject({ asset: 'BTC', walletUnits: btcWallet, lpUnits: btcLp, spotUnits: btcWallet + btcLp, grossSpotUnits: btcWallet + btcLp });
      // 0.301 BTC at $60,000 = $18,060; decimals from the spec, not 18.
      expect(btc!.spotUsdE8).toBe(18_060n * E8);
    });

  it('gross counts wallet and LP apart: a short wallet does not cancel an LP', () => {
    const s = snapshot({ wallet: { nativeWei: 0n, balances: { ETH: -2n * ETH } }, lps: [lp('weth-usdc', 3n * ETH, 0n)] });
    const [eth] = portfolioExposures(portfolio(), s);
    expect(eth).toMatchObject({ spotUnits: ETH, grossSpotUnits: 5n * ETH });
  });

  it.each([
    [ETH, ETH_PRICE, 18, 2_000n * E8],
    [-ETH / 2n, ETH_PRICE, 18, -1_000n * E8],
    [BTC / 3n, BTC_PRICE, 8, 19_999_99980000n], // 33,333,333 sat at $60,000, truncated
    [5n, 1n, 0, 5n],
  ])('unitsToUsdE8(%s, %s, %s) = %s', (units, price, decimals, usd) => {
    expect(unitsToUsdE8(units, price, decimals)).toBe(usd);
  });
});

describe('assessPortfolio', () => {
  const a = assessPortfolio(portfolio(), snap, modelOf);
  const eth = a.assets.find((x) => x.asset === 'ETH')!;
  const btc = a.assets.find((x) => x.asset === 'BTC')!;

  it('per asset: hedge summed over its instruments, target, deviation, band, net', () => {
    expect(eth).toMatchObject({
      spotUnits: 6_010_000_000_000_000_000n,
      hedgeUnits: -6n * ETH,
      instruments: [
        { instrument: 'eth-alpha', venue: 'alpha', hedgeUnits: -6n * ETH },
        { instrument: 'eth-beta', venue: 'beta', hedgeUnits: 0n },
      ],
      targetHedgeUnits: -6_010_000_000_000_000_000n,
      deviationUnits: ETH / 100n,
      bandUnits: ETH / 2n,
      inBand: true,
      netUnits: ETH / 100n,
      netUsdE8: 20n * E8,
      unreadVenues: [],
    });
    expect(btc).toMatchObject({
      spotUnits: 30_100_000n, hedgeUnits: -30_000_000n, targetHedgeUnits: -30_100_000n, deviationUnits: 100_000n,
      bandUnits: 2_000_000n, inBand: true, netUnits: 100_000n, netUsdE8: 60n * E8,
    });
    expect(a.netUsdE8).toBe(80n * E8);
    expect(a.spotUsdE8).toBe(12_020n * E8 + 18_060n * E8);
    expect(a.walletQuoteUnits).toBe(5_000n * USD);
  });

  it('per venue: buckets with the trigger, breached = ratio < trigger', () => {
    const alpha = a.venues.find((v) => v.venue === 'alpha')!;
    expect(alpha.buckets.map((b) => [b.asset, b.ratioE18, b.breached, b.triggerE18, b.targetE18, b.assets])).toEqual([
      ['ETH', 125n * E16 / 10n, true, 15n * E16, 25n * E16, ['ETH']],
      ['BTC', 25n * E16, false, 15n * E16, 25n * E16, ['BTC']],
    ]);
    expect(a.venues.find((v) => v.venue === 'beta')!.buckets).toEqual([]);
  });

  it('a venue missing from the snapshot: its hedge is unknown, not zero', () => {
    const s = { ...snap, venues: { alpha: snap.venues['alpha']! } };
    const x = assessPortfolio(portfolio(), s, modelOf);
    expect(x.assets[0]!.unreadVenues).toEqual(['beta']);
    expect(x.venues[1]).toEqual({ venue: 'beta', account: null, buckets: [] });
  });

  it('an external band replaces max(abs, pct)', () => {
    const x = assessPortfolio(portfolio(), snap, modelOf, { bandUnits: { ETH: ETH / 200n } });
    expect(x.assets[0]).toMatchObject({ bandUnits: ETH / 200n, inBand: false });
  });

  it('a price of 0 values nothing', () => {
    const s = { ...snap, prices: { ...snap.prices, BTC: { priceE8: -5n, updatedAtSec: 0n } } };
    const x = assessPortfolio(portfolio(), s, modelOf);
    expect(x.assets[1]).toMatchObject({ priceE8: 0n, netUsdE8: 0n, spotUsdE8: 0n });
    expect(x.prices.pricesE8['BTC']).toBe(0n);
  });

  it('no position: ratio maxUint256, never breached', () => {
    const s = { ...snap, venues: { alpha: stubAccount('alpha', {}, { ETH: 10n }), beta: stubAccount('beta', {}, {}) } };
    const x = assessPortfolio(portfolio(), s, modelOf);
    expect(x.venues[0]!.buckets[0]).toMatchObject({ ratioE18: MAX_UINT256, breached: false });
  });
});

describe('policy arithmetic', () => {
  it.each([
    [E18, 3n, -3n],
    [E18 / 2n, 3n, -1n], // -1.5 truncated toward zero
    [E18 / 2n, -3n, 1n],
    [0n, 5n * ETH, 0n],
    [E18 / 3n, 10n * BTC, -333_333_333n],
  ])('target = -ratio %s × spot %s = %s', (ratio, spot, target) => {
    expect(targetHedgeUnits({ ...ethPolicy, hedgeRatioE18: ratio }, spot)).toBe(target);
  });

  it.each([
    [btcPolicy, 0n, 2_000_000n],
    [{ ...btcPolicy, bandPctE18: 10n * E16 }, 30_100_000n, 3_010_000n],
    [{ ...btcPolicy, bandPctE18: 10n * E16 }, -10_000_000n, 2_000_000n],
  ])('band = max(abs, pct × gross) %#', (policy, gross, band) => {
    expect(bandUnitsFor(policy, gross)).toBe(band);
  });
});
