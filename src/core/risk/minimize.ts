import { nelderMead } from './nelder-mead.js';

/**
 * Minimise a smooth function of a few unconstrained coordinates to near machine precision:
 * Nelder-Mead from the best of the starts (robust far from the optimum, where a likelihood is
 * flat or overflows), restarted from its own optimum until a restart gains nothing (a collapsed
 * simplex stops early), then BFGS with central-difference gradients, which converges
 * quadratically near the optimum where the simplex crawls. The simplex alone stops ~1e-6
 * relative away from the optimum of a GARCH likelihood; matching a reference fit to 1e-4
 * relative in every parameter needs the polish.
 */

export interface MinimizeResult {
  x: number[];
  fx: number;
  evaluations: number;
  /** BFGS ended on a small gradient (not on the iteration cap or a failed line search). */
  converged: boolean;
  gradientNorm: number;
}

export interface MinimizeOptions {
  /** Nelder-Mead runs from the best `keep` starts. Default 2. */
  keep?: number;
  /** Stop BFGS when every gradient component is below this. Default 1e-6 (times 1 + |f|). */
  gradientTol?: number;
  maxBfgsIterations?: number;
}

export function minimize(f: (x: readonly number[]) => number, starts: readonly (readonly number[])[], opts: MinimizeOptions = {}): MinimizeResult {
  if (starts.length === 0) throw new RangeError('minimize: no starting point');
  let evaluations = 0;
  const fx = (x: readonly number[]): number => {
    evaluations++;
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  const ranked = starts.map((x) => ({ x: [...x], f: fx(x) })).sort((a, b) => a.f - b.f).slice(0, opts.keep ?? 2);
  let best = ranked[0]!;
  for (const start of ranked) {
    let cur = { x: start.x, f: start.f };
    for (let restart = 0; restart < 6; restart++) {
      const res = nelderMead(fx, cur.x, { maxIterations: 4000, step: restart === 0 ? 0.5 : 0.05, tolF: 1e-8, tolX: 1e-6 });
      const gain = cur.f - res.fx;
      if (res.fx < cur.f) cur = { x: res.x, f: res.fx };
      if (!(gain > 1e-6)) break;
    }
    if (cur.f < best.f) best = cur;
  }
  const polished = bfgs(fx, best.x, best.f, opts);
  return { ...polished, evaluations };
}

function gradient(f: (x: readonly number[]) => number, x: readonly number[]): number[] {
  return x.map((xi, i) => {
    // Step balancing truncation (h^2 f''') against rounding (eps f / h) for O(1) coordinates.
    const h = 1e-5 * (1 + Math.abs(xi));
    const up = [...x];
    const down = [...x];
    up[i] = xi + h;
    down[i] = xi - h;
    return (f(up) - f(down)) / (2 * h);
  });
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, ai, i) => s + ai * b[i]!, 0);

function bfgs(
  f: (x: readonly number[]) => number,
  x0: number[],
  f0: number,
  opts: MinimizeOptions,
): Omit<MinimizeResult, 'evaluations'> {
  const n = x0.length;
  const identity = (): number[][] => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  let x = x0;
  let fxv = f0;
  let g = gradient(f, x);
  let H = identity();
  const tol = (opts.gradientTol ?? 1e-6) * (1 + Math.abs(f0));
  const maxIt = opts.maxBfgsIterations ?? 200;
  const small = (): boolean => Math.max(...g.map(Math.abs)) <= tol;
  for (let it = 0; it < maxIt && !small(); it++) {
    let d = H.map((row) => -dot(row, g));
    let slope = dot(g, d);
    if (!(slope < 0)) {
      H = identity();
      d = g.map((gi) => -gi);
      slope = dot(g, d);
    }
    // Backtracking (Armijo) line search.
    let t = 1;
    let xn: number[] = x;
    let fn = Infinity;
    for (let k = 0; k < 50; k++, t *= 0.5) {
      xn = x.map((xi, i) => xi + t * d[i]!);
      fn = f(xn);
      if (fn <= fxv + 1e-4 * t * slope) break;
    }
    if (!(fn < fxv)) break; // no descent left at this gradient precision
    const gn = gradient(f, xn);
    const s = xn.map((xi, i) => xi - x[i]!);
    const y = gn.map((gi, i) => gi - g[i]!);
    const sy = dot(s, y);
    if (sy > 1e-14) {
      const Hy = H.map((row) => dot(row, y));
      const yHy = dot(y, Hy);
      // H+ = H + (sy + yHy) ss'/sy^2 - (Hy s' + s y'H)/sy
      H = H.map((row, i) => row.map((hij, j) => hij + ((sy + yHy) * s[i]! * s[j]!) / (sy * sy) - (Hy[i]! * s[j]! + s[i]! * Hy[j]!) / sy));
    }
    x = xn;
    fxv = fn;
    g = gn;
  }
  return { x, fx: fxv, converged: small(), gradientNorm: Math.max(...g.map(Math.abs)) };
}
