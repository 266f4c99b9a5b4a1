/**
 * The README's comparison of hedging policies on the scenario of `keeper backtest --episode-days`
 * (issue 14: $1M LP over 0.666667-1.5x, no recentering, 30-day episodes, 5 bps taker fee, no
 * slippage, $2 a transaction, no funding), as markdown, hourly rebalancing (time-1h) as the base:
 *   npx tsx scripts/backtest-table.ts [--data eth-1h|btc-1h|FILE] [--policies time-1h,...]
 *                                     [--set KEY=VALUE ...]   (configuration variables, as in .env)
 */
import { loadConfig } from '../src/config.js';
import { runBacktest } from '../src/backtest/backtest.js';
import { loadPath, scenarioWith } from '../src/backtest/command.js';
import { defaultScenario, policyPresets } from '../src/backtest/policies.js';

function args(argv: string[]): { data: string; policies: string[]; env: Record<string, string> } {
  const out = { data: 'eth-1h', policies: ['time-1h', 'time-4h', 'time-24h', 'fixed', 'ww', 'default'], env: {} as Record<string, string> };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--data') out.data = v;
    else if (argv[i] === '--policies') out.policies = v.split(',');
    else if (argv[i] === '--set') {
      const [k, ...rest] = v.split('=');
      out.env[k!] = rest.join('=');
    } else continue;
    i++;
  }
  return out;
}

const a = args(process.argv.slice(2));
const config = loadConfig(a.env);
const scenario = scenarioWith(defaultScenario(config.guard), {
  lp: { valueUsd: 1_000_000, low: 0.666667, high: 1.5, recenter: 'off' },
  episodeDays: 30,
  perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 },
  slippageBps: 0,
  tx: { costPerTradeUsd: 2 },
});
const { path } = await loadPath({ data: a.data, substeps: 'close' });
const r = await runBacktest(path, policyPresets(a.policies, config.policy, loadConfig({}).policy), scenario);
const base = r.runs.find((x) => x.run.name === 'time-1h')?.metrics;
const fmt = (x: number, dp = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: dp, maximumFractionDigits: dp });
process.stdout.write(`${path.source}: ${r.summary.episodes} episodes of 30 days, closes only; engine ${(r.engineMs / 1000).toFixed(1)} s\n\n`);
process.stdout.write('| policy | cost $ / episode | cheaper than time-1h | std $ / close | vs time-1h | trades / episode | worst episode $ |\n|---|---:|---:|---:|---:|---:|---:|\n');
for (const { run, metrics: m } of r.runs) {
  const e = m.episodes!;
  const cheaper = base ? `${(base.episodes!.meanCostUsd / e.meanCostUsd).toFixed(2)}x` : '-';
  const vs = base ? `${m.perCloseStdUsd >= base.perCloseStdUsd ? '+' : ''}${(100 * (m.perCloseStdUsd / base.perCloseStdUsd - 1)).toFixed(1)}%` : '-';
  process.stdout.write(`| ${run.name} | ${fmt(e.meanCostUsd)} | ${cheaper} | ${fmt(m.perCloseStdUsd)} | ${vs} | ${e.tradesPerEpisode.toFixed(0)} | ${fmt(e.worstPnlUsd)} |\n`);
}
