import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runBacktest, type BacktestResult } from '../../src/backtest/backtest.js';
import { defaultEthCandles } from '../../src/backtest/candles.js';
import { pathFromCandles } from '../../src/backtest/path.js';
import { DEFAULT_POLICY_NAMES, defaultScenario, policyPresets } from '../../src/backtest/policies.js';

/**
 * Acceptance: the default backtest (the whole shipped ETH/USDT hourly file, the four default
 * policies, the documented defaults) shows a band policy with residual risk no higher than
 * hourly time-based rebalancing, at a lower cost. Residual risk is per keeper tick (15 min);
 * on the hourly grid, where the hourly rebalancer has just zeroed its delta, the band policies
 * are only comparable (within ~10%; which side depends on the bridge seed: seeds 1-4 give
 * fixed/time-1h = 0.97, 0.93, 1.09, 1.06). The run takes ~20 s on two cores, so it runs once.
 */
describe('backtest of the shipped ETH data (4 policies, whole file)', () => {
  let result: BacktestResult;
  beforeAll(async () => {
    const base = loadConfig({}).policy;
    const path = pathFromCandles(await defaultEthCandles());
    result = runBacktest(path, policyPresets([...DEFAULT_POLICY_NAMES], base), defaultScenario(base));
  }, 180_000);

  const byName = (name: string) => result.runs.find((r) => r.run.name === name)!.metrics;

  it('covers the whole file: 33,413 hourly closes, 4 ticks each', () => {
    expect(result.runs.map((r) => r.run.name)).toEqual(['fixed', 'vol', 'ww', 'time-1h']);
    expect(result.path.steps.filter((s) => s.isClose)).toHaveLength(33_413 + 1);
    expect(result.track.n).toBe(1 + 33_413 * 4);
  });

  it('a band policy reaches equal or lower residual risk than hourly rebalancing at a lower cost', () => {
    const hourly = byName('time-1h');
    const winners = ['fixed', 'vol', 'ww'].filter((n) => byName(n).residualStdUsd <= hourly.residualStdUsd && byName(n).hedgingCostUsd < hourly.hedgingCostUsd);
    expect(winners.length).toBeGreaterThanOrEqual(1);
    // Per close, the best band policy is within 10% of the hourly rebalancer.
    const bestPerClose = Math.min(...['fixed', 'vol', 'ww'].map((n) => byName(n).residualStdPerCloseUsd));
    expect(bestPerClose).toBeLessThan(1.1 * hourly.residualStdPerCloseUsd);
    // And every band policy is much cheaper: hourly rebalancing trades ~every close.
    expect(hourly.trades).toBeGreaterThan(30_000);
    for (const n of ['fixed', 'vol', 'ww']) expect(byName(n).hedgingCostUsd).toBeLessThan(0.7 * hourly.hedgingCostUsd);
  });

  it('with the default margin reserve no policy is liquidated, and every cost line is counted', () => {
    for (const { metrics: m } of result.runs) {
      expect(m.liquidations).toBe(0);
      expect(m.costs.feesUsd).toBeGreaterThan(0);
      expect(m.costs.gasUsd).toBeGreaterThan(0);
      expect(m.costs.fundingUsd).toBeGreaterThan(0); // shorts pay 10% a year by default
      expect(m.hedgingCostUsd).toBeCloseTo(m.costs.feesUsd + m.costs.slippageUsd + m.costs.gasUsd + m.costs.fundingUsd + m.costs.penaltyUsd, 4);
    }
  });
});
