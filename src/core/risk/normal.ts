/**
 * Standard normal and chi-square(1) distribution functions, in float64.
 *
 * Statistics in `core/risk` use plain numbers rather than decimal.js: every input is an
 * estimate (a volatility, a return) with far fewer significant digits than a double carries,
 * and these figures never reach calldata. Amount-valued outputs are converted to bigint at the
 * edge (see bands.ts).
 *
 * Accuracy: normCdf is near machine precision (series for |x| < 3, continued fraction in the
 * tails, so the lower tail keeps its relative precision); normQuantile is Acklam's rational
 * approximation (relative error 1.15e-9) refined by one Halley step on normCdf, which brings
 * it to ~1e-15.
 */

const SQRT_2PI = Math.sqrt(2 * Math.PI);

export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/** Upper tail Q(x) = 1 - Phi(x) for x >= 3 by the Laplace continued fraction (backward). */
function upperTailCf(x: number): number {
  let frac = 0;
  for (let k = 120; k >= 1; k--) frac = k / (x + frac);
  return normPdf(x) / (x + frac);
}

/** Phi(x) for |x| < 3 by the Taylor series of Phi - 1/2 = phi(x) * sum x^(2n+1) / (2n+1)!!. */
function centralCdf(x: number): number {
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; n < 500 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
  }
  return 0.5 + normPdf(x) * sum;
}

/** Standard normal CDF Phi(x). */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= -3) return upperTailCf(-x);
  if (x >= 3) return 1 - upperTailCf(x);
  return centralCdf(x);
}

/** Survival function 1 - Phi(x), accurate in the upper tail. */
export function normSf(x: number): number {
  return normCdf(-x);
}

/** erf(x) = 2 Phi(x sqrt 2) - 1. */
export function erf(x: number): number {
  return x >= 0 ? 1 - erfc(x) : -(1 - erfc(-x));
}

/** erfc(x) = 1 - erf(x) = 2 Q(x sqrt 2), accurate for large x. */
export function erfc(x: number): number {
  return 2 * normCdf(-x * Math.SQRT2);
}

// P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution function".
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

function poly(coeffs: readonly number[], x: number): number {
  let acc = 0;
  for (const c of coeffs) acc = acc * x + c;
  return acc;
}

function acklam(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(C, q) / (poly(D, q) * q + 1);
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(C, q) / (poly(D, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(A, r) * q) / (poly(B, r) * r + 1);
}

/** Inverse of Phi: the z with Phi(z) = p. p = 0 -> -Infinity, p = 1 -> +Infinity. */
export function normQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const x = acklam(p);
  // One Halley step; use the tail that keeps relative precision.
  const e = p > 0.5 ? normSf(x) - (1 - p) : normCdf(x) - p;
  const u = (p > 0.5 ? -e : e) * SQRT_2PI * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

/** CDF of the chi-square distribution with one degree of freedom: erf(sqrt(x / 2)). */
export function chiSquare1Cdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  return erf(Math.sqrt(x / 2));
}

/** 1 - chiSquare1Cdf(x), computed directly so small p-values keep their precision. */
export function chiSquare1Sf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  return erfc(Math.sqrt(x / 2));
}
