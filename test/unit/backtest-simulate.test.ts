import { describe, expect, it } from 'vitest';
import type { HedgePolicy } from '../../src/core/types.js';
import { loadConfig } from '../../src/config.js';
import { runBacktest } from '../../src/backtest/backtest.js';
import { defaultEthCandles } from '../../src/backtest/candles.js';
import { buildTrack } from '../../src/backtest/engine.js';
import { pathFromCandles, simulatedPath, type BacktestPath } from '../../src/backtest/path.js';
import { defaultScenario, policyPreset, policyPresets, type BacktestScenario, type PolicySpec } from '../../src/backtest/policies.js';
import { fillPriceE8 } from '../../src/backtest/run-state.js';
import { runPolicy } from '../../src/backtest/simulate.js';
import { lpAmountsAt } from '../../src/backtest/lp-model.js';
import { sqrtPriceX96FromPriceE8 } from '../../src/spot/uniswap-math.js';

const ETH = 10n ** 18n;
const usd = (n: number): bigint => BigInt(Math.round(n * 1e8));
const config = loadConfig({ BAND_MODE: 'fixed' });
const base: HedgePolicy = config.policy;

function pathOf(prices: number[]): BacktestPath {
  return { source: 'test', intervalSec: 3600, steps: prices.map((p, i) => ({ timeSec: 1_600_000_000 + i * 3600, priceE8: usd(p), isClose: true })) };
}

/** 10 WETH in the wallet hedged by a 10 ETH short, no LP: a linear position. */
function linear(o: Partial<BacktestScenario> = {}): BacktestScenario {
  const d = defaultScenario(config.guard);
  return { ...d, lp: { ...d.lp, valueUsd: 0 }, walletWethEth: 10, perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 }, ...o };
}

function run(prices: number[], scenario: BacktestScenario, spec: PolicySpec = policyPreset('fixed', base)) {
  const track = buildTrack(pathOf(prices), scenario);
  return { track, r: runPolicy(track, spec, scenario) };
}

const usdOf = (units: bigint): number => Number(units) / 1e6;
const value = (r: ReturnType<typeof run>['r'], k: number): number => r.series.pnlUsd.slice(1, k + 1).reduce((a, b) => a + b, 0);

describe('simulate: hand-checked ticks', () => {
  it('flat price, funding 10%/yr paid by shorts: 24 h of a $20,000 short cost $5.479453, nothing else', () => {
    const { r } = run(Array(25).fill(2000), linear({ perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0.1 } }));
    expect(r.totals).toMatchObject({ trades: 0, topUps: 0, liquidations: 0, feeUnits: 0n, gasUnits: 0n, fundingUnits: 5_479_453n });
    // Values are floats for statistics: the unrounded pending funding, within a micro-dollar.
    expect(value(r, 24)).toBeCloseTo(-5.479453, 5);
    expect(r.attribution.fundingUsd).toBe(-5.479453);
  });

  it('+10%: margin ratio 3000/22000 = 13.6% < 15% trigger, tops up $2500 to 25%; gas 1e5 * 10 gwei * $2200 = $2.20', () => {
    const { r } = run([2000, 2200], linear());
    expect(r.totals).toMatchObject({ trades: 0, topUps: 1, depositUnits: 2_500_000_000n, liquidations: 0, gasUnits: 2_200_000n });
    expect(r.series.marginRatio[1]).toBe(0.25);
    // WETH +$2000, perp -$2000: the hedge worked; only the gas is lost.
    expect(r.series.pnlUsd[1]).toBeCloseTo(-2.2, 6);
  });

  it('per-step std: P&L -2.20 (top-up gas), 0, 0 over three ticks', () => {
    const { r } = run([2000, 2200, 2000, 2200], linear());
    expect(r.totals.topUps).toBe(1);
    expect(r.tickPnl.n).toBe(3);
    const mean = -2.2 / 3;
    expect(Math.sqrt(r.tickPnl.m2 / 2)).toBeCloseTo(Math.sqrt(((-2.2 - mean) ** 2 + 2 * mean ** 2) / 2), 9);
  });

  it('+22.5% with an empty wallet: liquidated (2.04% < 5%), 1% of $24,500 = $245 penalty, the hedge cannot be reopened', () => {
    const { r } = run([2000, 2450, 2450], linear({ walletUsdc: 0 }));
    expect(r.totals).toMatchObject({ liquidations: 1, trades: 0, topUps: 0, badDebtUnits: 0n, penaltyUnits: 245_000_000n });
    expect(r.series.pnlUsd[1]).toBeCloseTo(-245, 6);
    expect(r.series.netDeltaUsd[2]).toBe(10 * 2450);
    expect(r.series.marginRatio[2]).toBe(Infinity);
  });

  it('an LP hedge trade to target pays fee, slippage and gas at the filled price', () => {
    const scenario: BacktestScenario = { ...defaultScenario(config.guard), perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 } };
    const policy: HedgePolicy = { ...base, deltaBandWei: ETH / 1000n, deltaBandPctE18: 0n, hysteresisE18: ETH };
    const { track, r } = run([2000, 2100], scenario, policyPreset('fixed', policy));
    const et = track.episodes[0]!;
    const at = (p: number): bigint => lpAmountsAt(et.ranges[0]!, sqrtPriceX96FromPriceE8(usd(p), false)).amountBaseWei;
    expect(et.lpBaseWei[1]).toBe(at(2100));
    const buyWei = at(2000) - at(2100); // the LP sold base as the price rose: buy the short back
    const fill = fillPriceE8(usd(2100), buyWei, 5);
    expect(fill).toBe(usd(2101.05));
    expect(r.totals.trades).toBe(1);
    expect(r.totals.tradedWei).toBe(buyWei);
    expect(r.totals.feeUnits).toBe((buyWei * fill * 5n + 10n ** 24n - 1n) / 10n ** 24n);
    expect(r.totals.slippageUnits).toBe((buyWei * (fill - usd(2100)) + 10n ** 20n - 1n) / 10n ** 20n);
    expect(usdOf(r.totals.gasUnits)).toBe(3.15); // 150,000 gas * 10 gwei * $2100
    expect(Math.abs(r.series.netDeltaUsd[1]!)).toBeLessThan(1e-9);
  });

  it('gas is paid in ETH at the ETH price: with a $30,000 asset and ETH at $2,000 a trade costs $3, not $45', () => {
    const scenario: BacktestScenario = { ...defaultScenario(config.guard), perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 } };
    const policy: HedgePolicy = { ...base, deltaBandWei: ETH / 1000n, deltaBandPctE18: 0n, hysteresisE18: ETH };
    const track = buildTrack(pathOf([30_000, 31_000]), scenario, [usd(2000), usd(2000)]);
    const r = runPolicy(track, policyPreset('fixed', policy), scenario);
    expect(r.totals.trades).toBe(1);
    expect(usdOf(r.totals.gasUnits)).toBe(3); // 150,000 gas * 10 gwei * $2000
  });
});

describe('simulate: the live tick\'s rules', () => {
  it('MAX_TOPUP_USDC: the live planner clips the top-up to the cap, then the hedge trades (guard blocks: see backtest-live-tick)', () => {
    // +10% on the LP: margin 15%/110% = 13.6% < 15% and the LP's delta moved out of a tiny band,
    // so plan asks a top-up (first) and a hedge trade. tick() gives plan the guard's allowance
    // ($1 cap): the top-up is clipped to $1 (the trade, buying the short back, lifts the ratio).
    const policy: HedgePolicy = { ...base, deltaBandWei: ETH / 1000n, deltaBandPctE18: 0n, hysteresisE18: ETH };
    const capped = { ...defaultScenario({ ...config.guard, maxTopUpUnits: 1_000_000n }), perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 } };
    const r = runPolicy(buildTrack(pathOf([2000, 2200]), capped), policyPreset('fixed', policy), capped);
    expect(r.totals).toMatchObject({ guardBlocked: 0, topUps: 1, depositUnits: 1_000_000n, trades: 1 });
    const free = { ...capped, guard: config.guard };
    expect(runPolicy(buildTrack(pathOf([2000, 2200]), free), policyPreset('fixed', policy), free).totals).toMatchObject({ guardBlocked: 0, topUps: 1, depositUnits: 2_138_408_140n, trades: 1 }); // sized for the position the trade leaves
  });

  it('MAX_NOTIONAL_PER_DAY_USD from the configuration blocks hourly trades once spent', () => {
    const scenario = { ...defaultScenario({ ...config.guard, maxNotionalPerDayUsdE8: 10_000n * 10n ** 8n }) };
    const path = simulatedPath({ model: 'gbm', seed: 5, steps: 48, substeps: 1, volAnnual: 1.5 });
    const r = runPolicy(buildTrack(path, scenario), policyPreset('time-1h', base), scenario);
    expect(r.totals.guardBlocked).toBeGreaterThan(0);
  });

  it('the float screen changes nothing: with and without it the runs are identical', () => {
    const path = simulatedPath({ model: 'jump', seed: 11, steps: 400, substeps: 4 });
    const scenario = { ...defaultScenario(config.guard), episodeDays: 5, walletUsdc: 20_000 };
    const track = buildTrack(path, scenario);
    const specs = policyPresets(['fixed', 'ww', 'adaptive', 'time-2h', 'static', 'unhedged'], base);
    for (const spec of specs) {
      const fast = runPolicy(track, spec, scenario);
      const full = runPolicy(track, spec, scenario, { alwaysPlan: true });
      expect({ ...fast.totals, plannedTicks: 0 }).toEqual({ ...full.totals, plannedTicks: 0 });
      expect(fast.series).toEqual(full.series);
      expect(fast.episodes).toEqual(full.episodes);
      expect(fast.totals.plannedTicks).toBeLessThanOrEqual(full.totals.plannedTicks);
    }
  });
});

describe('simulate: policies and baselines', () => {
  const path = simulatedPath({ model: 'jump', seed: 7, steps: 240, substeps: 4 });
  const scenario = defaultScenario(config.guard);

  it('time-1h trades back to target on the hour: ~zero delta at every close; a band policy lets it drift', async () => {
    const [time, fixed] = (await runBacktest(path, policyPresets(['time-1h', 'fixed'], base), scenario, { workers: 0 })).runs;
    const prices = path.steps.filter((s) => s.isClose).map((s) => Number(s.priceE8) / 1e8);
    expect(Array.from(time!.run.series.netDeltaUsd).every((d, k) => Math.abs(d) <= 0.01 * prices[k]!)).toBe(true); // MIN_TRADE_ETH
    expect(time!.metrics.trades).toBeGreaterThan(200);
    expect(time!.metrics.trades).toBeLessThanOrEqual(240);
    expect(Array.from(fixed!.run.series.netDeltaUsd).some((d, k) => Math.abs(d) > 0.5 * prices[k]!)).toBe(true);
    expect(fixed!.metrics.trades).toBeLessThan(time!.metrics.trades);
  });

  it('unhedged has no hedge at all; static starts hedged and never trades; hedging removes most of the variance', async () => {
    const runs = (await runBacktest(path, policyPresets(['unhedged', 'static', 'fixed', 'time-1h'], base), scenario, { workers: 0 })).runs;
    const [unhedged, stat] = runs;
    expect(unhedged!.metrics).toMatchObject({ trades: 0, topUps: 0, costUsd: 0, hedgeEffectiveness: 0 });
    expect(unhedged!.run.series.marginRatio.every((x) => x === Infinity)).toBe(true);
    expect(stat!.metrics.trades).toBe(0);
    expect(stat!.run.series.marginRatio[0]).toBeCloseTo(0.25, 6);
    for (const r of runs.slice(2)) expect(r.metrics.hedgeEffectiveness).toBeGreaterThan(0.9);
  });

  it('the attribution adds up to the total P&L', async () => {
    const runs = (await runBacktest(path, policyPresets(['fixed', 'unhedged'], base), { ...scenario, lp: { ...scenario.lp, feeAprPct: 20 } }, { workers: 0 })).runs;
    for (const { metrics: m } of runs) {
      const a = m.attribution;
      const sum = a.lpFeesUsd + a.lpPriceMoveUsd + a.lpLossVsHoldingUsd + a.lpRecenterUsd + a.hedgePnlUsd + a.fundingUsd + a.feesUsd + a.slippageUsd + a.gasUsd + a.penaltiesUsd;
      expect(sum).toBeCloseTo(a.totalUsd, 0);
      expect(a.lpFeesUsd).toBeGreaterThan(0);
    }
  });

  it('rejects an unknown policy name; time-15m is every 900 s; default is the keeper\'s default configuration', () => {
    expect(() => policyPresets(['fixed', 'sometimes'], base)).toThrow(/unknown policy "sometimes"/);
    expect(policyPreset('time-15m', base).policy.band?.rebalancePeriodSec).toBe(900);
    expect(policyPreset('default', base).policy).toEqual(loadConfig({}).policy);
  });
});

describe('simulate: deterministic', () => {
  it('the same slice of the shipped data gives the same results twice, in threads or not', async () => {
    const slice = pathFromCandles(await defaultEthCandles(), { from: 20_000, count: 150 });
    const specs = policyPresets(['fixed', 'vol', 'ww', 'time-1h'], base);
    const once = async (workers: number): Promise<unknown> => (await runBacktest(slice, specs, defaultScenario(config.guard), { workers })).runs
      .map(({ run, metrics }) => ({ ...metrics, runtimeMs: 0, series: run.series }));
    const a = await once(0);
    expect(await once(0)).toEqual(a);
    expect(await once(2)).toEqual(a);
    expect(slice.steps).toHaveLength(1 + 150 * 4);
  }, 60_000);

  it('simulated paths: same seed, same path; another seed, another path', () => {
    const p = (seed: number): bigint[] => simulatedPath({ model: 'gbm', seed, steps: 50 }).steps.map((s) => s.priceE8);
    expect(p(3)).toEqual(p(3));
    expect(p(3)).not.toEqual(p(4));
  });
});
