import { describe, expect, it } from 'vitest';
import type { InstrumentSpec, Portfolio, PortfolioSnapshot, VenueAccount } from '../../src/portfolio/model.js';
import { assessPortfolio } from '../../src/core/portfolio/assess.js';
import { addPendingHedge, allocateHedge, requiredChangeUnits, waterfill, type PendingChanges } from '../../src/core/portfolio/allocate.js';
import {
  BTC, E16, E18, ETH, USD, ethPolicy, inst, linearModel, modelOf, portfolio, snapshot, stubAccount, stubVenue,
} from '../helpers/portfolio-stubs.js';

const BIG = 1_000_000n * USD;

/** 10 ETH in the wallet, no hedge: target -10, band 0.5, hysteresis 50% -> wanted -9.75 ETH. */
function run(opts: {
  instruments: InstrumentSpec[];
  venues?: Record<string, VenueAccount>;
  spotEth?: bigint;
  over?: Partial<Portfolio>;
  excluded?: Record<string, string>;
  pending?: PendingChanges;
  asset?: string;
}) {
  const p = portfolio({ instruments: opts.instruments, ...opts.over });
  const s: PortfolioSnapshot = snapshot({
    wallet: { nativeWei: 0n, balances: { ETH: opts.spotEth ?? 10n * ETH, BTC: BTC } },
    venues: opts.venues ?? { alpha: stubAccount('alpha', {}, { ETH: BIG }), beta: stubAccount('beta', {}, { ETH: BIG }) },
  });
  const a = assessPortfolio(p, s, modelOf);
  return allocateHedge({ portfolio: p, assessment: a, asset: opts.asset ?? 'ETH', modelOf, excludedVenues: opts.excluded, pending: opts.pending });
}

const split = (r: ReturnType<typeof run>) => r.allocations.map((x) => [x.instrument, x.sizeDeltaUnits]);

describe('allocateHedge', () => {
  it.each([
    {
      name: 'first priority takes all when it can',
      instruments: [inst('a', 'alpha', 'ETH', 0), inst('b', 'beta', 'ETH', 1)],
      venues: undefined,
      want: [['a', -9_750_000_000_000_000_000n]],
    },
    {
      // alpha has 3,000 quote: at its target 0.25 it carries $12,000 = 6 ETH; the rest spills to beta.
      name: 'spill-over when the first instrument lacks capacity',
      instruments: [inst('a', 'alpha', 'ETH', 0), inst('b', 'beta', 'ETH', 1)],
      venues: { alpha: stubAccount('alpha', {}, { ETH: 3_000n * USD }), beta: stubAccount('beta', {}, { ETH: BIG }) },
      want: [['a', -6n * ETH], ['b', -3_750_000_000_000_000_000n]],
    },
    {
      name: 'capacity counts the existing short (alpha already -2 ETH of its 6)',
      instruments: [inst('a', 'alpha', 'ETH', 0), inst('b', 'beta', 'ETH', 1)],
      venues: { alpha: stubAccount('alpha', { ETH: -2n * ETH }, { ETH: 3_000n * USD }), beta: stubAccount('beta', {}, { ETH: BIG }) },
      // hedge -2, target -10, deviation 8, wanted -7.75: alpha 4 more, beta 3.75
      want: [['a', -4n * ETH], ['b', -3_750_000_000_000_000_000n]],
      wanted: -7_750_000_000_000_000_000n,
    },
    {
      name: 'weights split one priority 3:1',
      instruments: [inst('a', 'alpha', 'ETH', 0, 3), inst('b', 'beta', 'ETH', 0, 1)],
      venues: undefined,
      want: [['a', -7_312_500_000_000_000_000n], ['b', -2_437_500_000_000_000_000n]],
    },
    {
      name: 'within one priority, what a capped instrument cannot take goes to its peer',
      instruments: [inst('a', 'alpha', 'ETH', 0, 1), inst('b', 'beta', 'ETH', 0, 1)],
      venues: { alpha: stubAccount('alpha', {}, { ETH: 1_500n * USD }), beta: stubAccount('beta', {}, { ETH: BIG }) },
      want: [['a', -3n * ETH], ['b', -6_750_000_000_000_000_000n]],
    },
    {
      name: 'maxSizeUnits bounds an instrument',
      instruments: [inst('a', 'alpha', 'ETH', 0, 1, 2n * ETH), inst('b', 'beta', 'ETH', 1)],
      venues: undefined,
      want: [['a', -2n * ETH], ['b', -7_750_000_000_000_000_000n]],
    },
    {
      name: 'fractional weights are exact',
      instruments: [inst('a', 'alpha', 'ETH', 0, 0.1), inst('b', 'beta', 'ETH', 0, 0.3)],
      venues: undefined,
      want: [['a', -2_437_500_000_000_000_000n], ['b', -7_312_500_000_000_000_000n]],
    },
  ])('$name', ({ instruments, venues, want, wanted = -9_750_000_000_000_000_000n }) => {
    const r = run({ instruments, venues });
    expect(r.wantedUnits).toBe(wanted);
    expect(split(r)).toEqual(want);
    expect(r.unallocatedUnits).toBe(wanted - want.reduce((s, [, u]) => s + (u as bigint), 0n));
  });

  it('the per-trade cap clips each instrument and spills the rest', () => {
    const over = { policy: { ...portfolio().policy, assets: { ...portfolio().policy.assets, ETH: { ...ethPolicy, maxTradeUnits: 5n * ETH } } } };
    const r = run({ instruments: [inst('a', 'alpha', 'ETH', 0), inst('b', 'beta', 'ETH', 1)], over });
    expect(split(r)).toEqual([['a', -5n * ETH], ['b', -4_750_000_000_000_000_000n]]);
    expect(r.reasons.some((x) => x.includes('a: limited to -5.000000 ETH by the per-trade cap'))).toBe(true);
  });

  it('a venue in safe mode is skipped and its share spills to the next', () => {
    const r = run({ instruments: [inst('a', 'alpha', 'ETH', 0), inst('b', 'beta', 'ETH', 1)], excluded: { alpha: 'safe mode (feed stale)' } });
    expect(split(r)).toEqual([['b', -9_750_000_000_000_000_000n]]);
    expect(r.unallocatedUnits).toBe(0n);
    expect(r.reasons).toEqual(['a: venue alpha excluded: safe mode (feed stale), its share spills over']);
  });

  it('what no instrument can take stays unallocated, with a reason', () => {
    const r = run({
      instruments: [inst('a', 'alpha', 'ETH', 0)],
      venues: { alpha: stubAccount('alpha', {}, { ETH: 3_000n * USD }) },
    });
    expect(split(r)).toEqual([['a', -6n * ETH]]);
    expect(r.unallocatedUnits).toBe(-3_750_000_000_000_000_000n);
    expect(r.reasons.at(-1)).toBe('-3.750000 ETH of -9.750000 ETH not allocated this tick');
  });

  it('dust below minTradeUnits is dropped with a reason', () => {
    // weights 999:1 -> beta's share 0.00975 ETH < min trade 0.01
    const r = run({ instruments: [inst('a', 'alpha', 'ETH', 0, 999), inst('b', 'beta', 'ETH', 0, 1)] });
    expect(split(r)).toEqual([['a', -9_740_250_000_000_000_000n]]);
    expect(r.unallocatedUnits).toBe(-9_750_000_000_000_000n);
    expect(r.reasons[0]).toBe('b: -0.009750 ETH below min trade 0.010000 ETH, dropped as dust');
  });

  it('reductions unwind the last-filled (highest priority number) instrument first', () => {
    // hedge -6 (a) + -4 (b) = -10 against spot 5: deviation -5, wanted +4.75
    const r = run({
      instruments: [inst('a', 'alpha', 'ETH', 0), inst('b', 'beta', 'ETH', 1)],
      venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: 10n * USD }), beta: stubAccount('beta', { ETH: -4n * ETH }, { ETH: 10n * USD }) },
      spotEth: 5n * ETH,
    });
    // no capacity is needed to reduce, even on thin collateral
    expect(split(r)).toEqual([['b', 4n * ETH], ['a', 750_000_000_000_000_000n]]);
    expect(r.unallocatedUnits).toBe(0n);
  });

  it('in band: nothing wanted, nothing allocated', () => {
    const r = run({ instruments: [inst('a', 'alpha', 'ETH', 0)], spotEth: ETH / 4n });
    expect(r).toEqual({ wantedUnits: 0n, allocations: [], unallocatedUnits: 0n, reasons: [] });
  });

  it('a cross-margin venue counts what another asset already took this tick', () => {
    const p = portfolio({
      venues: [stubVenue('gamma', true)],
      instruments: [inst('eth-g', 'gamma', 'ETH', 0), inst('btc-g', 'gamma', 'BTC', 0)],
    });
    const account = stubAccount('gamma', {}, { '': 10_000n * USD });
    const s = snapshot({ wallet: { nativeWei: 0n, balances: { ETH: 10n * ETH, BTC: BTC / 2n } }, venues: { gamma: account } });
    const a = assessPortfolio(p, s, modelOf);
    const pending: PendingChanges = new Map();
    const eth = allocateHedge({ portfolio: p, assessment: a, asset: 'ETH', modelOf, pending });
    expect(split(eth)).toEqual([['eth-g', -9_750_000_000_000_000_000n]]);
    // 10,000 at 0.25 carries $40,000; ETH took $19,500: $20,500 left = 0.341666.. BTC (wanted 0.49 BTC)
    const btc = allocateHedge({ portfolio: p, assessment: a, asset: 'BTC', modelOf, pending });
    expect(btc.wantedUnits).toBe(-49_000_000n);
    expect(split(btc)).toEqual([['btc-g', -34_166_666n]]);
    const ratio = (btcUnits: bigint) =>
      linearModel.ratioAfter(p.venues[0]!, account, a.prices, { hedgeDeltaUnits: { ETH: -9_750_000_000_000_000_000n, BTC: -btcUnits } }, null);
    expect(ratio(34_166_666n) >= 25n * E16).toBe(true);
    expect(ratio(34_166_667n) < 25n * E16).toBe(true);
    // Without the pending ETH trade the venue would have offered the whole 0.49 BTC.
    expect(split(allocateHedge({ portfolio: p, assessment: a, asset: 'BTC', modelOf }))).toEqual([['btc-g', -49_000_000n]]);
  });

  it('a pending trade from elsewhere reduces an isolated bucket only for its own asset', () => {
    const pending: PendingChanges = new Map();
    addPendingHedge(pending, 'alpha', 'BTC', -BTC);
    const r = run({
      instruments: [inst('a', 'alpha', 'ETH', 0)],
      venues: { alpha: stubAccount('alpha', {}, { ETH: 3_000n * USD, BTC: BIG }) },
      pending,
    });
    expect(split(r)).toEqual([['a', -6n * ETH]]);
  });
});

describe('requiredChangeUnits', () => {
  it.each([
    [0n, ETH, E18 / 2n, 0n], // in band
    [2n * ETH, ETH / 2n, 50n * E16, -1_750_000_000_000_000_000n],
    [-2n * ETH, ETH / 2n, 50n * E16, 1_750_000_000_000_000_000n],
    [2n * ETH, ETH / 2n, E18, -2n * ETH], // 100% hysteresis: back to target
    [2n * ETH, ETH / 2n, 0n, -1_500_000_000_000_000_000n], // no hysteresis: back to the band edge
  ])('deviation %s band %s hysteresis %s -> %s', (deviationUnits, bandUnits, hysteresisE18, want) => {
    const a = { deviationUnits, bandUnits, inBand: (deviationUnits < 0n ? -deviationUnits : deviationUnits) <= bandUnits };
    expect(requiredChangeUnits(a as never, { ...ethPolicy, hysteresisE18 })).toBe(want);
  });
});

describe('waterfill', () => {
  it.each([
    [10n, [1n, 1n], [100n, 100n], [5n, 5n]],
    [11n, [1n, 1n], [100n, 100n], [6n, 5n]],
    [10n, [1n, 1n], [2n, 100n], [2n, 8n]],
    [10n, [1n, 0n], [4n, 100n], [4n, 6n]], // zero weight takes only the overflow
    [10n, [1n, 0n], [100n, 100n], [10n, 0n]],
    [10n, [1n, 1n], [3n, 3n], [3n, 3n]], // more than the limits allow: the rest is left
    [10n, [0n, 0n], [100n, 100n], [5n, 5n]],
    [7n, [2n, 1n, 1n], [100n, 0n, 100n], [5n, 0n, 2n]],
  ])('%s by %s under %s = %s', (total, weights, limits, want) => {
    expect(waterfill(total, weights, limits)).toEqual(want);
  });
});
