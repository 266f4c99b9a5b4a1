import { chiSquare1Sf } from './normal.js';

/**
 * Kupiec's proportion-of-failures test (1995) of a VaR model: with x exceedances in n
 * observations at expected failure rate p (0.01 for a 99% VaR),
 *   LR = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x]   (0 ln 0 = 0)
 * is asymptotically chi-square(1) under a correct model.
 */

export interface KupiecInput {
  exceedances: number;
  observations: number;
  /** Expected exceedance rate, 1 - VaR confidence. */
  expectedRate: number;
}

export interface KupiecResult extends KupiecInput {
  observedRate: number;
  lr: number;
  /** P(chi2(1) >= lr). */
  pValue: number;
  /** The model is rejected at the 5% significance level (lr > 3.841). */
  rejectedAt5pct: boolean;
}

/** x ln(y), with the 0 ln 0 = 0 convention of the likelihood. */
const xlogy = (x: number, y: number): number => (x === 0 ? 0 : x * Math.log(y));

export function kupiecPof(input: KupiecInput): KupiecResult {
  const { exceedances: x, observations: n, expectedRate: p } = input;
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`kupiecPof: observations must be a positive integer, got ${n}`);
  if (!(Number.isInteger(x) && x >= 0 && x <= n)) throw new RangeError(`kupiecPof: exceedances must be an integer in [0, n], got ${x}`);
  if (!(p > 0 && p < 1)) throw new RangeError(`kupiecPof: expectedRate must be in (0, 1), got ${p}`);
  const phat = x / n;
  const logNull = xlogy(n - x, 1 - p) + xlogy(x, p);
  const logAlt = xlogy(n - x, 1 - phat) + xlogy(x, phat);
  const lr = Math.max(0, -2 * (logNull - logAlt));
  const pValue = chiSquare1Sf(lr);
  return { ...input, observedRate: phat, lr, pValue, rejectedAt5pct: pValue < 0.05 };
}
