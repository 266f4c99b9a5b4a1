import { bandModeNeedsGamma } from '../core/band-policy.js';
import { episodesOf } from './episodes.js';
import { buildMarketTrack, type MarketTrack } from './market.js';
import type { BacktestPath, PackedPath } from './path.js';
import { unpackPath } from './path.js';
import type { BacktestScenario, PolicySpec } from './policies.js';
import { runPolicy, type PolicyRun } from './simulate.js';

/**
 * The part of a backtest that runs in a worker thread (or in process): build the market track
 * of the path and run each policy over it. Inputs and outputs are structured-clone friendly
 * (typed arrays, bigints, plain objects).
 */

export interface EngineInput {
  path: PackedPath;
  scenario: BacktestScenario;
  specs: PolicySpec[];
  /** ETH/USD per step (E8) when the data is another asset: gas is paid in ETH. */
  ethPriceE8?: BigInt64Array;
  alwaysPlan?: boolean;
}

/** What the report needs from the track (the same for every policy). */
export interface TrackSummary {
  steps: number;
  episodes: number;
  lpRecenters: number;
  lpRecenterCostUsd: number;
  lpNetInflowUsd: number;
  trackMs: number;
}

export interface EngineOutput {
  runs: PolicyRun[];
  summary: TrackSummary;
}

export function summarizeTrack(track: MarketTrack, trackMs: number): TrackSummary {
  let recenters = 0;
  let cost = 0n;
  let inflow = 0n;
  for (const et of track.episodes) {
    recenters += et.recenterSteps.length;
    cost += et.lpRecenterCostUnits[et.n - 1]!;
    for (const j of et.recenterSteps) inflow += et.lpInflowUnits[j]!;
  }
  return { steps: track.n, episodes: track.episodes.length, lpRecenters: recenters, lpRecenterCostUsd: Number(cost) / 1e6, lpNetInflowUsd: Number(inflow) / 1e6, trackMs };
}

export function buildTrack(path: BacktestPath, scenario: BacktestScenario, ethPriceE8?: ArrayLike<bigint>, gamma = true): MarketTrack {
  return buildMarketTrack(path, episodesOf(path, scenario.episodeDays), { lp: scenario.lp, tx: scenario.tx, slippageBps: scenario.slippageBps, ethPriceE8, gamma });
}

/** Steps a policy run walks (for progress totals): every step of every episode. */
export function stepsPerRun(track: MarketTrack): number {
  return track.episodes.reduce((a, e) => a + e.n, 0);
}

export function runEngine(input: EngineInput, onProgress?: (policy: string, stepsDone: number, stepsTotal: number) => void): EngineOutput {
  const started = performance.now();
  const path = unpackPath(input.path);
  const track = buildTrack(path, input.scenario, input.ethPriceE8, input.specs.some((sp) => bandModeNeedsGamma(sp.policy.bandMode)));
  const summary = summarizeTrack(track, performance.now() - started);
  const total = stepsPerRun(track);
  const runs = input.specs.map((spec) =>
    runPolicy(track, spec, input.scenario, { alwaysPlan: input.alwaysPlan, onProgress: (done) => onProgress?.(spec.name, done, total) }),
  );
  return { runs, summary };
}
