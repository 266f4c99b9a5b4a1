import { describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import type { TxOutcome } from '../../src/chain/executor.js';
import type { PortfolioAction, Portfolio } from '../../src/portfolio/model.js';
import { parsePortfolioYaml } from '../../src/portfolio/file.js';
import { initialPortfolioPolicyState } from '../../src/core/portfolio/plan.js';
import { initialPortfolioGuardState } from '../../src/core/portfolio/guard.js';
import { venueModel } from '../../src/venues/models.js';
import {
  portfolioTick, portfolioTickSync, type PortfolioRunnerState, type PortfolioTickDeps, type PortfolioTickResult, type SyncPortfolioTickDeps,
} from '../../src/runner/portfolio-tick.js';
import type { PnlTick } from '../../src/runner/portfolio-pnl.js';
import { examplePortfolioYaml } from '../../src/backtest/portfolio-example.js';
import { createPortfolioSim } from '../../src/backtest/portfolio-sim.js';
import { dataFilesFor, defaultPortfolioScenario, loadPortfolioData, type PortfolioData } from '../../src/backtest/portfolio-scenario.js';

/**
 * Issue 14's acceptance for the portfolio keeper: the live tick (`portfolioTick`, async) and the
 * backtest's (`portfolioTickSync`) are one body, so on the same snapshots they take the same
 * decisions, reach the same outcomes and leave the same state, log line for log line: through a
 * guard block, a failed top-up and a failing attribution too. Two simulated chains (the portfolio
 * backtest's) are driven in lockstep, one by each driver.
 */

const HOURS = 240;
const FROM = Date.parse('2020-03-05T00:00:00Z') / 1000;

interface Variant {
  yaml?: (text: string) => string;
  /** The executor's answer to a top-up: reverted, as a top-up whose transaction fails. */
  failTopUps?: boolean;
  /** The attribution fails at these steps (a rejection live, a throw in the backtest). */
  pnlFailsAt?: number[];
}

/** Every line at debug and above; an error's stack names the driver that called, so it is left out. */
function recordingLogger(lines: unknown[]): Logger {
  return pino({ level: 'debug', base: undefined, timestamp: false }, {
    write: (s: string) => {
      const line = JSON.parse(s) as { err?: { stack?: string } };
      if (line.err) delete line.err.stack;
      lines.push(line);
    },
  });
}

const revertedTopUp = (a: PortfolioAction): TxOutcome[] | null =>
  a.kind === 'topUp' ? [{ status: 'reverted', label: 'perp.deposit', stage: 'chain', reason: 'ERC20: transfer amount exceeds balance' }] : null;

async function lockstep(data: PortfolioData, v: Variant): Promise<{ live: PortfolioTickResult[]; sim: PortfolioTickResult[]; liveLog: unknown[]; simLog: unknown[] }> {
  const portfolio: Portfolio = parsePortfolioYaml((v.yaml ?? ((t) => t))(examplePortfolioYaml()), 'keeper.yaml');
  const scenario = defaultPortfolioScenario();
  const chainA = createPortfolioSim(portfolio, data, scenario);
  const chainB = createPortfolioSim(portfolio, data, scenario);
  const liveLog: unknown[] = [];
  const simLog: unknown[] = [];
  let step = 0;
  const pnl = (): PnlTick | null => {
    if (v.pnlFailsAt?.includes(step)) throw new Error(`no attribution at step ${step}`);
    return null;
  };
  const liveDeps: PortfolioTickDeps = {
    portfolio, modelOf: venueModel, logger: recordingLogger(liveLog),
    readSnapshot: async () => chainA.snapshot(),
    execute: async (a, assessment) => (v.failTopUps ? revertedTopUp(a) : null) ?? chainA.execute(a, assessment.prices),
    beforeSend: async () => null,
    attributePnl: async () => pnl(),
  };
  const simDeps: SyncPortfolioTickDeps = {
    portfolio, modelOf: venueModel, logger: recordingLogger(simLog),
    readSnapshot: () => chainB.snapshot(),
    execute: (a, assessment) => (v.failTopUps ? revertedTopUp(a) : null) ?? chainB.execute(a, assessment.prices),
    beforeSend: () => null,
    attributePnl: () => pnl(),
  };
  const start = (): PortfolioRunnerState => ({ policy: initialPortfolioPolicyState(), guard: initialPortfolioGuardState(data.timesSec[0]!) });
  let a = start();
  let b = start();
  const live: PortfolioTickResult[] = [];
  const sim: PortfolioTickResult[] = [];
  for (step = 0; step < data.timesSec.length; step++) {
    chainA.at(step);
    chainB.at(step);
    const ra = await portfolioTick(liveDeps, a);
    const rb = portfolioTickSync(simDeps, b);
    live.push(ra);
    sim.push(rb);
    a = ra.state;
    b = rb.state;
  }
  return { live, sim, liveLog, simLog };
}

const outcomes = (rs: PortfolioTickResult[]) => rs.flatMap((r) => r.results.map((x) => `${x.action.kind}:${x.outcome}`));

describe('portfolioTick (live) and portfolioTickSync (backtest) take the same decisions', async () => {
  const portfolio = parsePortfolioYaml(examplePortfolioYaml(), 'keeper.yaml');
  const data = await loadPortfolioData(dataFilesFor(portfolio, {}), FROM, FROM + HOURS * 3600);

  it('over a simulated chain: same plans, outcomes, states and log lines at every tick', async () => {
    const { live, sim, liveLog, simLog } = await lockstep(data, {});
    expect(live).toHaveLength(HOURS);
    expect(sim).toEqual(live);
    expect(simLog).toEqual(liveLog);
    // The run did something worth comparing: hedges on both venues and top-ups.
    const done = outcomes(sim);
    expect(done.filter((x) => x === 'adjustHedge:done').length).toBeGreaterThan(20);
    expect(done.filter((x) => x === 'topUp:done').length).toBeGreaterThan(2);
    expect(new Set(sim.flatMap((r) => r.results.filter((x) => x.action.kind === 'adjustHedge').map((x) => (x.action as { venue: string }).venue)))).toEqual(new Set(['perp', 'aave']));
  });

  it('a guard block stops the tick in both, and does not count against the cap', async () => {
    // A $40,000 daily notional on ETH: the first hedge is planned past it and blocked.
    const capped = (t: string) => t.replace(/(ETH: \{ hedgeRatio: 1, [^}]*maxNotionalPerDayUsd: )10000000/, '$140000');
    const { live, sim, liveLog, simLog } = await lockstep(data, { yaml: capped });
    expect(sim).toEqual(live);
    expect(simLog).toEqual(liveLog);
    const k = sim.findIndex((r) => r.results.some((x) => x.outcome === 'blocked'));
    expect(k).toBeGreaterThanOrEqual(0);
    const r = sim[k]!;
    const blocked = r.results.findIndex((x) => x.outcome === 'blocked');
    // The tick stops at the blocked action: nothing after it was tried.
    expect(blocked).toBe(r.results.length - 1);
    expect(r.results[blocked]!.reason).toMatch(/notional/);
    expect(simLog.some((l) => (l as { event?: string }).event === 'guard.blocked')).toBe(true);
    // The day's ETH notional grew by the hedges done this tick, not by the blocked one.
    const before = k > 0 && sim[k - 1]!.state.guard.day === r.state.guard.day ? (sim[k - 1]!.state.guard.notionalByAssetUsdE8['ETH'] ?? 0n) : 0n;
    const doneEth = r.results.filter((x) => x.outcome === 'done' && x.action.kind === 'adjustHedge' && x.action.asset === 'ETH');
    const price = r.assessment.prices.pricesE8['ETH']!;
    const notional = doneEth.reduce((sum, x) => {
      const u = (x.action as { sizeDeltaUnits: bigint }).sizeDeltaUnits;
      return sum + ((u < 0n ? -u : u) * price) / 10n ** 18n;
    }, 0n);
    expect(r.state.guard.notionalByAssetUsdE8['ETH'] ?? 0n).toBe(before + notional);
  });

  it('a failed top-up: the hedges planned after it are not sent, the same in both', async () => {
    const { live, sim, liveLog, simLog } = await lockstep(data, { failTopUps: true });
    expect(sim).toEqual(live);
    expect(simLog).toEqual(liveLog);
    const withFailed = sim.filter((r) => r.results.some((x) => x.action.kind === 'topUp' && x.outcome === 'failed'));
    expect(withFailed.length).toBeGreaterThan(0);
    for (const r of withFailed) {
      const k = r.results.findIndex((x) => x.action.kind === 'topUp' && x.outcome === 'failed');
      // The tick stopped at the failed top-up: nothing after it was tried.
      expect(k).toBe(r.results.length - 1);
      expect(r.results[k]!.reason).toBe('perp.deposit reverted (chain): ERC20: transfer amount exceeds balance');
    }
    // At least once, the plan had a hedge after the top-up (the short it was funding): never sent.
    const skippedHedge = withFailed.filter((r) => r.plan.actions.slice(r.results.length).some((a) => a.kind === 'adjustHedge'));
    expect(skippedHedge.length).toBeGreaterThan(0);
    expect(sim.at(-1)!.state).toEqual(live.at(-1)!.state);
  });

  it('a failing attribution is logged and the tick goes on, the same in both', async () => {
    const five = { ...data, timesSec: data.timesSec.slice(0, 5), closesE8: Object.fromEntries(Object.entries(data.closesE8).map(([k, v]) => [k, v.slice(0, 5)])) };
    const { live, sim, liveLog, simLog } = await lockstep(five, { pnlFailsAt: [0, 3] });
    expect(sim).toEqual(live);
    expect(simLog).toEqual(liveLog);
    const failed = simLog.filter((l) => (l as { event?: string }).event === 'pnl.failed');
    expect(failed.map((l) => (l as { msg: string }).msg)).toEqual(['P&L attribution failed: no attribution at step 0', 'P&L attribution failed: no attribution at step 3']);
    expect(sim).toHaveLength(5);
  });
});
