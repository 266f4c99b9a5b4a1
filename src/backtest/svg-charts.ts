/**
 * Inline SVG charts for the backtest report: no script and no external resource is needed to
 * draw them, so the HTML opens offline in any browser. Every data mark carries the class
 * `series` (lines) or `point` (scatter), which the report's self-check and the e2e test count.
 */

export interface LineSeries {
  name: string;
  color: string;
  timeSec: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface LineChartOptions {
  id: string;
  title: string;
  yLabel: string;
  series: LineSeries[];
  logY?: boolean;
  /** Values above are drawn at the cap (e.g. a margin ratio with no position is infinite). */
  yCap?: number;
  /** Horizontal reference lines. */
  refLines?: { y: number; label: string }[];
  width?: number;
  height?: number;
}

const M = { l: 78, r: 16, t: 34, b: 34 };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Keep at most ~2 * buckets points: the first, min and max of each bucket (spikes survive). */
export function downsample(timeSec: ArrayLike<number>, values: ArrayLike<number>, buckets: number): { timeSec: number[]; values: number[] } {
  const n = values.length;
  if (n <= 2 * buckets) return { timeSec: Array.from(timeSec), values: Array.from(values) };
  const t: number[] = [];
  const v: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (values[i]! < values[lo]! || Number.isNaN(values[lo]!)) lo = i;
      if (values[i]! > values[hi]! || Number.isNaN(values[hi]!)) hi = i;
    }
    for (const i of lo <= hi ? [lo, hi] : [hi, lo]) {
      if (t.length > 0 && t[t.length - 1] === timeSec[i]) continue;
      t.push(timeSec[i]!);
      v.push(values[i]!);
    }
  }
  return { timeSec: t, values: v };
}

/** 1-2-5 ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  // Integer multiples, trimmed to 12 significant digits: repeated float addition would drift.
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return out;
}

/** niceTicks from 0 whose last tick is >= max (the axis then contains every point). */
function coveringTicks(max: number): number[] {
  const t = niceTicks(0, max);
  const step = t.length > 1 ? t[1]! - t[0]! : max;
  while (t[t.length - 1]! < max) t.push(t[t.length - 1]! + step);
  return t;
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const f of [1, 2, 5]) {
      const x = f * 10 ** e;
      if (x >= lo && x <= hi) out.push(x);
    }
  }
  return out;
}

export function fmtNum(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (a >= 100 || x === 0) return x.toFixed(0);
  return a >= 1 ? x.toFixed(1) : x.toPrecision(2);
}

function dateLabel(sec: number, spanSec: number): string {
  const iso = new Date(sec * 1000).toISOString();
  return spanSec > 2 * 365 * 86_400 ? iso.slice(0, 7) : spanSec > 5 * 86_400 ? iso.slice(0, 10) : iso.slice(5, 16).replace('T', ' ');
}

function extent(series: LineSeries[], f: (v: number) => number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      const v = f(s.values[i]!);
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return [0, 1];
  return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
}

export function lineChart(o: LineChartOptions): string {
  const w = o.width ?? 920;
  const h = o.height ?? 280;
  const cap = (v: number): number => (o.yCap !== undefined && v > o.yCap ? o.yCap : v);
  const [t0, t1] = extent(o.series.map((s) => ({ ...s, values: s.timeSec })), (v) => v);
  let [y0, y1] = extent(o.series, cap);
  for (const r of o.refLines ?? []) [y0, y1] = [Math.min(y0, r.y), Math.max(y1, r.y)];
  if (o.logY) y0 = Math.max(y0, y1 * 1e-6);
  const fy = o.logY
    ? (v: number): number => M.t + (h - M.t - M.b) * (1 - (Math.log(v) - Math.log(y0)) / (Math.log(y1) - Math.log(y0)))
    : (v: number): number => M.t + (h - M.t - M.b) * (1 - (v - y0) / (y1 - y0));
  const fx = (t: number): number => M.l + ((w - M.l - M.r) * (t - t0)) / (t1 - t0 || 1);
  const parts: string[] = [
    `<svg class="chart" id="${escapeHtml(o.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeHtml(o.title)}">`,
    `<text x="${M.l}" y="20" class="title">${escapeHtml(o.title)}</text>`,
    `<text x="14" y="${M.t + (h - M.t - M.b) / 2}" class="axis" transform="rotate(-90 14 ${M.t + (h - M.t - M.b) / 2})" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`,
  ];
  for (const y of o.logY ? logTicks(y0, y1) : niceTicks(y0, y1)) {
    parts.push(`<line x1="${M.l}" x2="${w - M.r}" y1="${fy(y).toFixed(1)}" y2="${fy(y).toFixed(1)}" class="grid"/>`,
      `<text x="${M.l - 6}" y="${(fy(y) + 4).toFixed(1)}" class="axis" text-anchor="end">${fmtNum(y)}</text>`);
  }
  for (let k = 0; k <= 5; k++) {
    const t = t0 + ((t1 - t0) * k) / 5;
    const anchor = k === 0 ? 'start' : k === 5 ? 'end' : 'middle';
    parts.push(`<text x="${fx(t).toFixed(1)}" y="${h - 10}" class="axis" text-anchor="${anchor}">${dateLabel(t, t1 - t0)}</text>`);
  }
  for (const r of o.refLines ?? []) {
    parts.push(`<line x1="${M.l}" x2="${w - M.r}" y1="${fy(r.y).toFixed(1)}" y2="${fy(r.y).toFixed(1)}" class="ref"/>`,
      `<text x="${w - M.r - 4}" y="${(fy(r.y) - 4).toFixed(1)}" class="axis" text-anchor="end">${escapeHtml(r.label)}</text>`);
  }
  o.series.forEach((s, idx) => {
    let d = '';
    let pen = false;
    for (let i = 0; i < s.values.length; i++) {
      const v = cap(s.values[i]!);
      if (!Number.isFinite(v) || (o.logY && v <= 0)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${fx(s.timeSec[i]!).toFixed(1)} ${fy(v).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path class="series" d="${d}" stroke="${s.color}" fill="none" stroke-width="1.2"><title>${escapeHtml(s.name)}</title></path>`);
    if (o.series.length > 1) {
      const lx = M.l + 10 + idx * 120;
      parts.push(`<rect x="${lx}" y="${M.t - 8}" width="12" height="4" fill="${s.color}"/><text x="${lx + 16}" y="${M.t - 3}" class="legend">${escapeHtml(s.name)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface ScatterPoint {
  name: string;
  color: string;
  x: number;
  y: number;
}

export function scatterChart(o: { id: string; title: string; xLabel: string; yLabel: string; points: ScatterPoint[]; width?: number; height?: number }): string {
  const w = o.width ?? 620;
  const h = o.height ?? 340;
  const finite = o.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = coveringTicks(Math.max(1, ...finite.map((p) => p.x)) * 1.1);
  const ys = coveringTicks(Math.max(1, ...finite.map((p) => p.y)) * 1.1);
  const [x1, y1] = [xs[xs.length - 1]!, ys[ys.length - 1]!];
  const fx = (x: number): number => M.l + ((w - M.l - M.r) * x) / x1;
  const fy = (y: number): number => M.t + (h - M.t - M.b) * (1 - y / y1);
  const parts = [
    `<svg class="chart" id="${escapeHtml(o.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeHtml(o.title)}">`,
    `<text x="${M.l}" y="20" class="title">${escapeHtml(o.title)}</text>`,
    `<text x="${(M.l + w - M.r) / 2}" y="${h - 2}" class="axis" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`,
    `<text x="14" y="${M.t + (h - M.t - M.b) / 2}" class="axis" transform="rotate(-90 14 ${M.t + (h - M.t - M.b) / 2})" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`,
  ];
  for (const y of ys) parts.push(`<line x1="${M.l}" x2="${w - M.r}" y1="${fy(y).toFixed(1)}" y2="${fy(y).toFixed(1)}" class="grid"/><text x="${M.l - 6}" y="${(fy(y) + 4).toFixed(1)}" class="axis" text-anchor="end">${fmtNum(y)}</text>`);
  for (const x of xs) parts.push(`<text x="${fx(x).toFixed(1)}" y="${h - 18}" class="axis" text-anchor="middle">${fmtNum(x)}</text>`);
  for (const p of finite) {
    const label = `${p.name}: cost ${fmtNum(p.x)}, residual std ${fmtNum(p.y)}`;
    parts.push(`<circle class="point" cx="${fx(p.x).toFixed(1)}" cy="${fy(p.y).toFixed(1)}" r="6" fill="${p.color}"><title>${escapeHtml(label)}</title></circle>`,
      `<text x="${(fx(p.x) + 9).toFixed(1)}" y="${(fy(p.y) + 4).toFixed(1)}" class="legend">${escapeHtml(p.name)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}
