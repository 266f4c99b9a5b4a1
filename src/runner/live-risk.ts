import { e8ToDecimal } from '../core/format.js';
import { parametricVar } from '../core/risk/var.js';
import type { Assessment, Snapshot } from '../core/types.js';
import type { PriceObservation, PriceRecord } from '../backtest/price-record.js';

/**
 * Live risk from the prices the keeper itself saw on chain: one observation per oracle round
 * (a Chainlink feed updates on deviation or heartbeat, so rounds are irregular), an EWMA of the
 * variance per second with a half-life in wall-clock time, and from it the figures of the tick
 * line: annualised vol, 1-day VaR/ES of the net delta, and the liquidation distance in daily
 * sigmas. Until enough rounds are seen the estimate leans on a prior and says so.
 */

const SECONDS_PER_YEAR = 365 * 24 * 3600;
const DAY = 86_400;
/** RiskMetrics' daily lambda 0.94 expressed as a half-life: ~11.2 days. */
const RISKMETRICS_HALF_LIFE_SEC = (Math.log(0.5) / Math.log(0.94)) * DAY;

export interface LiveRiskOptions {
  /** Annual vol assumed before the first rounds (ETH's long-run vol is ~80-110%). */
  priorVolAnnual?: number;
  halfLifeSec?: number;
  /** Rounds needed before the estimate stops being labelled a prior. */
  minRounds?: number;
  /** Persist observations (the keeper's own price record) and reload them on start. */
  record?: PriceRecord;
}

export interface LiveRisk {
  /** Load the persisted record (call once before the first tick). */
  load(): Promise<void>;
  /** Add the snapshot's oracle round if it is new. */
  observe(snapshot: Snapshot): void;
  volAnnual(): number;
  /** Figures for the tick log line. */
  figures(snapshot: Snapshot, a: Assessment): Record<string, unknown>;
}

export function createLiveRisk(opts: LiveRiskOptions = {}): LiveRisk {
  const prior = opts.priorVolAnnual ?? 0.8;
  const halfLife = opts.halfLifeSec ?? RISKMETRICS_HALF_LIFE_SEC;
  const minRounds = opts.minRounds ?? 30;
  let variancePerSec = (prior * prior) / SECONDS_PER_YEAR;
  let last: { timeSec: number; price: number } | null = null;
  let rounds = 0;

  function add(timeSec: number, price: number): void {
    if (last && timeSec <= last.timeSec) return;
    if (last && price > 0 && last.price > 0) {
      const dt = timeSec - last.timeSec;
      const r = Math.log(price / last.price);
      // Weight of the new observation grows with the time it covers: lambda = 2^(-dt/halfLife).
      const lambda = Math.pow(0.5, dt / halfLife);
      variancePerSec = lambda * variancePerSec + (1 - lambda) * ((r * r) / dt);
      rounds++;
    }
    last = { timeSec, price };
  }

  return {
    async load() {
      if (!opts.record) return;
      const { observations } = await opts.record.read();
      for (const o of observations.slice(-5_000)) add(Number(o.timeSec), Number(o.priceE8) / 1e8);
    },
    observe(s) {
      const timeSec = Number(s.oracle.updatedAtSec);
      if (last && timeSec <= last.timeSec) return;
      add(timeSec, Number(s.oracle.priceE8) / 1e8);
      const obs: PriceObservation = { blockNumber: s.blockNumber, timeSec: s.oracle.updatedAtSec, priceE8: s.oracle.priceE8 };
      void opts.record?.append(obs).catch(() => undefined);
    },
    volAnnual: () => Math.sqrt(variancePerSec * SECONDS_PER_YEAR),
    figures(s, a) {
      this.observe(s);
      const volAnnual = Math.sqrt(variancePerSec * SECONDS_PER_YEAR);
      const volDaily = Math.sqrt(variancePerSec * DAY);
      const deltaUsd = Number(a.netDeltaUsd.toFixed(2));
      const var99 = parametricVar({ deltaUsd, volPerPeriod: volDaily, confidence: 0.99 });
      const liq = a.collateral.liquidationPriceE8;
      const sigmas = liq === null || volDaily === 0 ? null : Math.abs(Math.log(Number(e8ToDecimal(liq).div(e8ToDecimal(s.oracle.priceE8))))) / volDaily;
      return {
        volAnnualPct: Number((volAnnual * 100).toFixed(1)),
        volSource: rounds >= minRounds ? `ewma(${rounds} rounds)` : `prior(${rounds} rounds)`,
        var99DayUsd: Number(var99.varUsd.toFixed(2)),
        es99DayUsd: Number(var99.esUsd.toFixed(2)),
        liqDistanceSigmas: sigmas === null ? null : Number(sigmas.toFixed(2)),
      };
    },
  };
}
