import { describe, expect, it } from 'vitest';
import { chiSquare1Cdf, chiSquare1Sf, erf, erfc, normCdf, normPdf, normQuantile } from '../../src/core/risk/index.js';

// Reference values: scipy.stats.norm / chi2 and scipy.special.erf (double precision).
describe('normQuantile', () => {
  it.each([
    [0.95, 1.6448536269514722],
    [0.99, 2.3263478740408408],
    [0.975, 1.959963984540054],
    [0.05, -1.6448536269514722],
    [0.01, -2.3263478740408408],
    [0.5, 0],
    [1e-10, -6.361340902404056],
  ])('p=%f -> %f', (p, z) => {
    expect(Math.abs(normQuantile(p) - z)).toBeLessThan(1e-9 * Math.max(1, Math.abs(z)));
  });

  it('is the inverse of normCdf across the range, including the tails and the Acklam breakpoints', () => {
    for (const p of [1e-300, 1e-15, 1e-6, 0.0001, 0.02425, 0.0243, 0.2, 0.5, 0.8, 0.97575, 0.9999]) {
      const z = normQuantile(p);
      expect(Math.abs(normCdf(z) / p - 1)).toBeLessThan(1e-9);
    }
    expect(normQuantile(0)).toBe(-Infinity);
    expect(normQuantile(1)).toBe(Infinity);
    expect(() => normQuantile(1.5)).toThrow(RangeError);
    expect(() => normQuantile(NaN)).toThrow(RangeError);
  });
});

describe('normCdf / normPdf / erf', () => {
  it.each([
    [0, 0.5],
    [-1, 0.15865525393145707],
    [1.96, 0.9750021048517795],
    [-5, 2.866515718791933e-7],
    [-10, 7.61985302416047e-24],
  ])('Phi(%f) = %f (relative 1e-12)', (x, p) => {
    expect(Math.abs(normCdf(x) / p - 1)).toBeLessThan(1e-12);
  });

  it('pdf and symmetry', () => {
    expect(normPdf(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 15);
    expect(normCdf(2.5) + normCdf(-2.5)).toBeCloseTo(1, 15);
  });

  it.each([
    [0.5, 0.5204998778130465],
    [-1.2, -0.9103139782296353],
    [2, 0.9953222650189527],
  ])('erf(%f) = %f', (x, v) => {
    expect(erf(x)).toBeCloseTo(v, 14);
    expect(erfc(x)).toBeCloseTo(1 - v, 14);
  });
});

describe('chi-square(1)', () => {
  it.each([
    [3.841458820694124, 0.05],
    [3.841, 0.05], // the textbook critical value, to 3 decimals
    [6.6348966010212145, 0.01],
    [1, 0.31731050786291115],
    [10, 0.001565402258002549],
  ])('LR=%f -> p-value %f', (lr, p) => {
    expect(chiSquare1Sf(lr)).toBeCloseTo(p, lr === 3.841 ? 4 : 12);
    expect(chiSquare1Cdf(lr) + chiSquare1Sf(lr)).toBeCloseTo(1, 14);
  });

  it('edges', () => {
    expect(chiSquare1Cdf(0)).toBe(0);
    expect(chiSquare1Sf(0)).toBe(1);
    expect(chiSquare1Cdf(0.5)).toBeCloseTo(0.5204998778130466, 14);
  });
});
