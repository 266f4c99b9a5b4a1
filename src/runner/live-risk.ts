import { e8ToDecimal } from '../core/format.js';
import { unitT4Tail } from '../core/risk/fhs.js';
import { DEFAULT_VAR_MODEL } from '../core/risk/var-models.js';
import type { Assessment, Snapshot } from '../core/types.js';
import type { PriceObservation, PriceRecord } from '../backtest/price-record.js';

/**
 * Live risk from the prices the keeper itself saw on chain: one observation per oracle round
 * (a Chainlink feed updates on deviation or heartbeat, so rounds are irregular), an EWMA of the
 * variance per second with a half-life in wall-clock time, and from it the figures of the tick
 * line: annualised vol, 1-day VaR/ES of the net delta, and the liquidation distance in daily
 * sigmas. Until enough rounds are seen the estimate leans on a prior and says so.
 *
 * The 1-day 99% VaR and ES come from the default VaR model (DEFAULT_VAR_MODEL, filtered
 * historical simulation; `keeper risk validate` is its evidence) run on exactly the series it
 * was validated on: the UTC day's last observed price, one return per completed day (a day
 * is complete when a round of a later day arrives; a missing day breaks the chain rather than
 * counting as one return). Until that model has its first 30 daily returns, the daily sigma of
 * the per-second EWMA with the model's own prior shape (a unit-variance t(4)) stands in.
 */

const SECONDS_PER_YEAR = 365 * 24 * 3600;
const DAY = 86_400;
/** RiskMetrics' daily lambda 0.94 expressed as a half-life: ~11.2 days. */
const RISKMETRICS_HALF_LIFE_SEC = (Math.log(0.5) / Math.log(0.94)) * DAY;
const VAR_CONFIDENCE = 0.99;

export interface LiveRiskOptions {
  /** Annual vol assumed before the first rounds (ETH's long-run vol is ~80-110%). */
  priorVolAnnual?: number;
  halfLifeSec?: number;
  /** Half-life of the short-term volatility (BAND_MODE=adaptive tightens its band on it). Default 4 h. */
  fastHalfLifeSec?: number;
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
  /** Short-term volatility (fast EWMA), annualised; null until two rounds were seen. */
  volFastAnnual(): number | null;
  /** Figures for the tick log line. */
  figures(snapshot: Snapshot, a: Assessment): Record<string, unknown>;
}

export function createLiveRisk(opts: LiveRiskOptions = {}): LiveRisk {
  const prior = opts.priorVolAnnual ?? 0.8;
  const halfLife = opts.halfLifeSec ?? RISKMETRICS_HALF_LIFE_SEC;
  const minRounds = opts.minRounds ?? 30;
  let variancePerSec = (prior * prior) / SECONDS_PER_YEAR;
  const fastHalfLife = opts.fastHalfLifeSec ?? 4 * 3600;
  let fastVariancePerSec: number | null = null;
  let last: { timeSec: number; price: number } | null = null;
  let rounds = 0;
  const daily = DEFAULT_VAR_MODEL.create(DAY);
  let dailyReturns = 0;
  let prevClose: { day: number; price: number } | null = null;

  /** `price` was the last observation of UTC day `day`. */
  function closeDay(day: number, price: number): void {
    if (prevClose && day === prevClose.day + 1 && prevClose.price > 0 && price > 0) {
      daily.observe(Math.log(price / prevClose.price));
      dailyReturns++;
    }
    prevClose = { day, price };
  }

  function add(timeSec: number, price: number): void {
    if (last && timeSec <= last.timeSec) return;
    if (last && Math.floor(timeSec / DAY) > Math.floor(last.timeSec / DAY)) closeDay(Math.floor(last.timeSec / DAY), last.price);
    if (last && price > 0 && last.price > 0) {
      const dt = timeSec - last.timeSec;
      const r = Math.log(price / last.price);
      // Weight of the new observation grows with the time it covers: lambda = 2^(-dt/halfLife).
      const lambda = Math.pow(0.5, dt / halfLife);
      variancePerSec = lambda * variancePerSec + (1 - lambda) * ((r * r) / dt);
      const fastLambda = Math.pow(0.5, dt / fastHalfLife);
      fastVariancePerSec = fastVariancePerSec === null ? (r * r) / dt : fastLambda * fastVariancePerSec + (1 - fastLambda) * ((r * r) / dt);
      rounds++;
    }
    last = { timeSec, price };
  }

  return {
    async load() {
      if (!opts.record) return;
      const { observations } = await opts.record.read();
      // All of it: the daily model needs months of day closes; each round costs O(1).
      for (const o of observations) add(Number(o.timeSec), Number(o.priceE8) / 1e8);
    },
    observe(s) {
      const timeSec = Number(s.oracle.updatedAtSec);
      // A round the sanity check refuses (no price, a time after the block) is no observation:
      // a far-future time would freeze the estimate until real time caught up.
      if (s.oracle.priceE8 <= 0n || s.oracle.updatedAtSec > s.blockTimestampSec) return;
      if (last && timeSec <= last.timeSec) return;
      add(timeSec, Number(s.oracle.priceE8) / 1e8);
      const obs: PriceObservation = { blockNumber: s.blockNumber, timeSec: s.oracle.updatedAtSec, priceE8: s.oracle.priceE8 };
      void opts.record?.append(obs).catch(() => undefined);
    },
    volAnnual: () => Math.sqrt(variancePerSec * SECONDS_PER_YEAR),
    volFastAnnual: () => (fastVariancePerSec === null ? null : Math.sqrt(fastVariancePerSec * SECONDS_PER_YEAR)),
    figures(s, a) {
      this.observe(s);
      const volAnnual = Math.sqrt(variancePerSec * SECONDS_PER_YEAR);
      const volDaily = Math.sqrt(variancePerSec * DAY);
      const deltaUsd = Number(a.netDeltaUsd.toFixed(2));
      const side = deltaUsd >= 0 ? 'lower' : 'upper';
      const model = daily.forecast(VAR_CONFIDENCE, side);
      const t4 = unitT4Tail(VAR_CONFIDENCE);
      const varReturn = model?.varReturn ?? t4.varMultiple * volDaily;
      const esReturn = model?.esReturn ?? t4.esMultiple * volDaily;
      const liq = a.collateral.liquidationPriceE8;
      const sigmas = liq === null || volDaily === 0 ? null : Math.abs(Math.log(Number(e8ToDecimal(liq).div(e8ToDecimal(s.oracle.priceE8))))) / volDaily;
      return {
        volAnnualPct: Number((volAnnual * 100).toFixed(1)),
        volSource: rounds >= minRounds ? `ewma(${rounds} rounds)` : `prior(${rounds} rounds)`,
        var99DayUsd: Number((Math.abs(deltaUsd) * varReturn).toFixed(2)),
        es99DayUsd: Number((Math.abs(deltaUsd) * esReturn).toFixed(2)),
        varModel: `${DEFAULT_VAR_MODEL.name}: ${model?.source ?? `prior t4 on the ewma vol (${dailyReturns} daily returns)`}`,
        liqDistanceSigmas: sigmas === null ? null : Number(sigmas.toFixed(2)),
      };
    },
  };
}
