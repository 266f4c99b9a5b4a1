import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { createLiveRisk } from '../../src/runner/live-risk.js';
import { createRng } from '../../src/core/risk/random.js';
import type { Assessment, Snapshot } from '../../src/core/types.js';

function snap(timeSec: number, price: number, block: number): Snapshot {
  return {
    blockNumber: BigInt(block),
    oracle: { priceE8: BigInt(Math.round(price * 1e8)), updatedAtSec: BigInt(timeSec), quotePriceE8: 10n ** 8n },
  } as unknown as Snapshot;
}

function assessment(deltaUsd: number, liqPriceE8: bigint | null): Assessment {
  return { netDeltaUsd: new Decimal(deltaUsd), collateral: { liquidationPriceE8: liqPriceE8 } } as unknown as Assessment;
}

describe('live risk from the oracle rounds the keeper saw', () => {
  it('recovers the volatility of a simulated path with irregular rounds', () => {
    const risk = createLiveRisk({ priorVolAnnual: 0.3, halfLifeSec: 2 * 86_400 });
    const rng = createRng(7);
    const volAnnual = 1.2;
    let t = 1_700_000_000;
    let price = 2000;
    for (let i = 0; i < 20_000; i++) {
      const dt = 30 + Math.floor(rng.uniform() * 600); // rounds every 30 s to 10 min
      price *= Math.exp(volAnnual * Math.sqrt(dt / (365 * 86_400)) * rng.normal());
      t += dt;
      risk.observe(snap(t, price, i));
    }
    expect(risk.volAnnual()).toBeGreaterThan(volAnnual * 0.85);
    expect(risk.volAnnual()).toBeLessThan(volAnnual * 1.15);
  });

  it('repeated reads of the same round add nothing; figures follow the delta and the liquidation price', () => {
    const risk = createLiveRisk({ priorVolAnnual: 0.8 });
    risk.observe(snap(1000, 2000, 1));
    risk.observe(snap(1000, 2000, 2));
    risk.observe(snap(1000, 2000, 3));
    expect(risk.volAnnual()).toBeCloseTo(0.8, 10);
    const f = risk.figures(snap(1000, 2000, 4), assessment(10_000, 2_200n * 10n ** 8n));
    const volDaily = 0.8 / Math.sqrt(365);
    // 99% delta-normal 1-day VaR of $10k of delta: 2.3263 * sigma_day * 10k
    expect(f['var99DayUsd']).toBeCloseTo(2.3263478740408408 * volDaily * 10_000, 1);
    expect(f['liqDistanceSigmas']).toBeCloseTo(Math.log(1.1) / volDaily, 2);
    expect(f['volSource']).toBe('prior(0 rounds)');
  });
});
