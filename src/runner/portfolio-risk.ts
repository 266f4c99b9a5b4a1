import { existsSync, renameSync } from 'node:fs';
import { createPriceRecord, type PriceObservation, type PriceRecord } from '../backtest/price-record.js';
import type { PortfolioAssessment } from '../core/portfolio/assess.js';
import { lpGammaMatrixUsd } from '../core/risk/portfolio-gamma.js';
import {
  createBarSampler, createOnlineCovariance, dailyRows, DAY_SEC, deltaGammaNormalVar, fhsPortfolioVar, normalScenarios,
  PORTFOLIO_RISK_DEFAULTS, uniformCovariance, type ReturnRow,
} from '../core/risk/portfolio-var.js';
import { covarianceToCorrelation } from '../core/risk/covariance.js';
import { ewmaHalfLifePeriods, RISKMETRICS_DAILY_LAMBDA } from '../core/risk/ewma.js';
import { SECONDS_PER_YEAR } from '../core/risk/returns.js';
import type { AssetId, AssetSpec, PoolSpec, PortfolioSnapshot, QuoteSpec } from '../portfolio/model.js';

/**
 * The portfolio keeper's live risk (issue 12, items 1 and 7): an EWMA covariance of its assets'
 * log returns, from the oracle prices the keeper itself read, and the 1-day 99% VaR/ES of the
 * residual (net) delta vector with the LPs' gamma.
 *
 * Sampling: a reading of an asset is kept (recorded, and fed to the bars) when its price changed
 * and a minute has passed since its last kept reading, or half a bar has passed whatever the price
 * (so every bar of a running keeper holds a reading, and silence means downtime): one-second
 * blocks flood neither the record (at most 60 lines an hour per asset) nor the statistics. Returns are taken on fixed hourly bars (core/risk/portfolio-var.ts):
 * hourly-scale vol and correlation, not tick noise. Because the bars see only kept readings, a
 * restart that replays the record rebuilds exactly the same state.
 *
 * Models, best first (`varModel` says which answered): fhs-ewma, the validated default, on the
 * daily P&L series of today's position (needs 30 complete days); ewma-normal on the hourly EWMA
 * covariance scaled to a day (after 30 bars); prior-normal on a prior of 80%/yr vol per asset and
 * 0.7 correlation, so figures exist from the first tick, marked as prior.
 */

const CONFIDENCE = 0.99;
/** RiskMetrics' daily lambda 0.94 as a half-life in wall-clock time (~11.2 days). */
const RISKMETRICS_HALF_LIFE_SEC = ewmaHalfLifePeriods(RISKMETRICS_DAILY_LAMBDA) * DAY_SEC;
/** Hourly bars kept in memory (two years): the FHS needs the days, the covariance only the stream. */
const MAX_BARS = 2 * 365 * 24;
/** A changed price is kept at most once a minute: a bar's close lags its true close by under a minute, and the lag telescopes away. */
const MIN_KEEP_SEC = 60;

export interface PortfolioRiskOptions {
  assets: readonly Pick<AssetSpec, 'id' | 'decimals'>[];
  /** Pools and quote of the portfolio, for the LP gamma; without them the position is linear. */
  pools?: readonly PoolSpec[];
  quote?: Pick<QuoteSpec, 'id' | 'decimals'>;
  halfLifeSec?: number;
  barSec?: number;
  priorVolAnnual?: number;
  priorCorrelation?: number;
  seedBars?: number;
  /** One price record per asset (portfolioPriceRecords): kept readings are appended, and replayed by load(). */
  record?: Readonly<Record<AssetId, PriceRecord>>;
  /** Run by load() before it reads the record (legacyPriceRecordMigration). */
  migrate?: () => Promise<unknown>;
}

export interface LiquidationDistance {
  venue: string;
  bucket: string;
  asset: AssetId;
  /** ln(liquidation price / price) / (vol × sqrt(1 day)): signed, negative when liquidation is below. null without a liquidation price. */
  sigmas: number | null;
}

export interface PortfolioRiskFigures {
  assets: AssetId[];
  /** Annualised volatility per asset, as a fraction (0.8 = 80%/yr). */
  volAnnual: Record<AssetId, number>;
  /** In `assets` order. */
  correlation: number[][];
  /** 1-day 99% VaR and ES of the net position, USD (positive = loss), from `varModel`. */
  var99Usd: number;
  es99Usd: number;
  varModel: 'fhs-ewma' | 'ewma-normal' | 'prior-normal';
  varBasis: string;
  /** The default model's own figure, or 'warming up' while it has under 30 daily returns. */
  fhsVar99Usd: number | 'warming up';
  covarianceSource: 'prior' | 'ewma';
  /** Hourly returns and complete days behind the figures. */
  bars: number;
  days: number;
  /** Net delta per asset, USD per unit log return. */
  deltaUsd: number[];
  /** LP gamma, USD per unit log return squared (null: no LP in range). */
  gammaUsd: number[][] | null;
  liquidation: LiquidationDistance[];
}

export interface PortfolioRisk {
  /** Replay the record (once, before the first tick). */
  load(): Promise<void>;
  /** Keep the snapshot's readings that the sampling rule keeps. */
  observe(snapshot: PortfolioSnapshot): void;
  /** observe, then the figures for this assessment. */
  figures(snapshot: PortfolioSnapshot, assessment: PortfolioAssessment): PortfolioRiskFigures;
}

const safeId = (id: AssetId) => id.replace(/[^A-Za-z0-9_.-]/g, '_');

/**
 * One record file per asset and chain, `portfolio-prices-<chainId>-<asset>.jsonl` (price-record.ts):
 * a keeper pointed at another chain starts its own. `timeSec` is the block time of the reading.
 * Without a chain id, the pre-chain name `portfolio-prices-<asset>.jsonl` (legacyPriceRecordMigration reads it once).
 */
export function portfolioPriceRecords(dataDir: string, assets: readonly { id: AssetId }[], chainId?: number): Record<AssetId, PriceRecord> {
  const name = (id: AssetId) => (chainId === undefined ? `portfolio-prices-${safeId(id)}.jsonl` : `portfolio-prices-${chainId}-${safeId(id)}.jsonl`);
  return Object.fromEntries(assets.map((a) => [a.id, createPriceRecord({ dataDir, fileName: name(a.id) })]));
}

/**
 * The migration from the pre-chain record names: an asset whose chain-keyed record does not exist
 * yet adopts its old `portfolio-prices-<asset>.jsonl` (renamed, so it is read once) when the old
 * file's last reading is of this chain: `sameChain` finds that block with that timestamp here. A
 * file from another chain (or a pruned block) is left where it is, unread.
 */
export function legacyPriceRecordMigration(
  dataDir: string, assets: readonly { id: AssetId }[], chainId: number, sameChain: (o: PriceObservation) => Promise<boolean>,
): () => Promise<AssetId[]> {
  return async () => {
    const adopted: AssetId[] = [];
    const old = portfolioPriceRecords(dataDir, assets);
    const now = portfolioPriceRecords(dataDir, assets, chainId);
    for (const a of assets) {
      const from = old[a.id]!;
      const to = now[a.id]!;
      if (existsSync(to.path) || !existsSync(from.path)) continue;
      const lastObs = (await from.read()).observations.at(-1);
      if (!lastObs || !(await sameChain(lastObs).catch(() => false))) continue;
      renameSync(from.path, to.path);
      adopted.push(a.id);
    }
    return adopted;
  };
}

interface Cached {
  bars: number;
  delta: number[];
  gamma: number[][] | null;
  result: Pick<PortfolioRiskFigures, 'var99Usd' | 'es99Usd' | 'varModel' | 'varBasis' | 'fhsVar99Usd'>;
}

/** Within 1% (or $1) in every entry: the cached VaR still stands. */
function close(a: readonly number[], b: readonly number[]): boolean {
  return a.every((x, i) => Math.abs(x - b[i]!) <= Math.max(1, 0.01 * Math.abs(b[i]!)));
}

export function createPortfolioRisk(opts: PortfolioRiskOptions): PortfolioRisk {
  const ids = opts.assets.map((a) => a.id);
  const k = ids.length;
  const barSec = opts.barSec ?? PORTFOLIO_RISK_DEFAULTS.barSec;
  if (!(barSec > 0 && DAY_SEC % barSec === 0)) throw new RangeError(`portfolio risk: barSec must divide a day, got ${barSec}`);
  const seedBars = opts.seedBars ?? PORTFOLIO_RISK_DEFAULTS.seedBars;
  const lambda = 0.5 ** (barSec / (opts.halfLifeSec ?? RISKMETRICS_HALF_LIFE_SEC));
  const priorVol = (opts.priorVolAnnual ?? PORTFOLIO_RISK_DEFAULTS.priorVolAnnual) * Math.sqrt(barSec / SECONDS_PER_YEAR);
  const prior = uniformCovariance(ids.map(() => priorVol), opts.priorCorrelation ?? PORTFOLIO_RISK_DEFAULTS.priorCorrelation);
  const sampler = createBarSampler(k, { barSec });
  const cov = createOnlineCovariance(k, { lambda, seedCount: seedBars });
  const scenarios = normalScenarios(k);
  const rows: ReturnRow[] = [];
  let bars = 0;
  let days: ReturnRow[] = [];
  let daysAtBars = 0;
  const kept: Array<{ timeSec: number; priceE8: bigint } | null> = ids.map(() => null);
  let cached: Cached | null = null;

  function ingest(timeSec: number, i: number, priceE8: bigint): void {
    kept[i] = { timeSec, priceE8 };
    for (const row of sampler.observe(timeSec, i, Number(priceE8) / 1e8)) {
      cov.observe(row.r);
      rows.push(row);
      bars++;
      if (rows.length > MAX_BARS) rows.splice(0, rows.length - MAX_BARS);
    }
  }

  function observe(s: PortfolioSnapshot): void {
    const t = Number(s.blockTimestampSec);
    ids.forEach((id, i) => {
      const p = s.prices[id];
      // A price the sanity check would refuse (none, or stamped after the block) is no reading.
      if (!p || p.priceE8 <= 0n || p.updatedAtSec > s.blockTimestampSec) return;
      const last = kept[i];
      if (last && (t < last.timeSec || t - last.timeSec < (p.priceE8 === last.priceE8 ? barSec / 2 : MIN_KEEP_SEC))) return;
      ingest(t, i, p.priceE8);
      void opts.record?.[id]?.append({ blockNumber: s.blockNumber, timeSec: s.blockTimestampSec, priceE8: p.priceE8 }).catch(() => undefined);
    });
  }

  function barCovariance(): { m: number[][]; source: 'prior' | 'ewma' } {
    const m = cov.covariance;
    return m ? { m, source: 'ewma' } : { m: prior, source: 'prior' };
  }

  function varOf(delta: number[], gamma: number[][] | null, barCov: { m: number[][]; source: 'prior' | 'ewma' }): Cached['result'] {
    if (daysAtBars !== bars) {
      days = dailyRows(rows, barSec);
      daysAtBars = bars;
    }
    const fhs = days.length > 0 ? fhsPortfolioVar(days, delta, gamma, CONFIDENCE) : undefined;
    const fhsVar99Usd = fhs ? fhs.varReturn : 'warming up';
    if (fhs) return { var99Usd: fhs.varReturn, es99Usd: fhs.esReturn, varModel: 'fhs-ewma', varBasis: `${fhs.source} over ${days.length} days`, fhsVar99Usd };
    const perDay = DAY_SEC / barSec;
    const dayCov = barCov.m.map((row) => row.map((x) => x * perDay));
    const v = deltaGammaNormalVar(delta, gamma, dayCov, CONFIDENCE, scenarios);
    const basis = barCov.source === 'ewma' ? `ewma covariance of ${bars} hourly returns` : `prior ${opts.priorVolAnnual ?? PORTFOLIO_RISK_DEFAULTS.priorVolAnnual}/yr vol, ${opts.priorCorrelation ?? PORTFOLIO_RISK_DEFAULTS.priorCorrelation} correlation (${bars}/${seedBars} hourly returns)`;
    return {
      var99Usd: v.varUsd, es99Usd: v.esUsd, varModel: barCov.source === 'ewma' ? 'ewma-normal' : 'prior-normal',
      varBasis: `${basis}; fhs warming up (${days.length} days)`, fhsVar99Usd,
    };
  }

  return {
    async load() {
      if (!opts.record) return;
      await opts.migrate?.();
      const readings: Array<{ timeSec: number; i: number; priceE8: bigint }> = [];
      for (const [i, id] of ids.entries()) {
        const rec = opts.record[id];
        if (!rec) continue;
        for (const o of (await rec.read()).observations) readings.push({ timeSec: Number(o.timeSec), i, priceE8: o.priceE8 });
      }
      readings.sort((a, b) => a.timeSec - b.timeSec || a.i - b.i);
      for (const r of readings) if (!kept[r.i] || r.timeSec >= kept[r.i]!.timeSec) ingest(r.timeSec, r.i, r.priceE8);
    },
    observe,
    figures(s, a) {
      observe(s);
      const delta = ids.map((id) => Number(a.assets.find((x) => x.asset === id)?.netUsdE8 ?? 0n) / 1e8);
      const gamma = opts.pools && opts.quote ? lpGammaMatrixUsd(opts.assets, opts.pools, opts.quote, s.lps, a.prices.pricesE8, a.prices.quotePriceE8) : null;
      const barCov = barCovariance();
      const flatG = gamma?.flat() ?? [];
      const reuse = cached !== null && cached.bars === bars && close(delta, cached.delta) && (cached.gamma?.flat().length ?? 0) === flatG.length && close(flatG, cached.gamma?.flat() ?? []);
      if (!reuse) cached = { bars, delta, gamma, result: varOf(delta, gamma, barCov) };
      const volAnnual: Record<AssetId, number> = {};
      ids.forEach((id, i) => (volAnnual[id] = Math.sqrt((barCov.m[i]![i]! * SECONDS_PER_YEAR) / barSec)));
      const daySqrt = Math.sqrt(DAY_SEC / SECONDS_PER_YEAR);
      const liquidation: LiquidationDistance[] = a.venues.flatMap((v) =>
        v.buckets.flatMap((b) =>
          Object.entries(b.liquidationPricesE8).map(([asset, liq]) => {
            const px = a.prices.pricesE8[asset] ?? 0n;
            const vol = volAnnual[asset];
            const sigmas = liq === null || liq <= 0n || px <= 0n || !vol ? null : Math.log(Number(liq) / Number(px)) / (vol * daySqrt);
            return { venue: v.venue, bucket: b.asset ?? 'account', asset, sigmas };
          }),
        ),
      );
      return {
        assets: ids, volAnnual, correlation: covarianceToCorrelation(barCov.m), ...cached!.result,
        covarianceSource: barCov.source, bars, days: days.length, deltaUsd: delta, gammaUsd: gamma, liquidation,
      };
    },
  };
}

/** The tick line's risk fields: VaR/ES in dollars, per-asset vol in percent, and which model answered. */
export function riskTickFields(f: PortfolioRiskFigures): Record<string, unknown> {
  const volAnnualPct: Record<AssetId, number> = {};
  for (const id of f.assets) volAnnualPct[id] = Math.round((f.volAnnual[id] ?? NaN) * 1000) / 10;
  return {
    var99Usd: Math.round(f.var99Usd * 100) / 100,
    es99Usd: Math.round(f.es99Usd * 100) / 100,
    volAnnualPct,
    varModel: f.varModel,
    riskBasis: f.covarianceSource === 'prior' ? 'prior' : `${f.bars} hourly returns`,
  };
}
