/**
 * Integer bisection over a monotone predicate, for the venue models' "largest trade that keeps
 * the ratio" and "smallest top-up that reaches it" questions. bigint, exact, no floats.
 */

/** Smallest x in (lo, hi] with pred(x), given !pred(lo) and pred(hi) (pred monotone). */
export function smallestPassing(lo: bigint, hi: bigint, pred: (x: bigint) => boolean): bigint {
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (pred(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Largest x in [lo, hi) with pred(x), given pred(lo) and !pred(hi) (pred monotone). */
export function largestPassing(lo: bigint, hi: bigint, pred: (x: bigint) => boolean): bigint {
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (pred(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
