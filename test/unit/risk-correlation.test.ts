import { describe, expect, it } from 'vitest';
import { alignReturns, correlationMatrix, covarianceMatrix } from '../../src/core/risk/index.js';

describe('correlation of aligned return series', () => {
  const a = [0.01, -0.02, 0.015, 0.03, -0.01, 0.004];
  it.each([
    ['perfectly correlated (b = 2a + 0.001)', a.map((x) => 2 * x + 0.001), 1],
    ['anti-correlated (b = -3a)', a.map((x) => -3 * x), -1],
  ])('%s', (_name, b, rho) => {
    const m = correlationMatrix([a, b]);
    expect(m[0]![0]).toBe(1);
    expect(m[1]![1]).toBe(1);
    expect(m[0]![1]).toBeCloseTo(rho, 12);
    expect(m[1]![0]).toBe(m[0]![1]);
  });

  it('uncorrelated by construction: +/- pattern orthogonal to the other', () => {
    // x = [1, -1, 1, -1], y = [1, 1, -1, -1]: both mean 0, sum(x y) = 0
    expect(correlationMatrix([[1, -1, 1, -1], [1, 1, -1, -1]])[0]![1]).toBeCloseTo(0, 15);
  });

  it('covariance uses the n - 1 divisor', () => {
    // x = [1, 2, 3, 4]: mean 2.5, sum of squares 5 -> 5 / 3
    expect(covarianceMatrix([[1, 2, 3, 4]])[0]![0]).toBeCloseTo(5 / 3, 15);
  });

  it('aligns series on common timestamps before comparing them', () => {
    const s1 = [
      { timeSec: 100, r: 0.01 },
      { timeSec: 200, r: 0.02 },
      { timeSec: 300, r: -0.01 },
      { timeSec: 400, r: 0.03 },
    ];
    const s2 = [
      { timeSec: 400, r: -0.06 },
      { timeSec: 200, r: -0.04 },
      { timeSec: 250, r: 0.5 },
      { timeSec: 300, r: 0.02 },
    ];
    const aligned = alignReturns([s1, s2]);
    expect(aligned.timesSec).toEqual([200, 300, 400]);
    expect(aligned.columns).toEqual([
      [0.02, -0.01, 0.03],
      [-0.04, 0.02, -0.06],
    ]);
    expect(correlationMatrix(aligned.columns)[0]![1]).toBeCloseTo(-1, 12);
  });

  it('needs two observations', () => {
    expect(() => covarianceMatrix([[1]])).toThrow(/at least 2/);
  });
});
