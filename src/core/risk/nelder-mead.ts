/**
 * Nelder-Mead simplex minimiser (standard coefficients: reflection 1, expansion 2,
 * contraction 1/2, shrink 1/2). Derivative-free, so it copes with the flat, curved GARCH
 * likelihood surface; callers map constrained parameters to an unconstrained space first and
 * restart from the optimum once, which guards against a collapsed simplex.
 */

export interface NelderMeadOptions {
  /** Initial simplex offset per coordinate. Default 0.5. */
  step?: number;
  maxIterations?: number;
  /** Stop when the simplex's f values span less than this (absolute). Default 1e-9. */
  tolF?: number;
  /** ... and its vertices are within this distance of the best one. Default 1e-7. */
  tolX?: number;
}

export interface NelderMeadResult {
  x: number[];
  fx: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

export function nelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  opts: NelderMeadOptions = {},
): NelderMeadResult {
  const n = x0.length;
  const step = opts.step ?? 0.5;
  const maxIterations = opts.maxIterations ?? 200 * n;
  const tolF = opts.tolF ?? 1e-9;
  const tolX = opts.tolX ?? 1e-7;
  let evaluations = 0;
  // NaN (an overflowing likelihood) is treated as +Infinity so the simplex moves away from it.
  const fx = (x: number[]): number => {
    evaluations++;
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };

  let simplex: { x: number[]; f: number }[] = [{ x: [...x0], f: fx([...x0]) }];
  for (let i = 0; i < n; i++) {
    const x = [...x0];
    x[i] = x[i]! + step;
    simplex.push({ x, f: fx(x) });
  }

  const combine = (a: number[], b: number[], t: number): number[] => a.map((ai, i) => ai + t * (b[i]! - ai));
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((a, b) => a.f - b.f);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    const spanX = Math.max(...simplex.map((v) => Math.max(...v.x.map((xi, i) => Math.abs(xi - best.x[i]!)))));
    if (Math.abs(worst.f - best.f) <= tolF && spanX <= tolX) {
      converged = true;
      break;
    }
    const centroid = new Array<number>(n).fill(0);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) centroid[i]! += simplex[k]!.x[i]! / n;

    const xr = combine(centroid, worst.x, -1);
    const fr = fx(xr);
    if (fr < best.f) {
      const xe = combine(centroid, worst.x, -2);
      const fe = fx(xe);
      simplex[n] = fe < fr ? { x: xe, f: fe } : { x: xr, f: fr };
      continue;
    }
    if (fr < simplex[n - 1]!.f) {
      simplex[n] = { x: xr, f: fr };
      continue;
    }
    // Contract towards the better of the worst point and its reflection.
    const outside = fr < worst.f;
    const xc = combine(centroid, outside ? xr : worst.x, 0.5);
    const fc = fx(xc);
    if (fc < (outside ? fr : worst.f)) {
      simplex[n] = { x: xc, f: fc };
      continue;
    }
    simplex = simplex.map((v, k) => {
      if (k === 0) return v;
      const xs = combine(best.x, v.x, 0.5);
      return { x: xs, f: fx(xs) };
    });
  }
  simplex.sort((a, b) => a.f - b.f);
  return { x: simplex[0]!.x, fx: simplex[0]!.f, iterations, evaluations, converged };
}
