/**
 * The covariance of several assets' returns and the hedge it implies, for a portfolio of
 * several assets (to be wired by the portfolio work): a RiskMetrics EWMA covariance matrix and
 * the minimum-variance hedge of one exposure with a set of instruments.
 */

export interface EwmaCovarianceOptions {
  /** Decay per period, in (0, 1) (lambdaForInterval gives RiskMetrics' half-life). */
  lambda: number;
  /** Rows averaged for the seed. Default 30. */
  seedCount?: number;
}

export interface EwmaCovarianceResult {
  /** Forecast covariance of the next row of returns (zero mean, as RiskMetrics). */
  covariance: number[][];
  correlation: number[][];
  /** Per-asset volatility per period: sqrt of the diagonal. */
  vols: number[];
  observations: number;
}

/**
 * S <- lambda S + (1 - lambda) r r' over rows r of the aligned columns (see alignReturns),
 * seeded with the mean of r r' over the first `seedCount` rows, as createOnlineEwma seeds one
 * variance: each diagonal element is exactly that asset's EWMA variance.
 */
export function ewmaCovariance(columns: readonly (readonly number[])[], opts: EwmaCovarianceOptions): EwmaCovarianceResult {
  const { lambda } = opts;
  if (!(lambda > 0 && lambda < 1)) throw new RangeError(`ewmaCovariance: lambda must be in (0, 1), got ${lambda}`);
  const k = columns.length;
  if (k === 0) throw new RangeError('ewmaCovariance: no return series');
  const n = columns[0]!.length;
  columns.forEach((c, i) => {
    if (c.length !== n) throw new RangeError(`ewmaCovariance: column ${i} has ${c.length} returns, column 0 has ${n}`);
  });
  const seedCount = opts.seedCount ?? 30;
  if (n < seedCount) throw new RangeError(`ewmaCovariance: need at least seedCount = ${seedCount} rows, got ${n}`);
  const s: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let t = 0; t < seedCount; t++) {
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) s[i]![j]! += (columns[i]![t]! * columns[j]![t]!) / seedCount;
  }
  for (let t = seedCount; t < n; t++) {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) s[i]![j] = lambda * s[i]![j]! + (1 - lambda) * columns[i]![t]! * columns[j]![t]!;
    }
  }
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) s[i]![j] = s[j]![i]!;
  return { covariance: s, correlation: covarianceToCorrelation(s), vols: s.map((row, i) => Math.sqrt(row[i]!)), observations: n };
}

/** Correlation from covariance; a zero-variance asset has NaN correlations with the others. */
export function covarianceToCorrelation(cov: readonly (readonly number[])[]): number[][] {
  const sd = cov.map((row, i) => Math.sqrt(row[i]!));
  return cov.map((row, i) => row.map((c, j) => (i === j ? 1 : Math.max(-1, Math.min(1, c / (sd[i]! * sd[j]!))))));
}

/** Solve A x = b for a symmetric positive definite A by Cholesky; throws if A is not. */
export function solveSpd(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  if (a.length !== n || a.some((row) => row.length !== n)) throw new RangeError(`solveSpd: matrix must be ${n}x${n}`);
  const l: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const scale = Math.max(...a.map((row, i) => Math.abs(row[i]!)));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i]![j]!;
      for (let k = 0; k < j; k++) sum -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        // A pivot at rounding level means a column is a combination of the others.
        if (!(sum > 1e-12 * scale)) throw new RangeError(`solveSpd: matrix is singular or not positive definite at row ${i}`);
        l[i]![i] = Math.sqrt(sum);
      } else l[i]![j] = sum / l[j]![j]!;
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i]![k]! * y[k]!;
    y[i] = sum / l[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k]![i]! * x[k]!;
    x[i] = sum / l[i]![i]!;
  }
  return x;
}

export interface MinimumVarianceHedge {
  /**
   * h* = Sigma_HH^-1 Sigma_HS: units of each instrument's return that best replicate one unit
   * of the target's; the hedge is SHORT h* (per USD of target exposure, USD of each instrument).
   */
  ratios: number[];
  /** Var(S), per period. */
  targetVariance: number;
  /** Var(S - h* H) = Sigma_SS - Sigma_SH h*: what the hedge leaves. */
  residualVariance: number;
  /** 1 - residual / target: the share of the variance the hedge removes. */
  varianceReduction: number;
}

/**
 * Minimum-variance hedge of asset `target` with the instruments `hedges` (indices into the
 * covariance matrix): minimises Var(S - h'H), whose gradient 2 (Sigma_HH h - Sigma_HS) vanishes
 * at h* = Sigma_HH^-1 Sigma_HS. With one instrument this is rho sigma_S / sigma_H and leaves
 * sigma_S^2 (1 - rho^2).
 */
export function minimumVarianceHedge(cov: readonly (readonly number[])[], target: number, hedges: readonly number[]): MinimumVarianceHedge {
  const k = cov.length;
  const check = (i: number, what: string): void => {
    if (!(Number.isInteger(i) && i >= 0 && i < k)) throw new RangeError(`minimumVarianceHedge: ${what} index ${i} outside the ${k}x${k} covariance`);
  };
  check(target, 'target');
  hedges.forEach((h) => check(h, 'hedge'));
  if (hedges.length === 0) throw new RangeError('minimumVarianceHedge: no hedge instrument');
  if (hedges.includes(target)) throw new RangeError(`minimumVarianceHedge: target ${target} is also a hedge`);
  if (new Set(hedges).size !== hedges.length) throw new RangeError(`minimumVarianceHedge: a hedge index repeats in [${hedges.join(', ')}]`);
  const sigmaHH = hedges.map((i) => hedges.map((j) => cov[i]![j]!));
  const sigmaHS = hedges.map((i) => cov[i]![target]!);
  const ratios = solveSpd(sigmaHH, sigmaHS);
  const targetVariance = cov[target]![target]!;
  const explained = ratios.reduce((acc, h, i) => acc + h * sigmaHS[i]!, 0);
  const residualVariance = Math.max(0, targetVariance - explained);
  return { ratios, targetVariance, residualVariance, varianceReduction: targetVariance > 0 ? 1 - residualVariance / targetVariance : 0 };
}
