/** The bench's JSON shape and its table for the terminal. */
import type { DecisionResult, SizeResult } from './bench-rpc.js';
import type { PortfolioTickResult } from './bench-portfolio.js';
import type { GasComparison } from './bench-gas.js';
import type { MemoryResult } from './bench-memory.js';
import type { ReactionResult } from './bench-reaction.js';
import { formatBacktest, type BacktestBench } from './bench-backtest.js';

export interface BenchResults {
  version: number;
  date: string;
  quick: boolean;
  machine: { node: string; platform: string; cpus: number };
  totalRuntimeSec: number;
  sectionsSec: Record<string, number>;
  requests: { sizes: SizeResult[]; constantInPositions: boolean };
  portfolio: PortfolioTickResult;
  decision: DecisionResult;
  reaction: ReactionResult;
  gas: GasComparison[];
  memory: MemoryResult;
  backtest: BacktestBench;
}

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function pctOver(keeper: string, bare: string): string {
  const b = BigInt(bare);
  if (b === 0n) return 'n/a';
  const diffBp = ((BigInt(keeper) - b) * 10_000n) / b; // basis points, for a one-decimal percent
  const sign = diffBp < 0n ? '-' : '+';
  const abs = diffBp < 0n ? -diffBp : diffBp;
  return `${sign}${abs / 100n}.${((abs % 100n) / 10n).toString()}%`;
}

export function formatReport(r: BenchResults): string {
  const out: string[] = [];
  out.push(`keeper bench ${r.quick ? '(quick) ' : ''}— ${r.machine.platform}, ${r.machine.cpus} CPUs, node ${r.machine.node}`);
  out.push('');
  out.push(`Per steady-state tick (live keeper holding; ${r.requests.sizes[0]?.ticks ?? 0} ticks per size; counted at the transport)`);
  out.push(
    table(
      ['LP positions', 'RPC requests', 'HTTP round-trips', 'latency median ms', 'latency p95 ms', 'methods'],
      r.requests.sizes.map((s) => [
        s.positions,
        s.rpcRequestsPerTick,
        s.httpRoundTripsPerTick,
        s.latencyMs.median,
        s.latencyMs.p95,
        Object.entries(s.methodsPerTick).map(([m, n]) => `${m} ${n}`).join(', '),
      ]),
    ),
  );
  out.push(`requests constant in the number of positions: ${r.requests.constantInPositions ? 'yes' : 'NO'}`);
  out.push('');
  const p = r.portfolio;
  out.push(
    `Portfolio keeper (${p.assets} assets, ${p.pools} pools, ${p.venues} venues, ${p.lpPositions} LPs): ${p.rpcRequestsPerTick} RPC requests and ` +
      `${p.httpRoundTripsPerTick} HTTP round-trips per steady tick, latency median ${p.latencyMs.median} ms, p95 ${p.latencyMs.p95} ms`,
  );
  out.push('');
  const d = r.decision;
  out.push(`Decision for ${d.positions} LP positions (pure, no I/O; planned: ${d.plannedActions.join(' + ') || 'hold'})`);
  out.push(
    table(
      ['step', 'n', 'median ms', 'p95 ms', 'max ms'],
      [
        ['assess + plan', d.assessPlanMs.n, d.assessPlanMs.median, d.assessPlanMs.p95, d.assessPlanMs.max],
        ['decode positions + assess + plan', d.decodeAssessPlanMs.n, d.decodeAssessPlanMs.median, d.decodeAssessPlanMs.p95, d.decodeAssessPlanMs.max],
      ],
    ),
  );
  out.push('');
  const x = r.reaction;
  out.push(`Reaction (${x.blockTimeSec} s blocks, keeper in block mode, ${x.breaches} breaches alternating up/down; ${x.splitMoves} moves split over two blocks)`);
  out.push(table(['blocks from breach to hedge', 'min', 'median', 'p95', 'max', 'mean'], [['', x.blocks.min, x.blocks.median, x.blocks.p95, x.blocks.max, x.blocks.mean]]));
  out.push(`distribution: ${Object.entries(x.histogram).map(([b, n]) => `${b} block(s): ${n}`).join(', ')}`);
  const slow = x.detail.filter((b) => b.blocks > 1);
  if (slow.length) {
    const how = (b: ReactionResult['detail'][number]) =>
      `breach ${b.breachBlock} -> decided on ${b.decisionBlock} -> included ${b.hedgeBlock}: ${b.actions}${b.replacements ? `, ${b.replacements} replacement(s)` : ''}`;
    out.push(`slower than one block: ${slow.map(how).join('; ')}`);
  }
  out.push('');
  out.push('Gas (receipts; bare call = the same protocol call sent directly, same account, same state)');
  out.push(
    table(
      ['action', 'keeper txs', 'keeper total', 'bare call', 'call overhead'],
      r.gas.map((g) => [
        g.action,
        g.keeperTxs.map((t) => `${t.label} ${t.gasUsed}`).join(' + '),
        g.keeperTotalGas,
        `${g.bare[g.bare.length - 1]?.label} ${g.bareCallGas}`,
        `${g.callOverheadGas} (${pctOver(g.keeperTxs.find((t) => !t.label.startsWith('approve'))?.gasUsed ?? g.keeperTotalGas, g.bareCallGas)})`,
      ]),
    ),
  );
  out.push(`keeper transaction events in the reaction run: ${Object.entries(x.txEvents).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  out.push(`hedge trades during the reaction run: gas median ${x.tradeGas.median}, min ${x.tradeGas.min}, max ${x.tradeGas.max}`);
  out.push('');
  const m = r.memory;
  out.push(`Memory (${m.ticks} ticks back to back, ${m.ticksPerSec} ticks/s, metrics on, sampled after ${m.gc ? 'a full GC' : 'no forced GC'})`);
  out.push(
    table(
      ['', 'after 1,000 ticks', `after ${m.ticks.toLocaleString('en-US')} ticks`, 'growth'],
      [
        ['RSS MiB', m.rssAfter1kMiB, m.rssAfterAllMiB, `${m.rssGrowthMiB} (samples ${m.rssRangeMiB[0]}..${m.rssRangeMiB[1]})`],
        ['heap used MiB', m.heapUsedAfter1kMiB, m.heapUsedAfterAllMiB, m.heapGrowthMiB],
      ],
    ),
  );
  out.push('');
  out.push(formatBacktest(r.backtest));
  out.push('');
  out.push(`sections (s): ${Object.entries(r.sectionsSec).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return `${out.join('\n')}\n`;
}
