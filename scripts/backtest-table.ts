/**
 * Print the backtest table of the shipped ETH data as markdown, for notes and reviews:
 *   npx tsx scripts/backtest-table.ts [--substeps bridge|ohlc|close] [--policies fixed,vol,ww,time-1h]
 *                                     [--seed n] [--ticks-per-close n]
 *                                     [--set KEY=VALUE ...]   (policy variables, as in .env)
 * Takes ~5 s per policy on the whole file.
 */
import { loadConfig } from '../src/config.js';
import { runBacktest } from '../src/backtest/backtest.js';
import { defaultEthCandles } from '../src/backtest/candles.js';
import { pathFromCandles, type Substeps } from '../src/backtest/path.js';
import { DEFAULT_POLICY_NAMES, defaultScenario, policyPresets } from '../src/backtest/policies.js';

function args(argv: string[]): { substeps: Substeps; policies: string[]; env: Record<string, string>; seed: number; ticks: number } {
  const out = { substeps: 'bridge' as Substeps, policies: [...DEFAULT_POLICY_NAMES] as string[], env: {} as Record<string, string>, seed: 1, ticks: 4 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--substeps') out.substeps = v as Substeps;
    else if (argv[i] === '--policies') out.policies = v.split(',');
    else if (argv[i] === '--seed') out.seed = Number(v);
    else if (argv[i] === '--ticks-per-close') out.ticks = Number(v);
    else if (argv[i] === '--set') {
      const [k, ...rest] = v.split('=');
      out.env[k!] = rest.join('=');
    } else continue;
    i++;
  }
  return out;
}

const a = args(process.argv.slice(2));
const base = loadConfig(a.env).policy;
const path = pathFromCandles(await defaultEthCandles(), { substeps: a.substeps, seed: a.seed, ticksPerClose: a.ticks });
const r = runBacktest(path, policyPresets(a.policies, base), defaultScenario(base));
const fmt = (x: number, dp = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: dp, maximumFractionDigits: dp });
console.log(`substeps ${a.substeps}, bridge seed ${a.seed}, ${a.ticks} ticks per close${Object.keys(a.env).length ? `, ${JSON.stringify(a.env)}` : ''}: ${path.steps.length - 1} ticks, total ${(r.totalMs / 1000).toFixed(1)} s\n`);
console.log('| policy | hedging cost $ | residual std $/tick | std $/close | max DD $ | Sharpe | Sortino | trades | top-ups | liquidations | outside band % | runtime s |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const { run, metrics: m } of r.runs) {
  console.log(`| ${run.name} | ${fmt(m.hedgingCostUsd)} | ${fmt(m.residualStdUsd, 2)} | ${fmt(m.residualStdPerCloseUsd, 2)} | ${fmt(m.maxDrawdownUsd)} | ${m.sharpe.toFixed(2)} | ${m.sortino.toFixed(2)} | ${m.trades} | ${m.topUps} | ${m.liquidations} | ${m.timeOutsideBandPct.toFixed(1)} | ${(m.runtimeMs / 1000).toFixed(1)} |`);
}
