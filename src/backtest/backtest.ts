import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { cachedBundle } from './bundle.js';
import { runEngine, type EngineInput, type EngineOutput, type TrackSummary } from './engine.js';
import { runMetrics, type PolicyMetrics } from './metrics.js';
import { packPath, type BacktestPath } from './path.js';
import type { BacktestScenario, PolicySpec } from './policies.js';
import type { Progress } from './progress.js';
import type { PolicyRun } from './simulate.js';

/**
 * A whole backtest: the policies split over worker threads (each builds the policy-independent
 * market track of the path, then runs its policies over it), or run in this thread with
 * `workers: 0`. Workers load a cached plain-JS bundle of worker.ts (see bundle.ts).
 */

export interface BacktestResult {
  path: BacktestPath;
  scenario: BacktestScenario;
  summary: TrackSummary;
  runs: { run: PolicyRun; metrics: PolicyMetrics }[];
  /** Wall time of the engine (tracks and policy runs), ms. */
  engineMs: number;
  workers: number;
}

export interface BacktestOptions {
  /** Worker threads; 0 = in this thread. Default: one per core, at most one per policy. */
  workers?: number;
  progress?: Progress;
  /** ETH/USD per step (E8) when the data is another asset: gas is paid in ETH. */
  ethPriceE8?: BigInt64Array;
  /** No shortcut: assess -> plan -> guard on every tick (see simulate.ts). */
  alwaysPlan?: boolean;
}

/** Relative cost of a run, to balance the workers: hourly rebalancers plan on every close. */
function weight(spec: PolicySpec): number {
  if (spec.kind === 'unhedged') return 0.2;
  if (spec.kind === 'static') return 0.4;
  const period = spec.policy.band?.rebalancePeriodSec ?? 3600;
  return spec.policy.bandMode === 'time' && period <= 3600 ? 2 : 1;
}

/** Longest-processing-time-first split of the policies over n workers. */
export function splitPolicies(specs: readonly PolicySpec[], n: number): PolicySpec[][] {
  const groups = Array.from({ length: n }, () => ({ load: 0, specs: [] as PolicySpec[] }));
  for (const spec of [...specs].sort((a, b) => weight(b) - weight(a))) {
    const g = groups.reduce((a, b) => (b.load < a.load ? b : a));
    g.load += weight(spec);
    g.specs.push(spec);
  }
  return groups.map((g) => g.specs).filter((s) => s.length > 0);
}

function runInWorker(file: string, input: EngineInput, onProgress: (policy: string, done: number, total: number) => void): Promise<EngineOutput> {
  return new Promise((resolve, reject) => {
    const w = new Worker(file, { workerData: input });
    let result: EngineOutput | null = null;
    w.on('message', (m: { type: 'progress'; policy: string; done: number; total: number } | { type: 'done'; out: EngineOutput }) => {
      if (m.type === 'progress') onProgress(m.policy, m.done, m.total);
      else result = m.out;
    });
    w.on('error', reject);
    w.on('exit', (code) => (result ? resolve(result) : reject(new Error(`backtest worker exited with code ${code} before its result`))));
  });
}

export async function runBacktest(path: BacktestPath, specs: readonly PolicySpec[], scenario: BacktestScenario, o: BacktestOptions = {}): Promise<BacktestResult> {
  if (path.steps.length < 2) throw new RangeError('a backtest needs at least two prices');
  if (specs.length === 0) throw new RangeError('no policy to backtest');
  const started = performance.now();
  const workers = Math.min(o.workers ?? availableParallelism(), specs.length);
  const packed = packPath(path);
  const done = new Map<string, number>();
  let total = specs.length * path.steps.length;
  const progress = (policy: string, d: number, t: number): void => {
    done.set(policy, d);
    total = Math.max(total, specs.length * t);
    o.progress?.update([...done.values()].reduce((a, b) => a + b, 0), total);
  };
  o.progress?.start(total);
  const input = (group: readonly PolicySpec[]): EngineInput => ({ path: packed, scenario, specs: [...group], ethPriceE8: o.ethPriceE8, alwaysPlan: o.alwaysPlan });
  let outputs: EngineOutput[];
  if (workers <= 0) outputs = [runEngine(input(specs), progress)];
  else {
    const file = await cachedBundle('src/backtest/worker.ts', 'worker');
    outputs = await Promise.all(splitPolicies(specs, workers).map((g) => runInWorker(file, input(g), progress)));
  }
  o.progress?.stop();
  const engineMs = performance.now() - started;
  const byName = new Map(outputs.flatMap((x) => x.runs).map((r) => [r.name, r]));
  const runs = specs.map((s) => byName.get(s.name)!);
  return { path, scenario, summary: outputs[0]!.summary, runs: runMetrics(runs, path.intervalSec), engineMs, workers: Math.max(workers, 0) };
}
