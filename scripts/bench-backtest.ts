/**
 * Bench section "backtest": the default run (`npm run keeper -- backtest`: the whole shipped ETH
 * hourly file, the 4 default policies and the 2 baselines), timed as a user would: the command
 * from the prompt to the report written (wall, and the CPU of the process tree from
 * /usr/bin/time), and the engine's own wall time as the command reports it in backtest.json.
 * One warm-up run first (it may build the cached bundles), then `runs` timed runs. The machine
 * is shared: the load average is recorded with each run, and user CPU is the steadier figure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface BacktestRun {
  wallMs: number;
  userCpuMs: number;
  sysCpuMs: number;
  engineMs: number;
  commandMs: number;
  loadAvg1m: number;
}

export interface BacktestBench {
  command: string;
  policies: string[];
  steps: number;
  workers: number;
  runs: BacktestRun[];
  median: BacktestRun;
  best: BacktestRun;
  targets: { engineMs: number; wallMs: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function once(root: string, out: string): { run: BacktestRun; json: { policies: { name: string }[]; market: { ticks: number }; workers: number } } {
  const load = loadavg()[0]!;
  // GNU time: elapsed, user and system seconds of npm and everything it started.
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', 'npm', 'run', '-s', 'keeper', '--', 'backtest', '--out', out], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' },
  });
  const stderr = r.stderr ?? '';
  if (r.status !== 0) throw new Error(`bench backtest: the command failed (${r.status}): ${stderr.slice(-500)}`);
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`bench backtest: no timing in the output of /usr/bin/time: ${stderr.slice(-500)}`);
  const json = JSON.parse(readFileSync(join(out, 'backtest.json'), 'utf8'));
  return {
    run: {
      wallMs: Number(m[1]) * 1000, userCpuMs: Number(m[2]) * 1000, sysCpuMs: Number(m[3]) * 1000,
      engineMs: Math.round(json.timings.engineMs), commandMs: Math.round(json.timings.commandMs), loadAvg1m: Number(load.toFixed(2)),
    },
    json,
  };
}

export function measureBacktest(runs: number): BacktestBench {
  const root = resolve(import.meta.dirname, '..');
  const out = mkdtempSync(join(tmpdir(), 'bench-backtest-'));
  try {
    once(root, out);
    const timed = Array.from({ length: runs }, () => once(root, out));
    const pick = (f: (r: BacktestRun) => number): number => median(timed.map((t) => f(t.run)));
    const json = timed[0]!.json;
    const rs = timed.map((t) => t.run);
    return {
      command: 'npm run keeper -- backtest',
      policies: json.policies.map((p) => p.name),
      steps: json.market.ticks,
      workers: json.workers ?? availableParallelism(),
      runs: rs,
      median: { wallMs: pick((r) => r.wallMs), userCpuMs: pick((r) => r.userCpuMs), sysCpuMs: pick((r) => r.sysCpuMs), engineMs: pick((r) => r.engineMs), commandMs: pick((r) => r.commandMs), loadAvg1m: pick((r) => r.loadAvg1m) },
      best: rs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a)),
      targets: { engineMs: 3000, wallMs: 5000 },
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function formatBacktest(b: BacktestBench): string {
  const row = (label: string, r: BacktestRun): string =>
    `${label.padEnd(8)} wall ${(r.wallMs / 1000).toFixed(2)} s  engine ${(r.engineMs / 1000).toFixed(2)} s  in-process ${(r.commandMs / 1000).toFixed(2)} s  user CPU ${(r.userCpuMs / 1000).toFixed(2)} s  sys ${(r.sysCpuMs / 1000).toFixed(2)} s  load ${r.loadAvg1m}`;
  return [
    `Backtest default run (${b.command}: ${b.policies.join(', ')}; ${b.steps.toLocaleString('en-US')} ticks, ${b.workers} worker threads; targets: engine <= ${b.targets.engineMs / 1000} s, wall <= ${b.targets.wallMs / 1000} s)`,
    row('median', b.median),
    row('best', b.best),
  ].join('\n');
}
