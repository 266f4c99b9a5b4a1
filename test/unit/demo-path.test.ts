import { describe, expect, it } from 'vitest';
import { scriptThenGbm, takePrices, type GbmOptions } from '../../src/devnet/price-path.js';
import { DEMO_MARKET } from '../../src/runner/embedded.js';

const E8 = 10n ** 8n;
const gbm: GbmOptions = { seed: 7, startPriceE8: 2_000n * E8, volAnnual: 12, driftAnnual: 0, stepSec: 2 };

describe('scriptThenGbm (the embedded demo market)', () => {
  it('plays the script exactly, whatever the seed, then a random walk from where it ends', () => {
    const legs = [{ toPct: 5, steps: 1 }, { toPct: 5, steps: 2 }, { toPct: -6, steps: 1 }];
    for (const seed of [1, 2, 99]) {
      const prices = takePrices(scriptThenGbm(legs, { ...gbm, seed }), 6);
      expect(prices.slice(0, 4)).toEqual([2_100n * E8, 2_100n * E8, 2_100n * E8, 1_880n * E8]);
      // The walk starts at the script's last level: one 2-second step moves well under 5%.
      expect(prices[4]! > 1_790n * E8 && prices[4]! < 1_970n * E8).toBe(true);
    }
  });

  it('a seed replays the same path; another seed gives another walk after the script', () => {
    const a = takePrices(scriptThenGbm(DEMO_MARKET.script, gbm), 200);
    expect(takePrices(scriptThenGbm(DEMO_MARKET.script, gbm), 200)).toEqual(a);
    const b = takePrices(scriptThenGbm(DEMO_MARKET.script, { ...gbm, seed: 8 }), 200);
    const scripted = DEMO_MARKET.script.reduce((n, l) => n + l.steps, 0);
    expect(b.slice(0, scripted)).toEqual(a.slice(0, scripted));
    expect(b.slice(scripted)).not.toEqual(a.slice(scripted));
  });

  it('the demo script moves ETH +5% then -6% from the start: adverse for the perp short, then for the Aave borrower', () => {
    const prices = takePrices(scriptThenGbm(DEMO_MARKET.script, gbm), 10);
    expect(prices[0]).toBe(2_100n * E8);
    expect(prices.slice(5, 10)).toEqual(Array(5).fill(1_880n * E8));
  });

  it('refuses a leg to -100% or below', () => {
    expect(() => scriptThenGbm([{ toPct: -100, steps: 1 }], gbm)).toThrow(/toPct -100 must be > -100/);
  });
});
