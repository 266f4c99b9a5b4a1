import type { AssetId, Portfolio, PortfolioSnapshot, VenueId } from '../portfolio/model.js';
import { initialPortfolioPolicyState } from '../core/portfolio/plan.js';
import { initialPortfolioGuardState } from '../core/portfolio/guard.js';
import { absBig } from '../core/format.js';
import { pow10 } from '../core/portfolio/exposure.js';
import { venueModel } from '../venues/models.js';
import { portfolioTickSync, type PortfolioActionResult, type PortfolioRunnerState, type PortfolioTickResult, type SyncPortfolioTickDeps } from '../runner/portfolio-tick.js';
import { addParts, attributeInterval, portfolioValueE8, zeroParts, type PnlInterval, type PnlParts } from '../runner/portfolio-pnl.js';
import { createPortfolioSim, type IntervalCosts, type PortfolioSim } from './portfolio-sim.js';
import type { PortfolioData, PortfolioScenario } from './portfolio-scenario.js';
import { silentLogger } from './sim-deps.js';

/**
 * A portfolio backtest: every step, the simulated chain (portfolio-sim.ts) is read by the
 * keeper's own portfolio tick (`portfolioTickSync`, with `venueModel`, the guard and the
 * planner), whose actions it carries out. The P&L of each step is the live attribution's
 * (runner/portfolio-pnl.ts `attributeInterval`, synchronous and pure, on the simulated
 * snapshots), with two lines the simulation knows exactly and the live reader cannot see
 * moved where they belong: fill/swap slippage into tradingFees (live, it sits in the perp's
 * hedge line or in `unexplained`), and the funding of a perp market traded in the interval into
 * fundingInterest (live, it is measured only on untraded markets).
 */

export interface PortfolioStepRecord {
  valueE8: bigint;
  /** |net delta| per asset, USD E8, at the snapshot. */
  absDeltaE8: Record<AssetId, bigint>;
}

export interface PortfolioRun {
  hedged: boolean;
  steps: number;
  /**
   * The portfolio's value at each close, USD E8: the first snapshot's (portfolio-pnl.ts
   * `portfolioValueE8`), then moved by each interval's attributed total, so what the attribution
   * charges beside the snapshot's value (the gas of a native gas tank) is in it.
   */
  values: bigint[];
  attribution: PnlParts;
  trades: { byAsset: Record<AssetId, number>; byVenue: Record<VenueId, number> };
  venueCounts: Record<VenueId, { topUps: number; topUpUnits: bigint; moves: number; failed: number; blocked: number }>;
  liquidations: Record<VenueId, number>;
  meanAbsDeltaUsd: Record<AssetId, number>;
  /** Every tick (only when asked: tests compare them). */
  ticks?: PortfolioTickResult[];
}

export interface PortfolioRunOptions {
  /** false: the unhedged baseline (the chain steps, the keeper never acts). Default true. */
  hedged?: boolean;
  file?: string;
  keepTicks?: boolean;
}

/** The live attribution of one interval, with what only the simulation knows put in its line. */
export function simAttribution(p: Portfolio, s0: PortfolioSnapshot, s1: PortfolioSnapshot, acted: readonly PortfolioActionResult[], c: IntervalCosts): PnlInterval {
  const x = attributeInterval(p, s0, s1, acted, c.gasWei);
  const hedge = { ...x.hedge };
  let { tradingFees, fundingInterest, unexplained } = x;
  for (const [venue, slip] of c.slippageE8) {
    tradingFees -= slip;
    if (s1.venues[venue]?.kind === 'perp') hedge[venue] = (hedge[venue] ?? 0n) + slip;
    else unexplained += slip;
  }
  for (const [venue, byAsset] of c.fundingUnits) {
    const v0 = s0.venues[venue];
    const v1 = s1.venues[venue];
    if (v0?.kind !== 'perp' || v1?.kind !== 'perp') continue;
    for (const [asset, paid] of byAsset) {
      const m0 = v0.markets[asset];
      const m1 = v1.markets[asset];
      // attributeInterval measured it itself on an untraded market.
      if (!m0 || !m1 || (m0.sizeE18 === m1.sizeE18 && m0.entryPriceE8 === m1.entryPriceE8)) continue;
      const usd = (paid * s1.quotePriceE8) / pow10(p.quote.decimals);
      fundingInterest -= usd;
      hedge[venue] = (hedge[venue] ?? 0n) + usd;
    }
  }
  return { ...x, hedge, tradingFees, fundingInterest, unexplained };
}

function absDelta(r: PortfolioTickResult): Record<AssetId, bigint> {
  return Object.fromEntries(r.assessment.assets.map((a) => [a.asset, absBig(a.netUsdE8)]));
}

export function runPortfolioBacktest(portfolio: Portfolio, data: PortfolioData, scenario: PortfolioScenario, opts: PortfolioRunOptions = {}): PortfolioRun {
  const hedged = opts.hedged ?? true;
  const sim: PortfolioSim = createPortfolioSim(portfolio, data, scenario, opts.file);
  const n = data.timesSec.length;
  const values: bigint[] = [];
  let attribution = zeroParts();
  let prev: PortfolioSnapshot | null = null;
  let acted: readonly PortfolioActionResult[] = [];
  /** The value the attribution accounts for: the first snapshot's, then each interval's total added. */
  let valueE8 = 0n;
  let failure: unknown = null;
  const attribute = (s: PortfolioSnapshot): PnlInterval | null => {
    try {
      const costs = sim.takeCosts();
      const x = prev ? simAttribution(portfolio, prev, s, acted, costs) : null;
      if (x) {
        attribution = addParts(attribution, x);
        valueE8 += x.total;
      } else valueE8 = portfolioValueE8(portfolio, s);
      prev = s;
      return x;
    } catch (err) {
      // The tick logs a failed attribution and goes on; a backtest must not: thrown after the tick.
      failure = err;
      throw err;
    }
  };
  const deps: SyncPortfolioTickDeps = {
    portfolio,
    modelOf: venueModel,
    logger: silentLogger(),
    readSnapshot: () => sim.snapshot(),
    execute: (action, assessment) => sim.execute(action, assessment.prices),
    attributePnl: (s) => {
      const interval = attribute(s);
      return interval ? { interval, sinceStart: attribution } : null;
    },
  };
  let state: PortfolioRunnerState = { policy: initialPortfolioPolicyState(), guard: initialPortfolioGuardState(data.timesSec[0]!) };
  const trades = { byAsset: Object.fromEntries(portfolio.assets.map((a) => [a.id, 0])), byVenue: Object.fromEntries(portfolio.venues.map((v) => [v.id, 0])) };
  const venueCounts: PortfolioRun['venueCounts'] = Object.fromEntries(portfolio.venues.map((v) => [v.id, { topUps: 0, topUpUnits: 0n, moves: 0, failed: 0, blocked: 0 }]));
  const sumAbs: Record<AssetId, bigint> = Object.fromEntries(portfolio.assets.map((a) => [a.id, 0n]));
  const ticks: PortfolioTickResult[] = [];
  for (let i = 0; i < n; i++) {
    sim.at(i);
    if (!hedged) {
      attribute(sim.snapshot());
      values.push(valueE8);
      continue;
    }
    const r = portfolioTickSync(deps, state);
    if (failure !== null) throw new Error(`portfolio backtest: the attribution failed at step ${i}: ${(failure as Error).message}`, { cause: failure });
    state = r.state;
    acted = r.results;
    values.push(valueE8);
    for (const [id, x] of Object.entries(absDelta(r))) sumAbs[id] = sumAbs[id]! + x;
    for (const res of r.results) {
      const a = res.action;
      const venue = a.kind === 'moveCollateral' ? a.to : a.venue;
      const counts = venueCounts[venue]!;
      if (res.outcome === 'blocked' || res.outcome === 'held') counts.blocked += 1;
      else if (res.outcome !== 'done') counts.failed += 1;
      else if (a.kind === 'adjustHedge') {
        trades.byAsset[a.asset] = (trades.byAsset[a.asset] ?? 0) + 1;
        trades.byVenue[a.venue] = (trades.byVenue[a.venue] ?? 0) + 1;
      } else if (a.kind === 'topUp') {
        counts.topUps += 1;
        counts.topUpUnits += a.amountUnits;
      } else counts.moves += 1;
    }
    if (opts.keepTicks) ticks.push(r);
  }
  return {
    hedged, steps: n, values, attribution, trades, venueCounts,
    liquidations: Object.fromEntries(portfolio.venues.map((v) => [v.id, sim.liquidations.get(v.id) ?? 0])),
    meanAbsDeltaUsd: Object.fromEntries(Object.entries(sumAbs).map(([id, x]) => [id, hedged ? Number(x / BigInt(n)) / 1e8 : 0])),
    ...(opts.keepTicks ? { ticks } : {}),
  };
}
