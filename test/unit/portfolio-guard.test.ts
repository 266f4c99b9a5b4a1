import { describe, expect, it } from 'vitest';
import type { PortfolioAction } from '../../src/portfolio/model.js';
import {
  checkPortfolioAction, initialPortfolioGuardState, recordPortfolioAction, topUpAllowanceFor, topUpAllowances,
  type PortfolioGuardState,
} from '../../src/core/portfolio/guard.js';
import { BTC, BTC_PRICE, ETH, ETH_PRICE, NOW, USD, btcPolicy, ethPolicy, portfolio } from '../helpers/portfolio-stubs.js';

const E8 = 10n ** 8n;
const DAY = 86_400;
/** ETH: $30,000 of hedge notional a day, 15 ETH a trade. Venues: 10,000 quote a top-up, 20,000 a day. */
const p = portfolio({
  policyOver: {
    assets: {
      ETH: { ...ethPolicy, maxTradeUnits: 15n * ETH, maxNotionalPerDayUsdE8: 30_000n * E8 },
      BTC: { ...btcPolicy, maxNotionalPerDayUsdE8: 30_000n * E8 },
    },
  },
});
const ctx = { nowSec: NOW, pricesE8: { ETH: ETH_PRICE, BTC: BTC_PRICE } };

const hedge = (asset: string, instrument: string, sizeDeltaUnits: bigint, venue = 'alpha'): PortfolioAction =>
  ({ kind: 'adjustHedge', venue, instrument, asset, sizeDeltaUnits, reason: 'test' });
const topUp = (venue: string, amountUnits: bigint): PortfolioAction => ({ kind: 'topUp', venue, asset: 'ETH', amountUnits, reason: 'test' });
const move = (from: string, to: string, amountUnits: bigint): PortfolioAction =>
  ({ kind: 'moveCollateral', from, fromAsset: 'ETH', to, toAsset: 'ETH', amountUnits, reason: 'test' });

/** Check then record each action in turn, as the executor does; the verdicts in order. */
function runDay(actions: PortfolioAction[], state: PortfolioGuardState = initialPortfolioGuardState(NOW), c = ctx) {
  const verdicts: Array<true | string> = [];
  for (const action of actions) {
    const v = checkPortfolioAction(action, p, state, c);
    verdicts.push(v.ok ? true : v.reason);
    if (v.ok) state = recordPortfolioAction(state, action, p, c);
  }
  return { verdicts, state };
}

describe('checkPortfolioAction: hedge caps', () => {
  it('refuses the second trade past the per-asset daily notional; another asset has its own budget', () => {
    const { verdicts, state } = runDay([
      hedge('ETH', 'eth-alpha', -10n * ETH), // $20,000
      hedge('ETH', 'eth-beta', -10n * ETH, 'beta'), // +$20,000 > $30,000
      hedge('BTC', 'btc-alpha', -BTC / 4n), // $15,000 of BTC's own $30,000
      hedge('ETH', 'eth-alpha', 5n * ETH), // $10,000: exactly the rest
      hedge('ETH', 'eth-alpha', 1n), // one wei over
    ]);
    expect(verdicts).toEqual([
      true,
      'ETH trade notional $20000.00 + $20000.00 already traded today exceeds the daily cap $30000.00',
      true,
      true,
      expect.stringMatching(/^ETH trade notional \$0\.00 \+ \$30000\.00/),
    ]);
    expect(state.notionalByAssetUsdE8).toEqual({ ETH: 30_000n * E8, BTC: 15_000n * E8 });
    // The next UTC day starts from zero.
    const tomorrow = { ...ctx, nowSec: NOW + DAY };
    expect(checkPortfolioAction(hedge('ETH', 'eth-alpha', -10n * ETH), p, state, tomorrow)).toEqual({ ok: true });
    expect(recordPortfolioAction(state, hedge('ETH', 'eth-alpha', -ETH), p, tomorrow)).toEqual({
      day: Math.floor((NOW + DAY) / DAY), notionalByAssetUsdE8: { ETH: 2_000n * E8 }, topUpByVenueUnits: {},
    });
  });

  it.each([
    [hedge('ETH', 'eth-alpha', 15n * ETH + 1n), 'trade 15.000000000000000001 ETH exceeds the per-trade cap 15.000000000000000000 ETH'],
    [hedge('BTC', 'btc-alpha', 5n * BTC + 1n), 'trade 5.00000001 BTC exceeds the per-trade cap 5.00000000 BTC'],
    [hedge('ETH', 'eth-alpha', 0n), 'hedge trade of zero size'],
    [hedge('ETH', 'btc-alpha', -ETH), 'instrument btc-alpha does not carry ETH on alpha'],
    [hedge('ETH', 'eth-alpha', -ETH, 'beta'), 'instrument eth-alpha does not carry ETH on beta'],
    [hedge('DOGE', 'eth-alpha', -ETH), 'hedge of unknown asset DOGE'],
    [{ kind: 'withdrawAll' } as unknown as PortfolioAction, 'unknown action kind withdrawAll'],
  ])('refuses %#: %s', (action, reason) => {
    expect(checkPortfolioAction(action, p, initialPortfolioGuardState(NOW), ctx)).toEqual({ ok: false, reason });
  });

  it('refuses a trade it cannot value', () => {
    const v = checkPortfolioAction(hedge('BTC', 'btc-alpha', -BTC), p, initialPortfolioGuardState(NOW), { ...ctx, pricesE8: { ETH: ETH_PRICE, BTC: 0n } });
    expect(v).toEqual({ ok: false, reason: 'no usable price (0) to value the BTC trade' });
  });
});

describe('checkPortfolioAction: top-up caps per venue', () => {
  it('refuses a top-up past the venue daily cap; a move counts against the receiving venue', () => {
    const { verdicts, state } = runDay([
      topUp('alpha', 10_000n * USD),
      move('beta', 'alpha', 9_000n * USD),
      topUp('alpha', 1_000n * USD + 1n),
      topUp('beta', 10_000n * USD), // beta gave collateral away: nothing counted against it
      topUp('alpha', 1_000n * USD),
    ]);
    expect(verdicts).toEqual([
      true,
      true,
      'top-up 1000.000001 USDC + 19000.000000 USDC already added to alpha today exceeds its daily cap 20000.000000 USDC',
      true,
      true,
    ]);
    expect(state.topUpByVenueUnits).toEqual({ alpha: 20_000n * USD, beta: 10_000n * USD });
  });

  it.each([
    [topUp('alpha', 10_000n * USD + 1n), 'top-up 10000.000001 USDC into alpha exceeds its per-action cap 10000.000000 USDC'],
    [move('beta', 'alpha', 10_000n * USD + 1n), 'collateral move 10000.000001 USDC into alpha exceeds its per-action cap 10000.000000 USDC'],
    [topUp('alpha', 0n), 'top-up amount 0.000000 USDC is not positive'],
    [topUp('gamma', USD), 'top-up to unknown venue gamma'],
    [move('gamma', 'alpha', USD), 'collateral move from unknown venue gamma'],
    [move('alpha', 'alpha', USD), 'collateral move from alpha to the same bucket'],
  ])('refuses %#: %s', (action, reason) => {
    expect(checkPortfolioAction(action, p, initialPortfolioGuardState(NOW), ctx)).toEqual({ ok: false, reason });
  });
});

describe('topUpAllowanceFor', () => {
  it.each([
    [0n, 10_000n * USD, /^the per-action top-up cap of alpha 10000\.000000 USDC$/],
    [15_000n * USD, 5_000n * USD, /^the daily top-up cap of alpha \(5000\.000000 USDC left of 20000\.000000 USDC\)$/],
    [25_000n * USD, 0n, /daily top-up cap/],
  ])('after %s today: %s', (spent, units, limitedBy) => {
    const state = { ...initialPortfolioGuardState(NOW), topUpByVenueUnits: { alpha: spent } };
    const a = topUpAllowanceFor('alpha', p, state, NOW);
    expect(a.units).toBe(units);
    expect(a.limitedBy).toMatch(limitedBy);
    // yesterday's spending does not count
    expect(topUpAllowanceFor('alpha', p, state, NOW + DAY).units).toBe(10_000n * USD);
  });

  it('one allowance per venue', () => {
    const state = { ...initialPortfolioGuardState(NOW), topUpByVenueUnits: { beta: 19_000n * USD } };
    const all = topUpAllowances(p, state, NOW);
    expect(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.units]))).toEqual({ alpha: 10_000n * USD, beta: 1_000n * USD });
  });
});
