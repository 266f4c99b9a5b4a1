import { describe, expect, it } from 'vitest';
import { concatPaths, createGbmPath, rampPath, scriptedPath, takePrices, type GbmOptions } from '../../src/devnet/price-path.js';

const E8 = 10n ** 8n;
const base: GbmOptions = { seed: 42, startPriceE8: 2_000n * E8, volAnnual: 0.8, driftAnnual: 0, stepSec: 3600 };
const STEPS_PER_YEAR = (365 * 24 * 3600) / 3600;

function logReturns(startE8: bigint, prices: bigint[]): number[] {
  const all = [startE8, ...prices].map((p) => Number(p));
  return all.slice(1).map((p, i) => Math.log(p / all[i]!));
}

function stats(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

describe('createGbmPath', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = takePrices(createGbmPath(base), 500);
    const b = takePrices(createGbmPath(base), 500);
    const c = takePrices(createGbmPath({ ...base, seed: 43 }), 500);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).toHaveLength(500);
  });

  it('does not emit the start price first: the first value is already one step away', () => {
    const [first] = takePrices(createGbmPath(base), 1);
    expect(first).not.toBe(base.startPriceE8);
    // one hourly step at 80% vol is ~0.85%: far less than 10%
    expect(first! > 1_800n * E8 && first! < 2_200n * E8).toBe(true);
  });

  it('annualized vol of log returns matches the requested vol over many steps', () => {
    for (const volAnnual of [0.3, 0.8, 1.5]) {
      const prices = takePrices(createGbmPath({ ...base, volAnnual, seed: 7 }), 20_000);
      const { sd } = stats(logReturns(base.startPriceE8, prices));
      // standard error of a sample sd over 20k normals is ~0.5%
      expect(sd * Math.sqrt(STEPS_PER_YEAR)).toBeCloseTo(volAnnual, 1);
      expect(Math.abs(sd * Math.sqrt(STEPS_PER_YEAR) / volAnnual - 1)).toBeLessThan(0.03);
    }
  });

  it('drift shows in the mean log return (mu - sigma^2/2 per year)', () => {
    const prices = takePrices(createGbmPath({ ...base, volAnnual: 0.1, driftAnnual: 0.5, seed: 3 }), 50_000);
    const { mean } = stats(logReturns(base.startPriceE8, prices));
    // expected 0.495/yr; se of the annualized mean over ~5.7 years at 10% vol is ~0.042
    expect(mean * STEPS_PER_YEAR).toBeGreaterThan(0.35);
    expect(mean * STEPS_PER_YEAR).toBeLessThan(0.65);
  });

  it('stays strictly positive even at absurd vol, and always yields bigints', () => {
    const prices = takePrices(createGbmPath({ ...base, startPriceE8: 5n, volAnnual: 20, stepSec: 86_400 * 30 }), 2_000);
    expect(prices.every((p) => typeof p === 'bigint' && p >= 1n)).toBe(true);
    expect(prices.some((p) => p === 1n)).toBe(true); // it did hit the floor
  });

  it('jumps add the requested rare large moves to a calm diffusion', () => {
    const jumps = { intensityPerYear: 50, meanPct: -10, stdPct: 5 };
    const plain = logReturns(base.startPriceE8, takePrices(createGbmPath({ ...base, volAnnual: 0.2 }), 20_000));
    const jumpy = logReturns(base.startPriceE8, takePrices(createGbmPath({ ...base, volAnnual: 0.2, jumps }), 20_000));
    const big = (xs: number[]) => xs.filter((x) => x < -0.05).length;
    expect(big(plain)).toBe(0); // 5% in an hour at 20% vol is a 23-sigma move
    // ~50 jumps/yr over 2.28 years of hourly steps: about 114 jumps of ~-10%
    expect(big(jumpy)).toBeGreaterThan(70);
    expect(big(jumpy)).toBeLessThan(170);
  });

  it('rejects nonsense options at the call, not at the first step', () => {
    expect(() => createGbmPath({ ...base, startPriceE8: 0n })).toThrow(RangeError);
    expect(() => createGbmPath({ ...base, stepSec: 0 })).toThrow(RangeError);
    expect(() => createGbmPath({ ...base, volAnnual: -0.1 })).toThrow(RangeError);
    expect(() => createGbmPath({ ...base, jumps: { intensityPerYear: 1, meanPct: -100, stdPct: 1 } })).toThrow(RangeError);
  });
});

describe('scriptedPath / rampPath / concatPaths', () => {
  it('scripted path yields exactly its prices, then ends', () => {
    const path = scriptedPath([1n, 5n, 3n]);
    expect(takePrices(path, 10)).toEqual([1n, 5n, 3n]);
    expect(path.next().done).toBe(true);
    expect(() => scriptedPath([1n, 0n])).toThrow(RangeError);
  });

  it.each([
    ['linear', 2_000n * E8, 2_600n * E8, 5],
    ['geometric', 2_000n * E8, 2_600n * E8, 5],
    ['linear', 2_600n * E8, 1_800n * E8, 7],
    ['geometric', 2_600n * E8, 1_800n * E8, 7],
    ['geometric', 123_456_789n, 987_654_321n, 1],
  ] as const)('%s ramp %s -> %s in %s steps ends exactly on the target', (shape, from, to, steps) => {
    const prices = takePrices(rampPath(from, to, steps, shape), 100);
    expect(prices).toHaveLength(steps);
    expect(prices.at(-1)).toBe(to);
    const all = [from, ...prices];
    const up = to > from;
    expect(all.slice(1).every((p, i) => (up ? p > all[i]! : p < all[i]!))).toBe(true);
  });

  it('linear ramp has equal price steps, geometric ramp equal percentage steps', () => {
    expect(takePrices(rampPath(100n, 200n, 4), 4)).toEqual([125n, 150n, 175n, 200n]);
    const geo = takePrices(rampPath(1_000n * E8, 1_331n * E8, 3, 'geometric'), 3);
    expect(geo).toEqual([1_100n * E8, 1_210n * E8, 1_331n * E8]);
  });

  it('rejects bad ramps', () => {
    expect(() => rampPath(0n, 1n, 3)).toThrow(RangeError);
    expect(() => rampPath(1n, 2n, 0)).toThrow(RangeError);
    expect(() => rampPath(1n, 2n, 1.5)).toThrow(RangeError);
  });

  it('concatenates paths in order', () => {
    const path = concatPaths(rampPath(100n, 130n, 3), scriptedPath([120n]), rampPath(120n, 100n, 2));
    expect(takePrices(path, 100)).toEqual([110n, 120n, 130n, 120n, 110n, 100n]);
  });
});
