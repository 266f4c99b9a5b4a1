import { buildMarketTrack, type MarketTrack } from './market.js';
import { policyMetrics, type PolicyMetrics } from './metrics.js';
import type { BacktestPath } from './path.js';
import type { BacktestScenario, PolicySpec } from './policies.js';
import type { Progress } from './progress.js';
import { runPolicy, type PolicyRun } from './simulate.js';

/** A whole backtest: the shared market track, then each policy over it. */

export interface BacktestResult {
  path: BacktestPath;
  scenario: BacktestScenario;
  track: MarketTrack;
  trackMs: number;
  runs: { run: PolicyRun; metrics: PolicyMetrics }[];
  totalMs: number;
}

export function runBacktest(path: BacktestPath, policies: readonly PolicySpec[], scenario: BacktestScenario, progress?: Progress): BacktestResult {
  const started = performance.now();
  if (path.steps.length < 2) throw new RangeError('a backtest needs at least two prices');
  const track = buildMarketTrack(path, { lp: scenario.lp, gasPriceGwei: scenario.gasPriceGwei, slippageBps: scenario.slippageBps });
  const trackMs = performance.now() - started;
  const runs = policies.map((spec) => {
    progress?.phase(`backtest ${spec.name}`, track.n);
    const run = runPolicy(track, spec, scenario, { onProgress: (done) => progress?.update(done) });
    return { run, metrics: policyMetrics(run, path.intervalSec) };
  });
  progress?.finish();
  return { path, scenario, track, trackMs, runs, totalMs: performance.now() - started };
}
