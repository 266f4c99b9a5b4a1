import type { PolicyMetrics } from './metrics.js';
import { downsample, escapeHtml, lineChart, scatterChart, type LineSeries } from './svg-charts.js';

/**
 * The self-contained HTML report: inline CSS, inline SVG charts, one small inline script that
 * only checks the charts drew (it marks <body data-charts-rendered="n">). No URL is loaded.
 */

export interface ReportPolicy {
  name: string;
  color: string;
  metrics: PolicyMetrics;
  /** Per close (full resolution; downsampled here for drawing). */
  timeSec: ArrayLike<number>;
  netDeltaUsd: ArrayLike<number>;
  marginRatio: ArrayLike<number>;
  cumCostUsd: ArrayLike<number>;
  valueUsd: ArrayLike<number>;
}

export interface ReportData {
  title: string;
  source: string;
  generatedAt: string;
  summary: string[];
  notes: string[];
  market: { timeSec: ArrayLike<number>; priceUsd: ArrayLike<number> };
  refLines: { marginTrigger: number; marginTarget: number; maintenance: number };
  policies: ReportPolicy[];
}

export const POLICY_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

const BUCKETS = 700;

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}.muted{color:#666}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th:first-child,td:first-child{text-align:left;white-space:nowrap}.scroll{overflow-x:auto}th{background:#f4f4f4}td.swatch span{display:inline-block;width:10px;height:10px;margin-right:6px}
svg.chart{display:block;margin:6px 0;background:#fff;border:1px solid #eee;max-width:100%;height:auto}
svg .title{font-size:13px;font-weight:600}svg .axis{font-size:11px;fill:#555}svg .legend{font-size:11px;fill:#333}
svg .grid{stroke:#eee}svg .ref{stroke:#999;stroke-dasharray:4 3}ul{padding-left:20px}`;

const SELF_CHECK = `addEventListener('load',function(){var n=0;document.querySelectorAll('svg.chart').forEach(function(svg){
var ok=false;svg.querySelectorAll('.series,.point').forEach(function(m){var b=m.getBBox();if(b.width>0||b.height>0)ok=true;});
svg.setAttribute('data-rendered',ok?'yes':'no');if(ok)n++;});document.body.setAttribute('data-charts-rendered',String(n));});`;

function usd(x: number, dp = 0): string {
  return Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: dp, maximumFractionDigits: dp }) : String(x);
}

function ratio(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : String(x);
}

function series(policies: ReportPolicy[], pick: (p: ReportPolicy) => ArrayLike<number>): LineSeries[] {
  return policies.map((p) => {
    const d = downsample(p.timeSec, pick(p), BUCKETS);
    return { name: p.name, color: p.color, timeSec: d.timeSec, values: d.values };
  });
}

export function metricsTable(policies: ReportPolicy[]): string {
  const head = ['policy', 'hedging cost $', 'fees $', 'slippage $', 'gas $', 'funding $', 'penalties $', 'residual std $/tick', 'residual std $/close',
    'max drawdown $', 'Sharpe', 'Sortino', 'trades', 'top-ups', 'liquidations', 'outside band %', 'runtime s'];
  const rows = policies.map((p) => {
    const m = p.metrics;
    const cells = [usd(m.hedgingCostUsd), usd(m.costs.feesUsd), usd(m.costs.slippageUsd), usd(m.costs.gasUsd), usd(m.costs.fundingUsd),
      usd(m.costs.penaltyUsd), usd(m.residualStdUsd, 2), usd(m.residualStdPerCloseUsd, 2), usd(m.maxDrawdownUsd), ratio(m.sharpe), ratio(m.sortino), String(m.trades),
      String(m.topUps), String(m.liquidations), m.timeOutsideBandPct.toFixed(1), (m.runtimeMs / 1000).toFixed(1)];
    return `<tr><td class="swatch"><span style="background:${p.color}"></span>${escapeHtml(p.name)}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return `<div class="scroll"><table id="metrics"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

export function renderReportHtml(r: ReportData): string {
  const price = downsample(r.market.timeSec, r.market.priceUsd, BUCKETS);
  const charts = [
    lineChart({ id: 'chart-price', title: 'ETH price', yLabel: 'USD (log)', logY: true, series: [{ name: 'price', color: '#333', ...price, values: price.values }] }),
    lineChart({ id: 'chart-delta', title: 'Net delta after the keeper acted', yLabel: 'USD equivalent', series: series(r.policies, (p) => p.netDeltaUsd) }),
    lineChart({
      id: 'chart-margin', title: 'Perp margin ratio (shown up to 2.0)', yLabel: 'account value / notional', yCap: 2,
      series: series(r.policies, (p) => p.marginRatio),
      refLines: [
        { y: r.refLines.marginTarget, label: 'top-up target' },
        { y: r.refLines.marginTrigger, label: 'top-up trigger' },
        { y: r.refLines.maintenance, label: 'liquidation' },
      ],
    }),
    lineChart({ id: 'chart-cost', title: 'Cumulative hedging cost', yLabel: 'USD', series: series(r.policies, (p) => p.cumCostUsd) }),
    lineChart({ id: 'chart-value', title: 'Portfolio value (net of capital brought in)', yLabel: 'USD', series: series(r.policies, (p) => p.valueUsd) }),
  ];
  const scatter = scatterChart({
    id: 'chart-frontier', title: 'Cost vs residual risk (lower left is better)', xLabel: 'hedging cost, USD', yLabel: 'residual std, USD per tick',
    points: r.policies.map((p) => ({ name: p.name, color: p.color, x: p.metrics.hedgingCostUsd, y: p.metrics.residualStdUsd })),
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(r.title)}</title><style>${CSS}</style></head>
<body data-charts-rendered="0">
<h1>${escapeHtml(r.title)}</h1>
<div class="muted">${escapeHtml(r.source)} · generated ${escapeHtml(r.generatedAt)}</div>
<ul>${r.summary.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<h2>Policies</h2>
${metricsTable(r.policies)}
${scatter}
<h2>Over time</h2>
${charts.join('\n')}
<h2>Definitions and assumptions</h2>
<ul>${r.notes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<script>${SELF_CHECK}</script>
</body></html>
`;
}
