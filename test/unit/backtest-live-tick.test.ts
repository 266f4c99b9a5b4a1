import { describe, expect, it } from 'vitest';
import type { Action, GuardPolicy, HedgePolicy } from '../../src/core/types.js';
import type { TxOutcome } from '../../src/chain/executor.js';
import { loadConfig } from '../../src/config.js';
import { initialGuardState, notionalSpentTodayUsdE8 } from '../../src/core/guard.js';
import { initialPolicyState } from '../../src/core/policy.js';
import { tick, type RunnerState, type TickDeps } from '../../src/runner/tick.js';
import { createRecordingLogger } from '../../src/monitor/logger.js';
import { defaultEthCandles } from '../../src/backtest/candles.js';
import { buildTrack } from '../../src/backtest/engine.js';
import { actIfNeeded, bandAt, type TickContext } from '../../src/backtest/keeper-tick.js';
import { pathFromCandles, simulatedPath, type BacktestPath } from '../../src/backtest/path.js';
import { perpParams } from '../../src/backtest/perp-model.js';
import { defaultScenario, policyPreset, policyPresets, type BacktestScenario, type PolicySpec } from '../../src/backtest/policies.js';
import { initialState, newTotals } from '../../src/backtest/run-state.js';
import { createSimChain, type SimTick } from '../../src/backtest/sim-deps.js';
import { runPolicy } from '../../src/backtest/simulate.js';

/**
 * Issue 14, "one tick": the backtest runs the keeper's own tick() (runner/tick.ts) on a
 * simulated chain. Every tick() the backtest made is replayed through the live, async tick()
 * with live-style deps (a logger that formats every line, an `execute` that records what it is
 * asked and answers what the backtest's models answered): the decisions must be the same.
 */

const ETH = 10n ** 18n;
const usd = (n: number): bigint => BigInt(Math.round(n * 1e8));
const config = loadConfig({});
const base: HedgePolicy = config.policy;

function pathOf(prices: number[]): BacktestPath {
  return { source: 'test', intervalSec: 3600, steps: prices.map((p, i) => ({ timeSec: 1_600_000_000 + i * 3600, priceE8: usd(p), isClose: true })) };
}

/** Run one policy and keep every tick() the backtest made. */
function recorded(path: BacktestPath, spec: PolicySpec, scenario: BacktestScenario) {
  const ticks: SimTick[] = [];
  const run = runPolicy(buildTrack(path, scenario), spec, scenario, { onTick: (t) => ticks.push(t) });
  return { run, ticks };
}

/** The live tick() on what the backtest's tick() saw; the executor answers what the models answered. */
async function replayLive(rec: SimTick, policy: HedgePolicy, guard: GuardPolicy) {
  const executed: Action[] = [];
  const { logger, lines } = createRecordingLogger('debug');
  const deps: TickDeps = {
    readSnapshot: async () => rec.result.snapshot,
    execute: async (action): Promise<TxOutcome[]> => {
      const k = executed.push(action) - 1;
      return rec.result.results[k]?.txs ?? [{ status: 'reverted', label: 'replay', stage: 'simulation', reason: 'the backtest did not execute this action' }];
    },
    policy,
    guard,
    logger,
    ...(rec.band ? { bandFor: () => rec.band } : {}),
  };
  const result = await tick(deps, rec.state);
  return { result, executed, lines };
}

/**
 * Same plan, same actions (kinds, sizes, reasons), same outcomes, same next state. The live
 * side threads its own state from tick to tick, as the keeper does (one episode: the backtest's
 * state changes only in tick() too).
 */
async function expectSameAsLive(ticks: SimTick[], spec: PolicySpec, guard: GuardPolicy, startSec: number): Promise<void> {
  let state: RunnerState = { policy: initialPolicyState(), guard: initialGuardState(startSec) };
  for (const rec of ticks) {
    expect(rec.state).toEqual(state);
    // The policy's band reached tick(): assess's own fixed band, or the one of the mode.
    if (spec.policy.bandMode === 'fixed') expect(rec.band).toBeUndefined();
    else expect(rec.result.assessment.bandWei).toBe(rec.band!.bandWei);
    const live = await replayLive({ ...rec, state }, spec.policy, guard);
    state = live.result.state;
    expect(live.result.plan).toEqual(rec.result.plan);
    expect(live.result.results).toEqual(rec.result.results);
    expect(live.result.state).toEqual(rec.result.state);
    expect(live.result.hold).toBeNull();
    // The live executor was asked exactly what the backtest's models carried out or refused.
    expect(live.executed).toEqual(rec.result.results.filter((r) => r.outcome !== 'blocked').map((r) => r.action));
    // The live logger formatted the tick line the backtest's silent one skipped.
    expect(live.lines().filter((l) => l['event'] === 'tick')).toHaveLength(1);
  }
}

const count = (ticks: SimTick[], kind: Action['kind'], outcome: string): number =>
  ticks.reduce((n, t) => n + t.result.results.filter((r) => r.action.kind === kind && r.outcome === outcome).length, 0);

describe('backtest = live tick(): the same decisions on the same snapshots', () => {
  it('the first 500 hours of the shipped ETH data, four keeper policies: every tick() replayed live gives the same plan, actions and outcomes', async () => {
    const path = pathFromCandles(await defaultEthCandles(), { from: 0, count: 500 });
    const scenario = defaultScenario(config.guard);
    for (const spec of policyPresets(['time-1h', 'fixed', 'ww', 'default'], base)) {
      const { run, ticks } = recorded(path, spec, scenario);
      // The backtest's counters are what its tick() calls did, nothing else.
      expect(ticks).toHaveLength(run.totals.plannedTicks);
      expect(count(ticks, 'adjustHedge', 'done')).toBe(run.totals.trades);
      expect(count(ticks, 'topUp', 'done')).toBe(run.totals.topUps);
      expect(run.totals.trades).toBeGreaterThan(spec.name === 'time-1h' ? 400 : 10);
      await expectSameAsLive(ticks, spec, scenario.guard, path.steps[0]!.timeSec);
    }
  }, 120_000);

  it('a sharp move with a thin wallet (top-ups clipped or dropped, adaptive bands): the same again', async () => {
    const path = simulatedPath({ model: 'jump', seed: 11, steps: 400, substeps: 4 });
    const scenario = { ...defaultScenario(config.guard), walletUsdc: 3_000 };
    let topUps = 0;
    for (const spec of policyPresets(['fixed', 'vol', 'adaptive', 'time-2h', 'static'], base)) {
      const { run, ticks } = recorded(path, spec, scenario);
      expect(ticks).toHaveLength(run.totals.plannedTicks);
      topUps += run.totals.topUps;
      await expectSameAsLive(ticks, spec, scenario.guard, path.steps[0]!.timeSec);
    }
    expect(topUps).toBeGreaterThan(0);
  }, 120_000);
});

describe('backtest = live tick(): a guard block', () => {
  it('MAX_NOTIONAL_PER_DAY_USD $10,000: the tick stops at the block, the notional is not counted, and live tick() does the same', async () => {
    const guard = { ...config.guard, maxNotionalPerDayUsdE8: usd(10_000) };
    const scenario = defaultScenario(guard);
    const spec = policyPreset('time-1h', base);
    const path = simulatedPath({ model: 'gbm', seed: 5, steps: 72, substeps: 1, volAnnual: 1.5 });
    const { run, ticks } = recorded(path, spec, scenario);
    const blocked = ticks.filter((t) => t.result.results.some((r) => r.outcome === 'blocked'));
    expect(blocked.length).toBe(run.totals.guardBlocked);
    expect(blocked.length).toBeGreaterThan(10);
    for (const rec of blocked) {
      const { results, plan, state, snapshot } = rec.result;
      const nowSec = Number(snapshot.blockTimestampSec);
      const k = results.findIndex((r) => r.outcome === 'blocked');
      // Nothing after the block: the results end there, and the plan had nothing else done.
      expect(k).toBe(results.length - 1);
      expect(results[k]).toMatchObject({ action: { kind: 'adjustHedge' }, txs: [], reason: expect.stringMatching(/exceeds the daily cap \$10000\.00/) });
      expect(plan.actions.indexOf(results[k]!.action)).toBe(k);
      // The blocked trade is not counted and starts no cooldown.
      expect(notionalSpentTodayUsdE8(state.guard, nowSec)).toBe(notionalSpentTodayUsdE8(rec.state.guard, nowSec));
      expect(state.policy.lastHedgeAtSec).toBe(rec.state.policy.lastHedgeAtSec);
    }
    // Blocked hedges were never traded: every trade the run made is a tick() result 'done'.
    expect(count(ticks, 'adjustHedge', 'done')).toBe(run.totals.trades);
    await expectSameAsLive(ticks, spec, guard, path.steps[0]!.timeSec);
  });
});

describe('backtest = live tick(): a failed top-up', () => {
  it('the wallet emptied after the read: the top-up reverts, the hedge planned after it is not traded (as live)', async () => {
    // +10% on the LP: margin 15%/110% = 13.6% < 15% and the LP's delta out of a tiny band, so
    // plan asks a top-up and then a hedge trade. The USDC leaves the wallet after the read.
    const policy: HedgePolicy = { ...base, bandMode: 'fixed', deltaBandWei: ETH / 1000n, deltaBandPctE18: 0n, hysteresisE18: ETH };
    const spec = policyPreset('config', policy);
    const scenario: BacktestScenario = { ...defaultScenario(config.guard), perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 } };
    const track = buildTrack(pathOf([2000, 2200]), scenario);
    const et = track.episodes[0]!;
    const s = initialState(track, et, spec, scenario);
    const t = newTotals();
    const ticks: SimTick[] = [];
    const c: TickContext = {
      track, et, spec, scenario, pp: perpParams(scenario.perp), s, t, volFast: null, epStartSec: track.path.steps[0]!.timeSec, alwaysPlan: false, onTick: (x) => ticks.push(x),
    };
    const chain = createSimChain(c);
    const readThenEmpty = () => {
      const snapshot = chain.deps.readSnapshot();
      s.usdcUnits = 0n;
      return snapshot;
    };
    c.chain = { at: chain.at, deps: { ...chain.deps, readSnapshot: readThenEmpty } };
    const sizeBefore = s.perp.sizeWei;
    const marginBefore = s.perp.marginUnits;
    const gross = s.wethWei + et.lpBaseWei[1]!;
    expect(actIfNeeded(c, 1, 1, bandAt(c, 1, 1, gross, Number(gross)))).toBe(false);

    expect(ticks).toHaveLength(1);
    const { plan, results, snapshot, state } = ticks[0]!.result;
    expect(plan.actions.map((a) => a.kind)).toEqual(['topUp', 'adjustHedge']);
    expect(snapshot.wallet.usdcUnits).toBe(200_000_000_000n);
    const topUp = plan.actions[0] as Extract<Action, { kind: 'topUp' }>;
    expect(results).toEqual([
      {
        action: topUp, outcome: 'failed', reason: `perp.deposit reverted (simulation): ERC20InsufficientBalance(0, ${topUp.amountUnits})`,
        txs: [{ status: 'reverted', label: 'perp.deposit', stage: 'simulation', reason: `ERC20InsufficientBalance(0, ${topUp.amountUnits})` }],
      },
    ]);
    // Nothing happened on the models, and the state did not move.
    expect(s.perp.sizeWei).toBe(sizeBefore);
    expect(s.perp.marginUnits).toBe(marginBefore);
    expect(t).toMatchObject({ trades: 0, topUps: 0, gasUnits: 0n, depositUnits: 0n, plannedTicks: 1, guardBlocked: 0 });
    expect(state.policy.lastHedgeAtSec).toBeNull();
    expect(state.guard).toEqual(ticks[0]!.state.guard);

    // Live: the executor is asked the top-up only, and the tick ends there.
    const live = await replayLive(ticks[0]!, spec.policy, scenario.guard);
    expect(live.executed).toEqual([topUp]);
    expect(live.result.results).toEqual(results);
    expect(live.result.state).toEqual(state);

    // The control: with the wallet left alone the same step tops up and trades.
    const s2 = initialState(track, et, spec, scenario);
    const t2 = newTotals();
    const c2: TickContext = { ...c, s: s2, t: t2, chain: undefined, onTick: undefined };
    expect(actIfNeeded(c2, 1, 1, bandAt(c2, 1, 1, gross, Number(gross)))).toBe(true);
    expect(t2).toMatchObject({ trades: 1, topUps: 1 });
  });
});
