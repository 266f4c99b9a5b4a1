import { nelderMead } from './nelder-mead.js';
import type { Rng } from './random.js';
import { annualiseVol } from './returns.js';

/**
 * GARCH(1,1) with Gaussian innovations, fitted by maximum likelihood:
 *   e[t] = r[t] - mu,  s2[t+1] = omega + alpha * e[t]^2 + beta * s2[t],  s2[0] = sample variance.
 *
 * Constraints (omega > 0, alpha >= 0, beta >= 0, alpha + beta < 1) are enforced by optimising
 * over unconstrained coordinates: omega = exp(a), persistence p = alpha + beta = logistic(b),
 * alpha share of p = logistic(c). Returns are standardised by their sample deviation before
 * fitting so omega is O(0.05) rather than O(1e-6), which keeps the simplex well scaled.
 */

export interface Garch11Params {
  omega: number;
  alpha: number;
  beta: number;
}

export interface Garch11Fit extends Garch11Params {
  /** Mean removed before fitting (0 when demean is false). */
  mu: number;
  persistence: number;
  logLikelihood: number;
  /** omega / (1 - alpha - beta), per period. */
  longRunVariance: number;
  /** sqrt(longRunVariance) annualised, when intervalSec was given. */
  longRunVolAnnual: number | undefined;
  /** Conditional variance of the next, unseen period. */
  nextVariance: number;
  n: number;
  evaluations: number;
  converged: boolean;
  /** Expected conditional variances of the next h periods (index 0 = next period). */
  forecast(h: number): number[];
  /** Variance of the sum of the next h returns (the h-period horizon variance). */
  horizonVariance(h: number): number;
}

export interface FitGarchOptions {
  /** Remove the sample mean first. Default true. */
  demean?: boolean;
  /** Fix omega = s2 * (1 - alpha - beta) so the long-run variance is the sample variance. */
  varianceTargeting?: boolean;
  intervalSec?: number;
}

const logistic = (x: number): number => 1 / (1 + Math.exp(-x));
const logit = (p: number): number => Math.log(p / (1 - p));

/** Gaussian log-likelihood of residuals `e` (variance recursion seeded with s2 of `e`). */
export function garch11LogLikelihood(e: readonly number[], params: Garch11Params, seedVariance?: number): number {
  const { omega, alpha, beta } = params;
  let v = seedVariance ?? meanSquare(e);
  let acc = 0;
  for (const x of e) {
    if (!(v > 0)) return -Infinity;
    acc += Math.log(v) + (x * x) / v;
    v = omega + alpha * x * x + beta * v;
  }
  return -0.5 * (e.length * Math.log(2 * Math.PI) + acc);
}

/** Conditional variances s2[0..n] (s2[n] is the next period's) for the given parameters. */
export function garch11Variances(e: readonly number[], params: Garch11Params, seedVariance?: number): number[] {
  const out = [seedVariance ?? meanSquare(e)];
  for (let t = 0; t < e.length; t++) out.push(params.omega + params.alpha * e[t]! ** 2 + params.beta * out[t]!);
  return out;
}

export function fitGarch11(returns: readonly number[], opts: FitGarchOptions = {}): Garch11Fit {
  const n = returns.length;
  if (n < 20) throw new RangeError(`fitGarch11: need at least 20 returns, got ${n}`);
  const mu = opts.demean === false ? 0 : returns.reduce((a, b) => a + b, 0) / n;
  const e = returns.map((r) => r - mu);
  const s2 = meanSquare(e);
  if (!(s2 > 0) || returns.every((r) => r === returns[0])) throw new RangeError('fitGarch11: returns have zero variance');
  const sd = Math.sqrt(s2);
  const z = e.map((x) => x / sd); // unit sample variance

  const toParams = (theta: readonly number[]): Garch11Params => {
    const p = logistic(theta[0]!);
    const share = logistic(theta[1]!);
    const omega = opts.varianceTargeting ? 1 - p : Math.exp(theta[2]!);
    return { omega, alpha: p * share, beta: p * (1 - share) };
  };
  const objective = (theta: readonly number[]): number => -garch11LogLikelihood(z, toParams(theta), 1);

  // Start from a small grid of typical persistences/alpha shares, keep the best two.
  const starts: number[][] = [];
  for (const p of [0.8, 0.95, 0.99]) {
    for (const share of [0.05, 0.15, 0.3]) {
      const theta = [logit(p), logit(share)];
      if (!opts.varianceTargeting) theta.push(Math.log(1 - p));
      starts.push(theta);
    }
  }
  const ranked = starts.map((x) => ({ x, f: objective(x) })).sort((a, b) => a.f - b.f).slice(0, 2);
  let best = { x: ranked[0]!.x, fx: ranked[0]!.f, evaluations: starts.length, converged: false };
  for (const start of ranked) {
    let res = nelderMead(objective, start.x, { maxIterations: 2000 });
    // Restart from the optimum: a cheap guard against a prematurely collapsed simplex.
    const again = nelderMead(objective, res.x, { maxIterations: 2000, step: 0.1 });
    res = { ...again, evaluations: res.evaluations + again.evaluations };
    best = {
      x: res.fx < best.fx ? res.x : best.x,
      fx: Math.min(res.fx, best.fx),
      evaluations: best.evaluations + res.evaluations,
      converged: res.fx <= best.fx ? res.converged : best.converged,
    };
  }

  const scaled = toParams(best.x);
  const params = { omega: scaled.omega * s2, alpha: scaled.alpha, beta: scaled.beta };
  // Undo the standardisation: log density of e = log density of z - log(sd), per observation.
  const logLikelihood = -best.fx - n * Math.log(sd);
  const nextVariance = garch11Variances(e, params, s2)[n]!;
  return buildFit(params, { mu, n, logLikelihood, nextVariance, intervalSec: opts.intervalSec, ...best });
}

function buildFit(
  params: Garch11Params,
  ctx: { mu: number; n: number; logLikelihood: number; nextVariance: number; intervalSec: number | undefined; evaluations: number; converged: boolean },
): Garch11Fit {
  const persistence = params.alpha + params.beta;
  const longRunVariance = params.omega / (1 - persistence);
  const forecast = (h: number): number[] => {
    const out: number[] = [];
    for (let k = 0; k < h; k++) out.push(longRunVariance + persistence ** k * (ctx.nextVariance - longRunVariance));
    return out;
  };
  return {
    ...params,
    mu: ctx.mu,
    persistence,
    logLikelihood: ctx.logLikelihood,
    longRunVariance,
    longRunVolAnnual: ctx.intervalSec === undefined ? undefined : annualiseVol(Math.sqrt(longRunVariance), ctx.intervalSec),
    nextVariance: ctx.nextVariance,
    n: ctx.n,
    evaluations: ctx.evaluations,
    converged: ctx.converged,
    forecast,
    horizonVariance: (h) => forecast(h).reduce((a, b) => a + b, 0),
  };
}

/** Simulate n GARCH(1,1) returns (zero mean) after `burnIn` discarded steps. */
export function simulateGarch11(params: Garch11Params, n: number, rng: Rng, burnIn = 500): number[] {
  const persistence = params.alpha + params.beta;
  if (!(persistence < 1)) throw new RangeError('simulateGarch11: alpha + beta must be < 1');
  let v = params.omega / (1 - persistence);
  const out: number[] = [];
  for (let t = 0; t < n + burnIn; t++) {
    const r = Math.sqrt(v) * rng.normal();
    if (t >= burnIn) out.push(r);
    v = params.omega + params.alpha * r * r + params.beta * v;
  }
  return out;
}

function meanSquare(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x * x;
  return s / xs.length;
}
