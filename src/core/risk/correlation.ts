/**
 * Covariance and correlation of several return series, aligned on their common timestamps.
 * Series of different frequencies must be brought to one grid first (closePrices +
 * sampleOnGrid in returns.ts), or the intersection will be empty.
 */

export interface TimedReturn {
  timeSec: number;
  r: number;
}

export interface AlignedReturns {
  timesSec: number[];
  /** columns[k][i]: return of series k at timesSec[i]. */
  columns: number[][];
}

/** Keep only the timestamps present in every series (inner join), in time order. */
export function alignReturns(series: readonly (readonly TimedReturn[])[]): AlignedReturns {
  if (series.length === 0) return { timesSec: [], columns: [] };
  const maps = series.map((s) => {
    const m = new Map<number, number>();
    for (const p of s) m.set(p.timeSec, p.r);
    return m;
  });
  const timesSec = [...maps[0]!.keys()].filter((t) => maps.every((m) => m.has(t))).sort((a, b) => a - b);
  return { timesSec, columns: maps.map((m) => timesSec.map((t) => m.get(t)!)) };
}

/** Sample covariance matrix (divisor n - 1) of equally long columns. */
export function covarianceMatrix(columns: readonly (readonly number[])[]): number[][] {
  const k = columns.length;
  const n = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== n)) throw new RangeError('covarianceMatrix: columns differ in length');
  if (n < 2) throw new RangeError(`covarianceMatrix: need at least 2 observations, got ${n}`);
  const means = columns.map((c) => c.reduce((a, b) => a + b, 0) / n);
  const cov: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let acc = 0;
      for (let t = 0; t < n; t++) acc += (columns[i]![t]! - means[i]!) * (columns[j]![t]! - means[j]!);
      cov[i]![j] = acc / (n - 1);
      cov[j]![i] = cov[i]![j]!;
    }
  }
  return cov;
}

/** Correlation matrix; a constant series has undefined correlation and yields NaN off-diagonal. */
export function correlationMatrix(columns: readonly (readonly number[])[]): number[][] {
  const cov = covarianceMatrix(columns);
  const sd = cov.map((row, i) => Math.sqrt(row[i]!));
  return cov.map((row, i) =>
    row.map((c, j) => {
      if (i === j) return 1;
      // Clamp the rounding noise of perfectly (anti-)correlated series into [-1, 1].
      return Math.max(-1, Math.min(1, c / (sd[i]! * sd[j]!)));
    }),
  );
}
