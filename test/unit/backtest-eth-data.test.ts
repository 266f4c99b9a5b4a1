import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runBacktest, type BacktestResult } from '../../src/backtest/backtest.js';
import { defaultEthCandles } from '../../src/backtest/candles.js';
import { pathFromCandles } from '../../src/backtest/path.js';
import { BASELINE_NAMES, DEFAULT_POLICY_NAMES, defaultScenario, policyPresets } from '../../src/backtest/policies.js';

/**
 * The default backtest (the whole shipped ETH/USDT hourly file, 4 ticks per close, the default
 * policies and the baselines, in worker threads): band policies against hourly rebalancing.
 * Residual risk per keeper tick (15 min); on the hourly grid, where the hourly rebalancer has
 * just zeroed its delta, the band policies are only comparable (within ~10%).
 */
describe('backtest of the shipped ETH data (default policies, whole file)', () => {
  let result: BacktestResult;
  beforeAll(async () => {
    const config = loadConfig({});
    const path = pathFromCandles(await defaultEthCandles());
    result = await runBacktest(path, policyPresets([...DEFAULT_POLICY_NAMES, ...BASELINE_NAMES], config.policy), defaultScenario(config.guard));
  }, 180_000);

  const byName = (name: string) => result.runs.find((r) => r.run.name === name)!.metrics;

  it('covers the whole file: 33,413 hourly closes, 4 ticks each, in worker threads', () => {
    expect(result.runs.map((r) => r.run.name)).toEqual(['time-1h', 'fixed', 'ww', 'default', 'unhedged', 'static']);
    expect(result.path.steps.filter((s) => s.isClose)).toHaveLength(33_413 + 1);
    expect(result.summary.steps).toBe(1 + 33_413 * 4);
    expect(result.workers).toBe(2);
  });

  it('band policies reach comparable per-close risk to hourly rebalancing, much cheaper; per tick, less risk', () => {
    const hourly = byName('time-1h');
    expect(hourly.trades).toBeGreaterThan(30_000);
    for (const n of ['fixed', 'ww', 'default']) {
      expect(byName(n).costUsd).toBeLessThan(0.7 * hourly.costUsd);
      expect(byName(n).perCloseStdUsd).toBeLessThan(1.1 * hourly.perCloseStdUsd);
      expect(byName(n).perTickStdUsd).toBeLessThan(hourly.perTickStdUsd);
    }
    expect(byName('default').costUsd).toBeLessThan(byName('fixed').costUsd);
  });

  it('hedging removes >99% of the variance; a static hedge drifts and is worse than none', () => {
    for (const n of ['time-1h', 'fixed', 'ww', 'default']) expect(byName(n).hedgeEffectiveness).toBeGreaterThan(0.99);
    expect(byName('static').hedgeEffectiveness).toBeLessThan(0);
  });

  it('with the default margin reserve no hedged policy is liquidated, and every cost line is counted', () => {
    for (const n of ['time-1h', 'fixed', 'ww', 'default']) {
      const m = byName(n);
      expect(m.liquidations).toBe(0);
      expect(m.costs.feesUsd).toBeGreaterThan(0);
      expect(m.costs.gasUsd).toBeGreaterThan(0);
      expect(m.costs.fundingUsd).toBeGreaterThan(0); // shorts pay 10% a year by default
      expect(m.costUsd).toBeCloseTo(m.costs.feesUsd + m.costs.slippageUsd + m.costs.gasUsd + m.costs.fundingUsd + m.costs.penaltyUsd, 4);
      expect(m.perYear.map((y) => y.year)).toEqual([2017, 2018, 2019, 2020, 2021]);
    }
  });
});
