/**
 * The last `capacity` values of a stream, kept sorted, for rolling quantiles: an insert or an
 * eviction is a binary search and one memmove (copyWithin) of a Float64Array, so a rolling
 * quantile over 10,000 values costs microseconds per step instead of a sort.
 * Quantiles are Hyndman & Fan type 7, like quantileSorted in var.ts.
 */
export class SortedWindow {
  private readonly sorted: Float64Array;
  /** Insertion order, as a ring buffer, to know which value to evict. */
  private readonly ring: Float64Array;
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`SortedWindow: capacity must be a positive integer, got ${capacity}`);
    this.sorted = new Float64Array(capacity);
    this.ring = new Float64Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  /** First index whose value is >= x. */
  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  push(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`SortedWindow.push: not a finite number: ${x}`);
    if (this.size === this.capacity) {
      const old = this.ring[this.head]!;
      const i = this.lowerBound(old);
      this.sorted.copyWithin(i, i + 1, this.size);
      this.size--;
    }
    const i = this.lowerBound(x);
    this.sorted.copyWithin(i + 1, i, this.size);
    this.sorted[i] = x;
    this.size++;
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
  }

  /** Type-7 quantile at probability q in [0, 1]. */
  quantile(q: number): number {
    if (this.size === 0) throw new RangeError('SortedWindow.quantile: empty window');
    if (!(q >= 0 && q <= 1)) throw new RangeError(`SortedWindow.quantile: q must be in [0, 1], got ${q}`);
    const pos = (this.size - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, this.size - 1);
    return this.sorted[lo]! + (pos - lo) * (this.sorted[hi]! - this.sorted[lo]!);
  }

  /** Mean of the values <= x (the lower tail), or x itself when none is. */
  meanAtOrBelow(x: number): number {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < this.size && this.sorted[i]! <= x; i++, n++) sum += this.sorted[i]!;
    return n === 0 ? x : sum / n;
  }

  /** Mean of the values >= x (the upper tail), or x itself when none is. */
  meanAtOrAbove(x: number): number {
    let sum = 0;
    let n = 0;
    for (let i = this.size - 1; i >= 0 && this.sorted[i]! >= x; i--, n++) sum += this.sorted[i]!;
    return n === 0 ? x : sum / n;
  }
}
