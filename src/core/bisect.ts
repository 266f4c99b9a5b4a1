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

/** Largest x in [lo, hi) with pred(x), given pred(lo) and !pred(hi) (pred monotone): one below the smallest failing. */
export function largestPassing(lo: bigint, hi: bigint, pred: (x: bigint) => boolean): bigint {
  return smallestPassing(lo, hi, (x) => !pred(x)) - 1n;
}
