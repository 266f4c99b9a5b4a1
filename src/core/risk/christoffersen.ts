import { chiSquare1Sf } from './normal.js';

/**
 * Christoffersen's (1998) independence test of VaR exceptions: under a good model an exception
 * today says nothing about tomorrow, so the first-order Markov chain of hits has
 * P(hit | hit yesterday) = P(hit | none yesterday). With n_ij transitions from state i to j,
 *   LR_ind = -2 ln[ (1-pi)^(n00+n10) pi^(n01+n11) ]
 *            + 2 ln[ (1-pi01)^n00 pi01^n01 (1-pi11)^n10 pi11^n11 ]  ~ chi-square(1),
 * pi01 = n01/(n00+n01), pi11 = n11/(n10+n11), pi = (n01+n11)/(n00+n01+n10+n11), 0 ln 0 = 0.
 */

export interface ChristoffersenResult {
  n00: number;
  n01: number;
  n10: number;
  n11: number;
  /** P(hit | no hit before) and P(hit | hit before). */
  pi01: number;
  pi11: number;
  lr: number;
  pValue: number;
}

const xlogy = (x: number, y: number): number => (x === 0 ? 0 : x * Math.log(y));

export function christoffersenIndependence(hits: readonly boolean[]): ChristoffersenResult {
  let n00 = 0;
  let n01 = 0;
  let n10 = 0;
  let n11 = 0;
  for (let i = 1; i < hits.length; i++) {
    if (hits[i - 1]) {
      if (hits[i]) n11++;
      else n10++;
    } else if (hits[i]) n01++;
    else n00++;
  }
  const pi01 = n00 + n01 === 0 ? 0 : n01 / (n00 + n01);
  const pi11 = n10 + n11 === 0 ? 0 : n11 / (n10 + n11);
  const total = n00 + n01 + n10 + n11;
  const pi = total === 0 ? 0 : (n01 + n11) / total;
  const logNull = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi);
  const logAlt = xlogy(n00, 1 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1 - pi11) + xlogy(n11, pi11);
  const lr = Math.max(0, -2 * (logNull - logAlt));
  return { n00, n01, n10, n11, pi01, pi11, lr, pValue: chiSquare1Sf(lr) };
}
