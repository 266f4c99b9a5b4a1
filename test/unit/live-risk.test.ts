import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { createLiveRisk } from '../../src/runner/live-risk.js';
import { createRng } from '../../src/core/risk/random.js';
import { DEFAULT_VAR_MODEL, unitT4Tail } from '../../src/core/risk/index.js';
import type { PriceObservation } from '../../src/backtest/price-record.js';
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
    // No daily history yet: the default model's prior shape, a unit-variance t(4), on the prior
    // vol: 99% 1-day VaR of $10k of delta = 3.7469 / sqrt 2 * sigma_day * 10k.
    expect(f['var99DayUsd']).toBeCloseTo((3.746947 / Math.SQRT2) * volDaily * 10_000, 1);
    expect(f['es99DayUsd']).toBeCloseTo(unitT4Tail(0.99).esMultiple * volDaily * 10_000, 1);
    expect(f['liqDistanceSigmas']).toBeCloseTo(Math.log(1.1) / volDaily, 2);
    expect(f['volSource']).toBe('prior(0 rounds)');
    expect(f['varModel']).toBe('fhs-ewma: prior t4 on the ewma vol (0 daily returns)');
  });

  it('with a long record, VaR and ES are the default model on the UTC day closes, for a long and for a short', async () => {
    // 400 days of hourly rounds with fat-tailed daily moves; the record is replayed by load().
    const rng = createRng(11);
    const observations: PriceObservation[] = [];
    const dailyCloses: number[] = [];
    const start = 1_600_000_000 - (1_600_000_000 % 86_400);
    let price = 2000;
    for (let day = 0; day < 400; day++) {
      for (let h = 0; h < 24; h++) {
        const shock = rng.normal() * (rng.uniform() < 0.02 ? 4 : 1);
        price *= Math.exp(0.008 * shock);
        // Day 200 is missing: its return and the next one are not daily returns.
        if (day !== 200) observations.push({ blockNumber: BigInt(observations.length + 1), timeSec: BigInt(start + day * 86_400 + h * 3600 + 60), priceE8: BigInt(Math.round(price * 1e8)) });
      }
      if (day !== 200) dailyCloses.push(Number(observations.at(-1)!.priceE8) / 1e8);
      else dailyCloses.push(NaN);
    }
    const record = { path: 'memory', append: async () => undefined, read: async () => ({ observations, skippedLines: [], duplicates: 0 }) };
    const risk = createLiveRisk({ record });
    await risk.load();
    // The same model fed the same returns: every completed day but the last (still open), none across the gap.
    const ref = DEFAULT_VAR_MODEL.create(86_400);
    let returns = 0;
    for (let d = 1; d < 399; d++) {
      const [a, b] = [dailyCloses[d - 1]!, dailyCloses[d]!];
      if (Number.isNaN(a) || Number.isNaN(b)) continue;
      ref.observe(Math.log(b / a));
      returns++;
    }
    expect(returns).toBe(396);
    const last = observations.at(-1)!;
    const now = snap(Number(last.timeSec), Number(last.priceE8) / 1e8, Number(last.blockNumber));
    const long = risk.figures(now, assessment(10_000, null));
    const refLong = ref.forecast(0.99, 'lower')!;
    expect(long['var99DayUsd']).toBeCloseTo(10_000 * refLong.varReturn, 2);
    expect(long['es99DayUsd']).toBeCloseTo(10_000 * refLong.esReturn, 2);
    expect(long['varModel']).toBe(`fhs-ewma: ${refLong.source}`);
    expect(refLong.source).toBe('fhs(366 residuals)');
    const short = risk.figures(now, assessment(-10_000, null));
    expect(short['var99DayUsd']).toBeCloseTo(10_000 * ref.forecast(0.99, 'upper')!.varReturn, 2);
    expect(Number(long['es99DayUsd'])).toBeGreaterThan(Number(long['var99DayUsd']));
  });
});
