import { describe, expect, it } from 'vitest';
import type { HedgePolicy } from '../../src/core/types.js';
import { loadConfig } from '../../src/config.js';
import { runBacktest } from '../../src/backtest/backtest.js';
import { defaultEthCandles } from '../../src/backtest/candles.js';
import { buildMarketTrack } from '../../src/backtest/market.js';
import { pathFromCandles, simulatedPath, type BacktestPath } from '../../src/backtest/path.js';
import { defaultScenario, policyPreset, policyPresets, type BacktestScenario } from '../../src/backtest/policies.js';
import { fillPriceE8, runPolicy } from '../../src/backtest/simulate.js';
import { lpAmountsAt } from '../../src/backtest/lp-model.js';
import { sqrtPriceX96FromPriceE8 } from '../../src/spot/uniswap-math.js';

const ETH = 10n ** 18n;
const usd = (n: number): bigint => BigInt(Math.round(n * 1e8));
const base: HedgePolicy = loadConfig({}).policy;

function pathOf(prices: number[]): BacktestPath {
  return { source: 'test', intervalSec: 3600, steps: prices.map((p, i) => ({ timeSec: 1_600_000_000 + i * 3600, priceE8: usd(p), isClose: true })) };
}

/** 10 WETH in the wallet hedged by a 10 ETH short, no LP: a linear position. */
function linear(o: Partial<BacktestScenario> = {}): BacktestScenario {
  const d = defaultScenario(base);
  return { ...d, lp: { ...d.lp, valueUsd: 0 }, walletWethEth: 10, perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 }, ...o };
}

function run(prices: number[], scenario: BacktestScenario, name = 'fixed', policy = base) {
  const path = pathOf(prices);
  const track = buildMarketTrack(path, { lp: scenario.lp, gasPriceGwei: scenario.gasPriceGwei, slippageBps: scenario.slippageBps });
  return { track, r: runPolicy(track, policyPreset(name, policy), scenario) };
}

describe('simulate: hand-checked ticks', () => {
  it('flat price, funding 10%/yr paid by shorts: 24 h of a $20,000 short cost $5.479453, nothing else', () => {
    const { r } = run(Array(25).fill(2000), linear({ perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0.1 } }));
    expect(r.counters).toMatchObject({ trades: 0, topUps: 0, liquidations: 0 });
    expect(r.costs).toMatchObject({ feesUsd: 0, gasUsd: 0, slippageUsd: 0, fundingUsd: 5.479453, totalUsd: 5.479453 });
    expect(r.series.valueUsd[24]! - r.series.valueUsd[0]!).toBeCloseTo(-5.479453, 6);
  });

  it('+10%: margin ratio 3000/22000 = 13.6% < 15% trigger, tops up $2500 to 25%; gas 1e5 * 10 gwei * $2200 = $2.20', () => {
    const { r } = run([2000, 2200], linear());
    expect(r.counters).toMatchObject({ trades: 0, topUps: 1, toppedUpUsd: 2500, liquidations: 0 });
    expect(r.costs.gasUsd).toBe(2.2);
    expect(r.series.marginRatio[1]).toBe(0.25);
    // WETH +$2000, perp -$2000: the hedge worked; only the gas is lost.
    expect(r.series.valueUsd[1]! - r.series.valueUsd[0]!).toBeCloseTo(-2.2, 6);
  });

  it('per-step residual std: P&L -2.20 (top-up gas), 0, 0 over three ticks', () => {
    const { r } = run([2000, 2200, 2000, 2200], linear());
    expect(r.counters.topUps).toBe(1);
    expect(r.tickPnl.n).toBe(3);
    const mean = -2.2 / 3;
    expect(Math.sqrt(r.tickPnl.m2 / 2)).toBeCloseTo(Math.sqrt(((-2.2 - mean) ** 2 + 2 * mean ** 2) / 2), 9);
  });

  it('+22.5% with an empty wallet: liquidated (2.04% < 5%), 1% of $24,500 = $245 penalty, the hedge cannot be reopened', () => {
    const { r } = run([2000, 2450, 2450], linear({ walletUsdc: 0 }));
    expect(r.counters).toMatchObject({ liquidations: 1, trades: 0, topUps: 0, badDebtUsd: 0 });
    expect(r.costs.penaltyUsd).toBe(245);
    expect(r.series.valueUsd[1]! - r.series.valueUsd[0]!).toBeCloseTo(-245, 6);
    expect(r.series.netDeltaEth[2]).toBe(10);
    expect(r.series.marginRatio[2]).toBe(Infinity);
  });

  it('an LP hedge trade to target pays fee, slippage and gas at the filled price', () => {
    const scenario: BacktestScenario = { ...defaultScenario(base), perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 } };
    const policy: HedgePolicy = { ...base, deltaBandWei: ETH / 1000n, deltaBandPctE18: 0n, hysteresisE18: ETH };
    const { track, r } = run([2000, 2100], scenario, 'fixed', policy);
    const at = (i: number, p: number): bigint => lpAmountsAt(track.ranges[0]!, sqrtPriceX96FromPriceE8(usd(p), false)).amountBaseWei;
    expect(track.lpBaseWei[1]).toBe(at(1, 2100));
    const buyWei = at(0, 2000) - at(1, 2100); // the LP sold base as the price rose: buy the short back
    const fill = fillPriceE8(usd(2100), buyWei, 5);
    expect(fill).toBe(usd(2101.05));
    const fee = (buyWei * fill * 5n + 10n ** 24n - 1n) / 10n ** 24n;
    const slip = (buyWei * (fill - usd(2100)) + 10n ** 20n - 1n) / 10n ** 20n;
    expect(r.counters.trades).toBe(1);
    expect(r.counters.tradedEth).toBeCloseTo(Number(buyWei) / 1e18, 12);
    expect(r.costs.feesUsd).toBe(Number(fee) / 1e6);
    expect(r.costs.slippageUsd).toBe(Number(slip) / 1e6);
    expect(r.costs.gasUsd).toBe(3.15); // 150,000 gas * 10 gwei * $2100
    expect(Math.abs(r.series.netDeltaEth[1]!)).toBeLessThan(1e-15);
  });
});

describe('simulate: policies', () => {
  const path = simulatedPath({ model: 'jump', seed: 7, steps: 240, substeps: 4 });
  const scenario = defaultScenario(base);

  it('time-1h trades back to target on the hour: zero delta at every close; a band policy lets it drift', () => {
    const [time, fixed] = runBacktest(path, policyPresets(['time-1h', 'fixed'], base), scenario).runs;
    const deltas = Array.from(time!.run.series.netDeltaEth);
    expect(deltas.every((d) => Math.abs(d) <= 0.01)).toBe(true); // MIN_TRADE_ETH
    expect(time!.metrics.trades).toBeGreaterThan(200);
    expect(time!.metrics.trades).toBeLessThanOrEqual(240);
    expect(Array.from(fixed!.run.series.netDeltaEth).some((d) => Math.abs(d) > 0.5)).toBe(true);
    expect(fixed!.metrics.trades).toBeLessThan(time!.metrics.trades);
  });

  it('unhedged never trades; its residual risk is the largest', () => {
    const runs = runBacktest(path, policyPresets(['unhedged', 'fixed', 'ww', 'time-1h'], base), scenario).runs;
    expect(runs[0]!.metrics.trades).toBe(0);
    for (const r of runs.slice(1)) expect(r.metrics.residualStdUsd).toBeLessThan(runs[0]!.metrics.residualStdUsd / 2);
  });

  it('rejects an unknown policy name', () => {
    expect(() => policyPresets(['fixed', 'sometimes'], base)).toThrow(/unknown policy "sometimes"/);
    expect(policyPreset('time-15m', base).policy.band?.rebalancePeriodSec).toBe(900);
  });
});

describe('simulate: deterministic', () => {
  it('the same slice of the shipped data gives the same results twice', async () => {
    const set = await defaultEthCandles();
    const slice = pathFromCandles(set, { from: 20_000, count: 150 });
    const once = (): unknown => runBacktest(slice, policyPresets(['fixed', 'vol', 'ww', 'time-1h'], base), defaultScenario(base)).runs
      .map(({ run, metrics }) => ({ ...metrics, runtimeMs: 0, series: run.series }));
    const a = once();
    expect(once()).toEqual(a);
    expect(slice.steps).toHaveLength(1 + 150 * 4);
  });

  it('simulated paths: same seed, same path; another seed, another path', () => {
    const p = (seed: number): bigint[] => simulatedPath({ model: 'gbm', seed, steps: 50 }).steps.map((s) => s.priceE8);
    expect(p(3)).toEqual(p(3));
    expect(p(3)).not.toEqual(p(4));
  });
});
