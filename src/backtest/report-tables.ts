import type { Attribution } from './record.js';
import type { ReportPolicy } from './report-html.js';

/** The report's tables (plain HTML; numbers formatted for people). */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function usd(x: number, dp = 0): string {
  // Rounding to zero keeps no sign: "-0" reads as a loss.
  const s = Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: dp, maximumFractionDigits: dp }) : String(x);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

const ratio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : String(x));
const pct = (x: number | null): string => (x === null || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`);

function table(id: string, head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${h}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => (c.startsWith('<td') ? c : `<td>${c}</td>`)).join('')}</tr>`).join('');
  return `<div class="scroll"><table id="${id}"><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table></div>`;
}

function nameCell(p: ReportPolicy): string {
  const tag = p.kind === 'keeper' ? '' : ' <span class="muted">(baseline)</span>';
  return `<td class="swatch"><span style="background:${p.color}"></span>${escapeHtml(p.name)}${tag}</td>`;
}

export function metricsTable(policies: ReportPolicy[]): string {
  const head = ['policy', 'hedging cost $', 'std $/close', 'hedge effectiveness', 'Sharpe', 'Sortino', 'max drawdown $', 'total P&amp;L $', 'trades', 'top-ups',
    'liquidations', 'guard blocks', 'outside band %', 'runtime s'];
  return table('metrics', head, policies.map((p) => {
    const m = p.metrics;
    return [nameCell(p), usd(m.costUsd), usd(m.perCloseStdUsd, 2), pct(m.hedgeEffectiveness), ratio(m.sharpe), ratio(m.sortino), usd(m.maxDrawdownUsd), usd(m.totalPnlUsd),
      String(m.trades), String(m.topUps), String(m.liquidations), String(m.guardBlocked), m.timeOutsideBandPct.toFixed(1), (m.runtimeMs / 1000).toFixed(2)];
  }));
}

const ATTRIBUTION: [keyof Attribution, string][] = [
  ['lpFeesUsd', 'LP fees'],
  ['lpPriceMoveUsd', 'LP price move (holding its tokens)'],
  ['lpLossVsHoldingUsd', 'LP loss vs holding (impermanent loss)'],
  ['lpRecenterUsd', 'LP recentering (swap + transactions)'],
  ['hedgePnlUsd', 'hedge P&amp;L (at oracle prices)'],
  ['fundingUsd', 'funding'],
  ['feesUsd', 'taker fees'],
  ['slippageUsd', 'slippage'],
  ['gasUsd', 'gas / transaction costs'],
  ['penaltiesUsd', 'liquidation penalties'],
  ['totalUsd', '<b>total P&amp;L</b>'],
];

/** Lines as rows, policies as columns: the same LP lines for all, then what each hedge did. */
export function attributionTable(policies: ReportPolicy[]): string {
  const head = ['USD', ...policies.map((p) => escapeHtml(p.name))];
  return table('attribution', head, ATTRIBUTION.map(([key, label]) => [label, ...policies.map((p) => usd(p.metrics.attribution[key]))]));
}

export function episodeTable(policies: ReportPolicy[]): string {
  const head = ['policy', 'episodes', 'mean cost $', 'mean P&amp;L $', 'std P&amp;L $', 'worst P&amp;L $', 'trades / episode'];
  return table('episodes', head, policies.filter((p) => p.metrics.episodes).map((p) => {
    const e = p.metrics.episodes!;
    return [nameCell(p), String(e.count), usd(e.meanCostUsd), usd(e.meanPnlUsd), usd(e.stdPnlUsd), usd(e.worstPnlUsd), e.tradesPerEpisode.toFixed(1)];
  }));
}

/** One row per year and policy. */
export function yearTable(policies: ReportPolicy[]): string {
  const head = ['year', 'policy', 'closes', 'P&amp;L $', 'hedging cost $', 'std $/close', 'trades'];
  const years = [...new Set(policies.flatMap((p) => p.metrics.perYear.map((y) => y.year)))].sort();
  const rows: string[][] = [];
  for (const year of years) {
    for (const p of policies) {
      const y = p.metrics.perYear.find((x) => x.year === year);
      if (y) rows.push([String(year), nameCell(p), String(y.closes), usd(y.pnlUsd), usd(y.costUsd), usd(y.perCloseStdUsd, 2), String(y.trades)]);
    }
  }
  return table('per-year', head, rows);
}
