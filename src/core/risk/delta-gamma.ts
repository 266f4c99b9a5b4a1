import { normCdf, normPdf, normQuantile } from './normal.js';
import type { VarResult } from './var.js';

/**
 * Delta-gamma VaR/ES of a single-asset position, exact for its quadratic P&L:
 *   dS = S * r,  r = vol * sqrt(h) * z,  z ~ N(0, 1)
 *   P&L = delta * dS + gamma / 2 * dS^2 = A z + B z^2,  A = delta S vol sqrt(h),  B = gamma S^2 vol^2 h / 2
 * so the loss L(z) = -A z - B z^2 is a quadratic in one normal variable: its tail
 * {L >= V} is the set where B z^2 + A z + V <= 0, whose probability is a difference of
 * normal CDFs at the roots. VaR solves P(L >= V) = 1 - confidence by bisection; ES uses the
 * closed-form partial moments of z on that set. No Cornish-Fisher, no simulation.
 *
 * Units: delta in base units (ETH), gamma = d(delta)/dS in base units per USD of price move
 * (a Uniswap V3 LP in range is short gamma: -L / (2 P^1.5), see bands.ts), S in USD.
 */
export interface DeltaGammaVarInput {
  deltaBase: number;
  gammaBasePerUsd: number;
  priceUsd: number;
  volPerPeriod: number;
  confidence: number;
  horizonPeriods?: number;
}

type Interval = [number, number];

/** P(z in intervals) and the partial moments E[z 1], E[z^2 1] over the union. */
function moments(intervals: readonly Interval[]): { m0: number; m1: number; m2: number } {
  let m0 = 0;
  let m1 = 0;
  let m2 = 0;
  // u * phi(u) -> 0 at +-Infinity; guard the 0 * Infinity.
  const uPhi = (u: number): number => (Number.isFinite(u) ? u * normPdf(u) : 0);
  for (const [a, b] of intervals) {
    const p = normCdf(b) - normCdf(a);
    m0 += p;
    m1 += normPdf(a) - normPdf(b);
    m2 += p + uPhi(a) - uPhi(b);
  }
  return { m0, m1, m2 };
}

/** The z-intervals where the loss is at least V. */
function tailSet(A: number, B: number, V: number): Interval[] {
  if (B === 0) {
    if (A === 0) return V <= 0 ? [[-Infinity, Infinity]] : [];
    const root = -V / A;
    return A > 0 ? [[-Infinity, root]] : [[root, Infinity]];
  }
  const disc = A * A - 4 * B * V;
  if (disc <= 0) return B < 0 ? [[-Infinity, Infinity]] : [];
  // Numerically stable roots of B z^2 + A z + V.
  const q = -0.5 * (A + (A >= 0 ? 1 : -1) * Math.sqrt(disc));
  const roots = [q / B, V / q].sort((x, y) => x - y) as Interval;
  return B < 0 ? [[-Infinity, roots[0]], [roots[1], Infinity]] : [roots];
}

export function deltaGammaVar(input: DeltaGammaVarInput): VarResult {
  const h = input.horizonPeriods ?? 1;
  const c = input.confidence;
  if (!(c > 0.5 && c < 1)) throw new RangeError(`confidence must be in (0.5, 1), got ${c}`);
  if (!(h > 0 && input.volPerPeriod >= 0 && input.priceUsd > 0)) throw new RangeError('deltaGammaVar: bad horizon, vol or price');
  const s = input.volPerPeriod * Math.sqrt(h);
  const A = input.deltaBase * input.priceUsd * s;
  const B = 0.5 * input.gammaBasePerUsd * input.priceUsd ** 2 * s * s;
  const alpha = 1 - c;
  const tailProb = (V: number): number => moments(tailSet(A, B, V)).m0;

  let varUsd: number;
  if (B === 0) {
    varUsd = Math.abs(A) * normQuantile(c);
  } else {
    // Bracket: the loss's minimum (short gamma) or a point far below every plausible loss.
    const scale = Math.abs(A) + Math.abs(B);
    let lo = B < 0 ? (A * A) / (4 * B) : -scale * 100;
    let hi = scale * 10;
    while (tailProb(hi) > alpha) hi *= 2;
    for (let i = 0; i < 200 && hi - lo > 1e-12 * scale; i++) {
      const mid = 0.5 * (lo + hi);
      if (tailProb(mid) > alpha) lo = mid;
      else hi = mid;
    }
    varUsd = 0.5 * (lo + hi);
  }
  const m = moments(tailSet(A, B, varUsd));
  const esUsd = m.m0 > 0 ? (-A * m.m1 - B * m.m2) / m.m0 : varUsd;
  return { confidence: c, horizonPeriods: h, varUsd, esUsd };
}
