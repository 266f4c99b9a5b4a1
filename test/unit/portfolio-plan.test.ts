import { describe, expect, it } from 'vitest';
import type { PortfolioAction, VenueAccount } from '../../src/portfolio/model.js';
import { assessPortfolio } from '../../src/core/portfolio/assess.js';
import {
  initialPortfolioPolicyState, planPortfolio, type PortfolioPlanOptions, type PortfolioPolicyState,
} from '../../src/core/portfolio/plan.js';
import { BTC, ETH, NOW, USD, modelOf, portfolio, snapshot, stubAccount } from '../helpers/portfolio-stubs.js';

const BIG = 1_000_000n * USD;

interface Case {
  eth?: bigint;
  btc?: bigint;
  usdc?: bigint;
  venues?: Record<string, VenueAccount>;
  state?: Partial<PortfolioPolicyState>;
  opts?: Partial<PortfolioPlanOptions>;
  btcPriceE8?: bigint;
}

/**
 * Default: 6 ETH hedged by -6 on alpha (collateral 5,000: ratio 0.4167), no BTC, no quote.
 * ETH alpha bucket at 1,500 is 0.125 (< trigger 0.15, needs 1,500 to reach 0.25).
 */
function plan(c: Case = {}) {
  const p = portfolio();
  const s = snapshot({
    wallet: { nativeWei: 0n, balances: { ETH: c.eth ?? 6n * ETH, BTC: c.btc ?? 0n, USDC: c.usdc ?? 0n } },
    venues: c.venues ?? { alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: 5_000n * USD, BTC: BIG }), beta: stubAccount('beta', {}, { ETH: BIG }) },
    ...(c.btcPriceE8 !== undefined ? { prices: { ...snapshot().prices, BTC: { priceE8: c.btcPriceE8, updatedAtSec: 0n } } } : {}),
  });
  const a = assessPortfolio(p, s, modelOf);
  return planPortfolio(a, { ...initialPortfolioPolicyState(), ...c.state }, p, NOW, { modelOf, ...c.opts });
}

const brief = (actions: PortfolioAction[]) =>
  actions.map((x) =>
    x.kind === 'adjustHedge' ? [x.kind, x.instrument, x.sizeDeltaUnits]
      : x.kind === 'topUp' ? [x.kind, x.venue, x.asset, x.amountUnits]
        : [x.kind, `${x.from}/${x.fromAsset}`, `${x.to}/${x.toAsset}`, x.amountUnits]);

/** alpha's ETH bucket under its trigger (1,500 on 6 ETH = 0.125); beta holds -1 ETH on 10,000. */
const thinAlpha = {
  alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: 1_500n * USD }),
  beta: stubAccount('beta', { ETH: -ETH }, { ETH: 10_000n * USD }),
};

describe('planPortfolio: hedges per asset', () => {
  it('quiet tick: nothing planned, no strings built', () => {
    const state = initialPortfolioPolicyState();
    const r = planPortfolio(assessPortfolio(portfolio(), snapshot({
      wallet: { nativeWei: 0n, balances: { ETH: 6n * ETH } },
      venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: 5_000n * USD }), beta: stubAccount('beta', {}, {}) },
    }), modelOf), state, portfolio(), NOW, { modelOf });
    expect(r).toEqual({ actions: [], skipped: [], warnings: [], state });
    expect(r.state).toBe(state);
  });

  it('BTC out of band while ETH is in band: only a BTC action, and only BTC restarts its cooldown', () => {
    const r = plan({ btc: BTC / 2n });
    expect(brief(r.actions)).toEqual([['adjustHedge', 'btc-alpha', -49_000_000n]]);
    expect(r.actions[0]).toMatchObject({ venue: 'alpha', asset: 'BTC' });
    expect((r.actions[0] as { reason: string }).reason).toMatch(/^BTC deviation 0\.500000 BTC .* sell 0\.490000 BTC on btc-alpha/);
    expect(r.skipped).toEqual([]);
    expect(r.state.lastHedgeAtSecByAsset).toEqual({ BTC: NOW });
  });

  it.each([
    // BTC 0.05 out of a 0.02 band: within 3 bands, the cooldown holds it
    { btc: 5_000_000n, want: [['adjustHedge', 'eth-alpha', -750_000_000_000_000_000n]], held: 'BTC cooldown: 50s of 60s left' },
    // BTC 0.5: beyond 3 bands, the cooldown is overridden
    { btc: BTC / 2n, want: [['adjustHedge', 'eth-alpha', -750_000_000_000_000_000n], ['adjustHedge', 'btc-alpha', -49_000_000n]], held: null },
  ])('cooldown is per asset (BTC $btc)', ({ btc, want, held }) => {
    const r = plan({ eth: 7n * ETH, btc, state: { lastHedgeAtSecByAsset: { BTC: NOW - 10 } } });
    expect(brief(r.actions)).toEqual(want);
    if (held) expect(r.skipped).toEqual([expect.stringContaining(held)]);
    else expect((r.actions[1] as { reason: string }).reason).toContain('cooldown (50s left) overridden');
  });

  it('a pending hedge holds new hedges; collateral actions go on', () => {
    const r = plan({ btc: BTC / 2n, usdc: 10_000n * USD, venues: thinAlpha, eth: 7n * ETH, state: { hedgeHold: 'hedge 0xabc pending' } });
    expect(brief(r.actions)).toEqual([['topUp', 'alpha', 'ETH', 1_500n * USD]]);
    expect(r.skipped).toEqual([expect.stringMatching(/^hedge 0xabc pending: hedge sell 0\.490000 BTC not placed/)]);
  });

  it('a venue not read holds the hedge of every asset it carries', () => {
    const r = plan({ eth: 8n * ETH, venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: BIG }) } });
    expect(r.actions).toEqual([]);
    expect(r.skipped).toEqual([expect.stringMatching(/^hedge on beta not read: hedge sell 1\.750000 ETH/)]);
  });

  it('order: collateral first, then reductions, then increases', () => {
    // ETH needs more short (alpha is at its target after the top-up: spills to beta); BTC is over-hedged.
    const r = plan({
      eth: 7n * ETH, btc: BTC / 10n, usdc: 10_000n * USD,
      venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH, BTC: -BTC / 2n }, { ETH: 1_500n * USD, BTC: BIG }), beta: stubAccount('beta', {}, { ETH: BIG }) },
    });
    expect(brief(r.actions)).toEqual([
      ['topUp', 'alpha', 'ETH', 1_500n * USD],
      ['adjustHedge', 'btc-alpha', 39_000_000n],
      ['adjustHedge', 'eth-beta', -750_000_000_000_000_000n],
    ]);
    expect(r.state.lastHedgeAtSecByAsset).toEqual({ ETH: NOW, BTC: NOW });
  });
});

describe('planPortfolio: safe mode', () => {
  it('portfolio-wide: no hedge, no top-up', () => {
    const r = plan({ btc: BTC / 2n, usdc: 10_000n * USD, venues: thinAlpha, eth: 7n * ETH, state: { safeMode: { reason: 'oracle stale' } } });
    expect(r.actions).toEqual([]);
    expect(r.skipped).toEqual([
      expect.stringMatching(/^safe mode \(oracle stale\): hedge sell 0\.490000 BTC not placed/),
      expect.stringMatching(/^safe mode \(oracle stale\): no top-up sized on a price .*alpha\/ETH ratio 0\.1250 below trigger 0\.1500/),
    ]);
  });

  it('per venue: its bucket gets no top-up and its share of a hedge spills to the next venue', () => {
    const r = plan({ eth: 9n * ETH, usdc: 10_000n * USD, venues: thinAlpha, state: { safeVenues: { alpha: 'venue ratio mismatch' } } });
    // ETH 9 vs hedge -7: wanted -1.75, all on beta
    expect(brief(r.actions)).toEqual([['adjustHedge', 'eth-beta', -1_750_000_000_000_000_000n]]);
    expect(r.skipped.at(-1)).toMatch(/^venue safe mode \(venue ratio mismatch\): no top-up .* alpha\/ETH ratio/);
    expect(r.skipped).toContain('ETH allocation: eth-alpha: venue alpha excluded: venue safe mode (venue ratio mismatch), its share spills over');
  });

  it.each([
    { state: { safeAssets: { BTC: 'feed deviates' } }, why: 'BTC in safe mode (feed deviates)' },
    { btcPriceE8: 0n, why: 'no usable BTC price' },
  ])('per asset ($why): no BTC hedge and no top-up of a BTC bucket; ETH goes on', ({ state, btcPriceE8, why }) => {
    const r = plan({
      eth: 7n * ETH, btc: BTC / 2n, usdc: 10_000n * USD, state, btcPriceE8,
      venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH, BTC: -BTC / 10n }, { ETH: BIG, BTC: 100n * USD }), beta: stubAccount('beta', {}, { ETH: BIG }) },
    });
    expect(brief(r.actions)).toEqual([['adjustHedge', 'eth-alpha', -750_000_000_000_000_000n]]);
    expect(r.skipped.filter((x) => x.startsWith(why))).toHaveLength(btcPriceE8 === 0n ? 1 : 2);
  });
});

describe('planPortfolio: collateral', () => {
  it('a top-up per breached bucket, most urgent first, each the smallest that reaches the target', () => {
    const r = plan({
      usdc: 10_000n * USD, btc: 30_000_000n,
      venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH, BTC: -30_000_000n }, { ETH: 1_500n * USD, BTC: 2_000n * USD }), beta: stubAccount('beta', {}, {}) },
    });
    // BTC 2,000 on $18,000 = 0.111 (needs 2,500); ETH 1,500 on $12,000 = 0.125 (needs 1,500)
    expect(brief(r.actions)).toEqual([['topUp', 'alpha', 'BTC', 2_500n * USD], ['topUp', 'alpha', 'ETH', 1_500n * USD]]);
    expect((r.actions[1] as { reason: string }).reason).toBe(
      'alpha/ETH ratio 0.1250 below trigger 0.1500: add 1500.000000 USDC to reach target 0.2500; 1500.000000 USDC from the wallet',
    );
  });

  it.each([
    // wallet empty: all 1,500 moved from beta/ETH (10,000 on $2,000: 9,500 above its target)
    { usdc: 0n, want: [['moveCollateral', 'beta/ETH', 'alpha/ETH', 1_500n * USD]] },
    // wallet short: what it has, the rest moved
    { usdc: 1_000n * USD, want: [['topUp', 'alpha', 'ETH', 1_000n * USD], ['moveCollateral', 'beta/ETH', 'alpha/ETH', 500n * USD]] },
    { usdc: 5_000n * USD, want: [['topUp', 'alpha', 'ETH', 1_500n * USD]] },
  ])('wallet $usdc: collateral moved from the bucket with the most to spare', ({ usdc, want }) => {
    const r = plan({ eth: 7n * ETH, usdc, venues: thinAlpha });
    expect(brief(r.actions)).toEqual(want);
    expect(r.warnings).toEqual([]);
  });

  it('the donor is the bucket with the most withdrawable above its own target', () => {
    const r = plan({
      eth: 7n * ETH, btc: 10_000_000n,
      venues: {
        alpha: stubAccount('alpha', { ETH: -6n * ETH, BTC: -10_000_000n }, { ETH: 1_500n * USD, BTC: 20_000n * USD }),
        beta: stubAccount('beta', { ETH: -ETH }, { ETH: 10_000n * USD }),
      },
    });
    // alpha/BTC: 20,000 - 0.25 × $6,000 = 18,500 spare > beta/ETH 9,500
    expect(brief(r.actions)).toEqual([['moveCollateral', 'alpha/BTC', 'alpha/ETH', 1_500n * USD]]);
  });

  it.each([
    // allowance 1,000: 2,500 on $12,000 = 0.2083 clears the trigger: sent, clipped
    { units: 1_000n * USD, want: [['topUp', 'alpha', 'ETH', 1_000n * USD]], warn: false },
    // allowance 200: 1,700 = 0.1417 stays under the trigger: not sent, warned
    { units: 200n * USD, want: [], warn: true },
  ])('clipped by the venue allowance ($units)', ({ units, want, warn }) => {
    const r = plan({ eth: 7n * ETH, usdc: 10_000n * USD, venues: thinAlpha, opts: { topUpAllowance: { alpha: { units, limitedBy: 'the cap' } } } });
    expect(brief(r.actions)).toEqual(want);
    if (warn) {
      expect(r.warnings).toEqual([{
        event: 'topup.insufficient', venue: 'alpha', bucket: 'ETH', neededUnits: 1_500n * USD, availableUnits: 200n * USD,
        message: expect.stringContaining('would reach only 0.1417, under the trigger; not sent'),
      }]);
    } else {
      expect(r.skipped).toEqual(['top-up of alpha/ETH short by 500.000000 USDC: limited by the cap']);
    }
  });

  it('a top-up is sized for the position the planned hedge leaves', () => {
    // BTC -0.5 on 1,000 (0.033); spot 0.1 -> reduce by 0.39 to -0.11 ($6,600): 1,650 - 1,000 = 650, not 11,500
    const venues = { alpha: stubAccount('alpha', { ETH: -6n * ETH, BTC: -BTC / 2n }, { ETH: BIG, BTC: 1_000n * USD }), beta: stubAccount('beta', {}, {}) };
    const r = plan({ btc: BTC / 10n, usdc: 20_000n * USD, venues });
    expect(brief(r.actions)).toEqual([['topUp', 'alpha', 'BTC', 650n * USD], ['adjustHedge', 'btc-alpha', 39_000_000n]]);
    // a reduction that restores the target on its own: no top-up
    const r2 = plan({ btc: BTC / 10n, usdc: 20_000n * USD, venues: { ...venues, alpha: stubAccount('alpha', { BTC: -BTC / 2n }, { BTC: 2_000n * USD }) }, eth: 0n });
    expect(brief(r2.actions)).toEqual([['adjustHedge', 'btc-alpha', 39_000_000n]]);
    expect(r2.skipped).toEqual([expect.stringMatching(/^top-up: alpha\/BTC ratio 0\.0667 below trigger 0\.1500, but it needs none after the hedges/)]);
  });

  it('a donor keeps its target after the hedge planned on it this tick', () => {
    // beta/ETH 10,000 on -1 ETH; ETH 3 more to short lands on beta (-4 ETH = $8,000 at 0.25 needs 2,000): 8,000 spare, not 9,500
    const r = plan({
      eth: 10n * ETH + ETH / 4n,
      venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: 1_500n * USD }), beta: stubAccount('beta', { ETH: -ETH }, { ETH: 10_000n * USD }) },
    });
    expect(brief(r.actions)).toEqual([
      ['moveCollateral', 'beta/ETH', 'alpha/ETH', 1_500n * USD],
      ['adjustHedge', 'eth-beta', -3n * ETH],
    ]);
    expect((r.actions[0] as { reason: string }).reason).toContain('1500.000000 USDC moved from beta/ETH (8000.000000 USDC above its target 0.2500)');
  });

  it('no wallet quote and no donor: the top-up is not sent and warns topup.insufficient', () => {
    const r = plan({
      usdc: 100n * USD,
      venues: { alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: 1_500n * USD }), beta: stubAccount('beta', {}, {}) },
    });
    expect(r.actions).toEqual([]);
    expect(r.warnings).toMatchObject([{ event: 'topup.insufficient', neededUnits: 1_500n * USD, availableUnits: 100n * USD, venue: 'alpha', bucket: 'ETH' }]);
  });
});

describe('planPortfolio: room for a hedge no venue can take at its target', () => {
  // ETH 12 spot hedged -6 on alpha (5,000: ratio 0.4167); beta has no margin at all.
  const venues = () => ({ alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: 5_000n * USD }), beta: stubAccount('beta', {}, {}) });

  it('with quote in the wallet: a top-up sized to hold the target with the rest of the short, sent before that short', () => {
    const r = plan({ eth: 12n * ETH, usdc: 100_000n * USD, venues: venues() });
    // alpha takes what keeps 0.25 (5,000 / (0.25 x 2,000) = 10 ETH: 4 more); the 1.75 left goes to
    // the first instrument by priority, alpha again, whose bucket then needs 11.75 x 2,000 x 0.25 =
    // 5,875 USDC: a top-up of 875, and one trade of 5.75.
    expect(brief(r.actions)).toEqual([
      ['topUp', 'alpha', 'ETH', 875n * USD],
      ['adjustHedge', 'eth-alpha', -5_750_000_000_000_000_000n],
    ]);
    expect((r.actions[0] as { reason: string }).reason).toMatch(/^room for the ETH hedge: 875\.000000 USDC into alpha\/ETH/);
    expect(r.state.lastHedgeAtSecByAsset).toEqual({ ETH: NOW });
  });

  it('with an empty wallet: the rest is left unhedged, and the plan says why', () => {
    const r = plan({ eth: 12n * ETH, usdc: 0n, venues: venues() });
    expect(brief(r.actions)).toEqual([['adjustHedge', 'eth-alpha', -4n * ETH]]);
    expect(r.skipped.join('\n')).toMatch(/ETH: 1\.750000 ETH left unhedged: eth-alpha needs 875\.000000 USDC more collateral for it, but the wallet has 0\.000000 USDC free/);
  });

  it('within the venue top-up allowance only', () => {
    const r = plan({ eth: 12n * ETH, usdc: 100_000n * USD, venues: venues(), opts: { topUpAllowance: { alpha: { units: 500n * USD, limitedBy: 'cap' } } } });
    expect(brief(r.actions)).toEqual([['adjustHedge', 'eth-alpha', -4n * ETH]]);
    expect(r.skipped.join('\n')).toMatch(/its top-up allowance is 500\.000000 USDC/);
  });
});
