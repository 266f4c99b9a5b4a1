import { normPdf, normQuantile } from './normal.js';
import { createRng } from './random.js';
import { DEFAULT_VAR_MODEL, type VarForecast } from './var-models.js';

/**
 * Portfolio risk of several assets, pure: fixed-interval bars from irregular price readings, an
 * online EWMA covariance of the bars' log returns, and the 1-day VaR/ES of a delta-gamma
 * position (P&L = δ'r + ½ r'Γr, δ in USD per unit log return, Γ in USD per unit log return
 * squared) under three models, the best one the history allows:
 *   - fhs-ewma (the validated default, DEFAULT_VAR_MODEL): filtered historical simulation of the
 *     portfolio's DAILY P&L series rebuilt from the stored returns and today's δ and Γ, the
 *     series `keeper risk validate` validates at 1 day;
 *   - ewma-normal: the EWMA covariance scaled to a day (i.i.d. bars), normal returns;
 *   - prior-normal: the same on a documented prior covariance, before enough bars.
 */

export const DAY_SEC = 86_400;

export const PORTFOLIO_RISK_DEFAULTS = {
  /** Returns are sampled on hourly bars: one-second blocks would drown the hourly-scale statistics in microstructure. */
  barSec: 3_600,
  /** Prior annual vol of every asset (crypto majors' long-run vol is ~60-100%/yr). */
  priorVolAnnual: 0.8,
  /** Prior correlation of every pair (ETH/BTC's has ranged ~0.7-0.9 since 2020). */
  priorCorrelation: 0.7,
  /** Bars that seed the EWMA (as ewmaCovariance's seedCount); before them the prior answers. */
  seedBars: 30,
  /** A reading more than this many bars after the previous one is a gap (keeper down): no return spans it. */
  maxGapBars: 2,
} as const;

/** One bar's log returns, one per asset in the engine's asset order. */
export interface ReturnRow {
  /** Bar index: the bar covers [bar × barSec, (bar + 1) × barSec) and closes at its end. */
  bar: number;
  r: number[];
}

export interface BarSampler {
  /** A reading of asset `i`; returns the rows of the bars it closed (in bar order). Out-of-order readings are ignored. */
  observe(timeSec: number, i: number, price: number): ReturnRow[];
  readonly lastTimeSec: number | null;
}

/**
 * Bars from readings: a bar's close is each asset's last price read before the bar ended; it
 * closes when the first reading of a later bar arrives. Bars with no reading in between carry the
 * price forward (the oracle did not move), unless the silence exceeds `maxGapBars` (the keeper was
 * down): then the chain breaks and no return spans the gap. An asset whose own last reading is
 * older than that at a close gets no return for the bar, and a row needs every asset.
 */
export function createBarSampler(k: number, opts: { barSec?: number; maxGapBars?: number } = {}): BarSampler {
  const barSec = opts.barSec ?? PORTFOLIO_RISK_DEFAULTS.barSec;
  const maxGap = opts.maxGapBars ?? PORTFOLIO_RISK_DEFAULTS.maxGapBars;
  const price = new Array<number>(k).fill(NaN);
  const seenAt = new Array<number>(k).fill(-Infinity);
  const prevClose = new Array<number>(k).fill(NaN);
  let prevBar = -Infinity;
  let bar: number | null = null;
  let lastTimeSec: number | null = null;

  function close(b: number, rows: ReturnRow[]): void {
    const r = new Array<number>(k);
    let complete = b === prevBar + 1;
    for (let i = 0; i < k; i++) {
      const fresh = seenAt[i]! >= (b + 1 - maxGap) * barSec;
      const c = fresh ? price[i]! : NaN;
      r[i] = Math.log(c / prevClose[i]!);
      if (!Number.isFinite(r[i]!)) complete = false;
      prevClose[i] = c;
    }
    prevBar = b;
    if (complete) rows.push({ bar: b, r });
  }

  return {
    get lastTimeSec() {
      return lastTimeSec;
    },
    observe(timeSec, i, p) {
      if (!(p > 0) || (lastTimeSec !== null && timeSec < lastTimeSec)) return [];
      const b = Math.floor(timeSec / barSec);
      const rows: ReturnRow[] = [];
      if (bar !== null && b > bar) {
        if (b - bar > maxGap) {
          close(bar, rows);
          prevClose.fill(NaN); // a gap: the next close starts a new chain
        } else for (let c = bar; c < b; c++) close(c, rows);
      }
      bar = b;
      price[i] = p;
      seenAt[i] = timeSec;
      lastTimeSec = timeSec;
      return rows;
    },
  };
}

export interface OnlineCovariance {
  observe(r: readonly number[]): void;
  /** The EWMA covariance per bar; undefined until `seedCount` rows (then exactly ewmaCovariance's). */
  readonly covariance: number[][] | undefined;
  readonly observations: number;
}

/** The online form of ewmaCovariance: seeded with the mean of r r' over the first `seedCount` rows, then S <- λS + (1-λ) r r'. */
export function createOnlineCovariance(k: number, opts: { lambda: number; seedCount?: number }): OnlineCovariance {
  const { lambda } = opts;
  if (!(lambda > 0 && lambda < 1)) throw new RangeError(`createOnlineCovariance: lambda must be in (0, 1), got ${lambda}`);
  const seedCount = opts.seedCount ?? PORTFOLIO_RISK_DEFAULTS.seedBars;
  const s: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let n = 0;
  return {
    get covariance() {
      return n >= seedCount ? s.map((row) => [...row]) : undefined;
    },
    get observations() {
      return n;
    },
    observe(r) {
      n++;
      const seeding = n <= seedCount;
      for (let i = 0; i < k; i++) {
        for (let j = 0; j <= i; j++) {
          const v = seeding ? s[i]![j]! + (r[i]! * r[j]!) / seedCount : lambda * s[i]![j]! + (1 - lambda) * r[i]! * r[j]!;
          s[i]![j] = v;
          s[j]![i] = v;
        }
      }
    },
  };
}

/** Covariance from per-asset vols and one correlation for every pair. */
export function uniformCovariance(vols: readonly number[], correlation: number): number[][] {
  return vols.map((vi, i) => vols.map((vj, j) => (i === j ? vi * vi : correlation * vi * vj)));
}

export interface PortfolioVar {
  varUsd: number;
  esUsd: number;
}

const quadForm = (w: readonly number[], m: readonly (readonly number[])[]): number =>
  w.reduce((acc, wi, i) => acc + wi * m[i]!.reduce((a, mij, j) => a + mij * w[j]!, 0), 0);

/** Normal VaR/ES of a linear P&L w'r, r ~ N(0, cov): z_c sqrt(w'Σw) and sd φ(z_c)/(1-c). */
export function linearNormalVar(w: readonly number[], cov: readonly (readonly number[])[], confidence: number): PortfolioVar {
  const sd = Math.sqrt(Math.max(0, quadForm(w, cov)));
  const z = normQuantile(confidence);
  return { varUsd: z * sd, esUsd: (sd * normPdf(z)) / (1 - confidence) };
}

/** Lower-triangular L with L L' = a; a semi-definite matrix (correlation 1) gets a zero column instead of a throw. */
export function cholesky(a: readonly (readonly number[])[]): number[][] {
  const n = a.length;
  const l: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i]![j]!;
      for (let m = 0; m < j; m++) sum -= l[i]![m]! * l[j]![m]!;
      if (i === j) l[i]![i] = Math.sqrt(Math.max(0, sum));
      else l[i]![j] = l[j]![j]! > 0 ? sum / l[j]![j]! : 0;
    }
  }
  return l;
}

/** Standard normal draws for the delta-gamma simulation: fixed seed, antithetic pairs, so a figure is reproducible. */
export function normalScenarios(k: number, pairs = 2_000, seed = 12): Float64Array {
  const rng = createRng(seed);
  const z = new Float64Array(2 * pairs * k);
  for (let p = 0; p < pairs; p++) {
    for (let i = 0; i < k; i++) {
      const x = rng.normal();
      z[2 * p * k + i] = x;
      z[(2 * p + 1) * k + i] = -x;
    }
  }
  return z;
}

/** VaR/ES (positive = loss) of P&L samples: the empirical (1-c) quantile of the sorted losses and the mean beyond it. */
function tailOf(pnl: Float64Array, confidence: number): PortfolioVar {
  const sorted = pnl.slice().sort();
  const n = sorted.length;
  const tail = Math.max(1, Math.floor(n * (1 - confidence)));
  let sum = 0;
  for (let i = 0; i < tail; i++) sum += sorted[i]!;
  return { varUsd: -sorted[tail - 1]!, esUsd: -sum / tail };
}

/**
 * Normal delta-gamma VaR/ES: P&L = δ'r + ½ r'Γr with r ~ N(0, cov). With Γ = 0 the closed form;
 * otherwise simulated on fixed antithetic scenarios, with the linear part as control variate
 * (the simulated linear VaR is replaced by its exact value), so the noise is only the gamma term's.
 */
export function deltaGammaNormalVar(
  delta: readonly number[], gamma: readonly (readonly number[])[] | null, cov: readonly (readonly number[])[], confidence: number, scenarios: Float64Array,
): PortfolioVar {
  const exact = linearNormalVar(delta, cov, confidence);
  if (gamma === null || gamma.every((row) => row.every((g) => g === 0))) return exact;
  const k = delta.length;
  const l = cholesky(cov);
  const n = scenarios.length / k;
  const lin = new Float64Array(n);
  const full = new Float64Array(n);
  const r = new Array<number>(k);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < k; i++) {
      let x = 0;
      for (let j = 0; j <= i; j++) x += l[i]![j]! * scenarios[s * k + j]!;
      r[i] = x;
    }
    let d = 0;
    for (let i = 0; i < k; i++) d += delta[i]! * r[i]!;
    lin[s] = d;
    full[s] = d + 0.5 * quadForm(r, gamma);
  }
  const simLin = tailOf(lin, confidence);
  const simFull = tailOf(full, confidence);
  return { varUsd: simFull.varUsd + exact.varUsd - simLin.varUsd, esUsd: simFull.esUsd + exact.esUsd - simLin.esUsd };
}

/** Sums bars into UTC-day returns: a day counts only with all of its bars (its first bar closes after 00:00, its last at 24:00). */
export function dailyRows(rows: readonly ReturnRow[], barSec: number): ReturnRow[] {
  const perDay = DAY_SEC / barSec;
  const out: ReturnRow[] = [];
  let day = NaN;
  let count = 0;
  let sum: number[] = [];
  for (const row of rows) {
    const d = Math.floor(((row.bar + 1) * barSec - 1) / DAY_SEC);
    if (d !== day) {
      day = d;
      count = 0;
      sum = row.r.map(() => 0);
    }
    count++;
    row.r.forEach((x, i) => (sum[i]! += x));
    if (count === perDay) out.push({ bar: d, r: [...sum] });
  }
  return out;
}

/**
 * The default model on the portfolio: the daily P&L each stored day would have given today's
 * position (full delta-gamma revaluation), run through DEFAULT_VAR_MODEL in time order. Its
 * forecast is in USD (the model is scale-free); undefined while it warms up (30 days).
 */
export function fhsPortfolioVar(
  days: readonly ReturnRow[], delta: readonly number[], gamma: readonly (readonly number[])[] | null, confidence: number,
): VarForecast | undefined {
  const model = DEFAULT_VAR_MODEL.create(DAY_SEC);
  for (const d of days) {
    let pnl = 0;
    for (let i = 0; i < delta.length; i++) pnl += delta[i]! * d.r[i]!;
    if (gamma !== null) pnl += 0.5 * quadForm(d.r, gamma);
    model.observe(pnl);
  }
  return model.forecast(confidence, 'lower');
}
