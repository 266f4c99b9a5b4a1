import { describe, expect, it } from 'vitest';
import { assessPortfolio } from '../../src/core/portfolio/assess.js';
import { checkPortfolioAction, initialPortfolioGuardState, recordPortfolioAction } from '../../src/core/portfolio/guard.js';
import { initialPortfolioPolicyState, planPortfolio } from '../../src/core/portfolio/plan.js';
import { ETH, NOW, USD, modelOf, portfolio, snapshot, stubAccount } from '../helpers/portfolio-stubs.js';

/**
 * The per-trade cap counts the whole tick of an asset: what the allocation left over because of
 * the cap is not pushed onto a venue again as "unfunded" (found by the Hyperliquid kill test: a
 * 57.6 ETH deviation with a 50 ETH cap planned 50 + 7.6 on one instrument, merged into one
 * 57.6 ETH trade the guard blocked, on that tick and every tick after it: the keeper never hedged).
 */
/** The stub portfolio with ETH's instrument on alpha only (a 6 ETH short there), beta holding `betaShort`; deep collateral everywhere. */
function ethOnAlphaOnly(o: { walletEth: bigint; betaShort: bigint }) {
  const base = portfolio();
  const p = { ...base, instruments: base.instruments.filter((i) => i.id !== 'eth-beta') };
  const s = snapshot({
    wallet: { nativeWei: 0n, balances: { ETH: o.walletEth, BTC: 0n, USDC: 0n } },
    venues: {
      alpha: stubAccount('alpha', { ETH: -6n * ETH }, { ETH: 1_000_000n * USD, BTC: 1_000_000n * USD }),
      beta: stubAccount('beta', o.betaShort === 0n ? {} : { ETH: o.betaShort }, { ETH: 1_000_000n * USD }),
    },
  });
  return { p, a: assessPortfolio(p, s, modelOf) };
}

describe('planPortfolio: the per-trade cap', () => {
  it('a deviation beyond maxTrade on one instrument is traded up to the cap this tick, the rest next tick, and the guard passes it', () => {
    // ETH on alpha only: the allocation stops at the cap there, and nothing is merged on top of it.
    const { p, a } = ethOnAlphaOnly({ walletEth: 70n * ETH, betaShort: 0n });
    const r = planPortfolio(a, initialPortfolioPolicyState(), p, NOW, { modelOf });
    const eth = r.actions.filter((x) => x.kind === 'adjustHedge' && x.asset === 'ETH');
    const total = eth.reduce((sum, x) => sum + (x.kind === 'adjustHedge' ? -x.sizeDeltaUnits : 0n), 0n);
    expect(eth).toHaveLength(1);
    expect(total).toBe(50n * ETH);
    let guard = initialPortfolioGuardState(NOW);
    const ctx = { nowSec: NOW, pricesE8: a.prices.pricesE8 };
    for (const action of r.actions) {
      expect(checkPortfolioAction(action, p, guard, ctx)).toEqual({ ok: true });
      guard = recordPortfolioAction(guard, action, p, ctx);
    }
  });
});

describe('assessPortfolio: a position on a venue where the asset has no instrument', () => {
  it('counts in the hedge (it hedges all the same) and is named, so the keeper does not hedge the asset twice', () => {
    // ETH traded on alpha only; beta still holds a 6 ETH short from before (its instrument removed).
    const { p, a } = ethOnAlphaOnly({ walletEth: 12n * ETH, betaShort: -6n * ETH });
    const eth = a.assets.find((x) => x.asset === 'ETH')!;
    expect(eth.hedgeUnits).toBe(-12n * ETH);
    expect(eth.untrackedHedgeUnits).toEqual({ beta: -6n * ETH });
    expect(eth.inBand).toBe(true);
    expect(planPortfolio(a, initialPortfolioPolicyState(), p, NOW, { modelOf }).actions).toEqual([]);
  });
});
