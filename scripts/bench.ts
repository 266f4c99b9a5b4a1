/**
 * `npm run bench [-- --out <path>] [-- --quick]`: the keeper's cost and speed, measured on the
 * devnet (its own anvil from the deployed dump), printed as a table and written as JSON.
 *
 *   requests   JSON-RPC requests and HTTP round-trips per steady-state tick, 1/10/50 LP positions
 *   portfolio  the same for the multi-asset demo portfolio (2 assets, 3 pools, 2 venues)
 *   latency    tick latency (read + assess + plan, nothing sent), median and p95, same sizes
 *   decision   assess + plan for a synthetic 100-position portfolio, no I/O
 *   reaction   blocks from the first out-of-band block to the block with the hedge (1 s blocks)
 *   gas        per hedge adjust and per top-up, beside the bare contract call doing the same
 *   memory     resident memory after 1,000 and after 10,000 ticks
 *   backtest   `npm run keeper -- backtest` (the default run): wall, CPU and engine time
 * `-- --only backtest` runs the backtest section alone (no devnet).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { log, startBenchDevnet } from './bench-env.js';
import { measureDecision, measureTicks } from './bench-rpc.js';
import { measureGas } from './bench-gas.js';
import { measurePortfolioTicks } from './bench-portfolio.js';
import { measureMemory } from './bench-memory.js';
import { measureReaction } from './bench-reaction.js';
import { formatReport, type BenchResults } from './bench-report.js';
import { formatBacktest, measureBacktest } from './bench-backtest.js';

function parseArgs(argv: readonly string[]): { out: string; quick: boolean; only: string | null } {
  let out = 'bench/results.json';
  let quick = false;
  let only: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') quick = true;
    else if (arg === '--only') only = argv[++i] ?? null;
    else if (arg === '--out') out = argv[++i] ?? out;
    else if (arg.startsWith('--out=')) out = arg.slice('--out='.length);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run bench -- [--out bench/results.json] [--quick] [--only backtest]\n');
      process.exit(0);
    } else throw new Error(`bench: unknown argument ${arg}`);
  }
  if (only !== null && only !== 'backtest') throw new Error(`bench: --only ${only}: only "backtest" runs alone`);
  return { out: resolve(out), quick, only };
}

/** `--only backtest`: no devnet, the backtest section alone. */
function backtestOnly(out: string, quick: boolean): void {
  log('backtest...');
  const backtest = measureBacktest(quick ? 1 : 3);
  const results = { version: 1, date: new Date().toISOString(), quick, machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: availableParallelism() }, backtest };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${formatBacktest(backtest)}\n\nwritten ${out}\n`);
}

const SIZES = [1, 10, 50] as const;

async function main(): Promise<void> {
  const { out, quick, only } = parseArgs(process.argv.slice(2));
  // Alone, the section does not overwrite the full results file unless asked to.
  if (only === 'backtest') return backtestOnly(process.argv.some((a) => a.startsWith('--out')) ? out : resolve('bench/backtest.json'), quick);
  const plan = quick
    ? { ticksPerSize: 50, decisionIterations: 500, breaches: 10, memoryTicks: 2_000 }
    : { ticksPerSize: 200, decisionIterations: 5_000, breaches: 30, memoryTicks: 10_000 };
  const t0 = performance.now();
  const sectionsSec: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    log(`${name}...`);
    const r = await f();
    sectionsSec[name] = Number(((performance.now() - s) / 1000).toFixed(1));
    return r;
  };

  const devnet = await timed('devnet', () => startBenchDevnet());
  let results: BenchResults;
  try {
    const gas = await timed('gas', () => measureGas(devnet));
    const memory = await timed('memory', () => measureMemory(devnet, plan.memoryTicks));
    const ticks = await timed('requests+latency', () => measureTicks(devnet, SIZES, plan.ticksPerSize));
    const portfolio = await timed('portfolio', () => measurePortfolioTicks(devnet, plan.ticksPerSize));
    const decision = await timed('decision', async () => measureDecision(ticks.snapshot, ticks.policy, 100, plan.decisionIterations));
    await devnet.stop();
    const reaction = await timed('reaction', () => measureReaction(plan.breaches));
    const backtest = await timed('backtest', async () => measureBacktest(quick ? 1 : 3));
    const perTick = ticks.sizes.map((s) => s.rpcRequestsPerTick);
    results = {
      version: 1,
      date: new Date().toISOString(),
      quick,
      machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: availableParallelism() },
      totalRuntimeSec: Number(((performance.now() - t0) / 1000).toFixed(1)),
      sectionsSec,
      requests: { sizes: ticks.sizes, constantInPositions: perTick.every((n) => n === perTick[0]) },
      portfolio,
      decision,
      reaction,
      gas,
      memory,
      backtest,
    };
  } finally {
    await devnet.stop();
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(formatReport(results));
  process.stdout.write(`\nwritten ${out}\ntotal runtime ${results.totalRuntimeSec} s\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
