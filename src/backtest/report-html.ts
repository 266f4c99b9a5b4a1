import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { PolicyMetrics } from './metrics.js';
import { CHART_SCRIPT } from './report-script.js';
import { attributionTable, episodeTable, escapeHtml, metricsTable, yearTable } from './report-tables.js';

/**
 * The self-contained HTML report: tables, and charts drawn by uPlot (MIT, github.com/leeoniya/uPlot),
 * whose minified script and stylesheet are inlined, so the file opens offline and loads no URL.
 * The report's own script marks <body data-charts-rendered="n"> as the charts draw.
 */

export interface ReportPolicy {
  name: string;
  kind: 'keeper' | 'static' | 'unhedged';
  color: string;
  metrics: PolicyMetrics;
  /** Per chart bucket, on ReportData.timeSec. */
  cumPnlUsd: number[];
  drawdownUsd: number[];
  netDeltaRmsUsd: number[];
  /** Worst ratio of the bucket, capped at 2; null = no position. */
  marginRatio: (number | null)[];
  cumCostUsd: number[];
}

export interface ReportData {
  title: string;
  source: string;
  generatedAt: string;
  summary: string[];
  notes: string[];
  timeSec: number[];
  market: { timeSec: number[]; priceUsd: number[] };
  refLines: { marginTrigger: number; marginTarget: number; maintenance: number };
  policies: ReportPolicy[];
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}.muted{color:#666}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th:first-child,td:first-child{text-align:left;white-space:nowrap}.scroll{overflow-x:auto}th{background:#f4f4f4}td.swatch span{display:inline-block;width:10px;height:10px;margin-right:6px}
.chart{margin:10px 0 18px}.chart h3{font-size:14px;margin:0 0 2px}.chart p{margin:0 0 4px;color:#666;font-size:12px}ul{padding-left:20px}`;

let uplotAssets: { js: string; css: string } | undefined;

/** uPlot's minified IIFE and CSS from the installed package (its banner's URL reworded: the file names no URL). */
function uplot(): { js: string; css: string } {
  if (uplotAssets) return uplotAssets;
  const require = createRequire(import.meta.url);
  const dir = require.resolve('uplot/package.json').replace(/package\.json$/, '');
  const js = readFileSync(`${dir}dist/uPlot.iife.min.js`, 'utf8').replace(/^\/\*! https:\/\/github\.com\/leeoniya\/uPlot \((v[\d.]+)\) \*\//, '/*! uPlot $1, MIT licence, github.com/leeoniya/uPlot */');
  return (uplotAssets = { js, css: readFileSync(`${dir}dist/uPlot.min.css`, 'utf8') });
}

/** JSON inside <script type="application/json">: '<' escaped so no string can close the tag. */
function jsonScript(id: string, data: unknown): string {
  return `<script type="application/json" id="${id}">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`;
}

/** The charts' data: small arrays, no metrics (those are in the tables). */
function chartData(r: ReportData): unknown {
  return {
    timeSec: r.timeSec,
    market: r.market,
    refLines: r.refLines,
    policies: r.policies.map((p) => ({
      name: p.name, kind: p.kind, color: p.color, cumPnlUsd: p.cumPnlUsd, drawdownUsd: p.drawdownUsd, netDeltaRmsUsd: p.netDeltaRmsUsd,
      marginRatio: p.marginRatio, cumCostUsd: p.cumCostUsd, costUsd: p.metrics.costUsd, perCloseStdUsd: p.metrics.perCloseStdUsd,
      episodePnlUsd: p.metrics.episodes?.pnlUsd ?? null,
    })),
  };
}

export function renderReportHtml(r: ReportData): string {
  const { js, css } = uplot();
  const hasEpisodes = r.policies.some((p) => p.metrics.episodes);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(r.title)}</title><style>${css}</style><style>${CSS}</style></head>
<body data-charts-rendered="0">
<h1>${escapeHtml(r.title)}</h1>
<div class="muted">${escapeHtml(r.source)} · generated ${escapeHtml(r.generatedAt)}</div>
<ul>${r.summary.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<h2>Policies</h2>
${metricsTable(r.policies)}
<div id="charts-top"></div>
<h2>Where the P&amp;L came from</h2>
${attributionTable(r.policies)}
${hasEpisodes ? `<h2>Episodes</h2>${episodeTable(r.policies)}<div id="charts-episodes"></div>` : ''}
<h2>Over time</h2>
<div id="charts-time"></div>
<h2>Per year</h2>
${yearTable(r.policies)}
<h2>Definitions and assumptions</h2>
<ul>${r.notes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
${jsonScript('report-data', chartData(r))}
<script>${js}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}
