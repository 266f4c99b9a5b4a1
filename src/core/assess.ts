import type { Decimal } from 'decimal.js';
import type { Assessment, CollateralAssessment, HedgePolicy, Snapshot } from './types.js';
import { Dec, absBig, e18ToDecimal, e8ToDecimal, weiToDecimal } from './format.js';
import { exposures } from './exposure.js';
import { currentRatioE18, liquidationPriceE8, liquidationRatioE18 } from './margin.js';
import { collateralThresholds, effectiveBandWei, targetHedgeWei } from './policy.js';

export interface AssessOptions {
  /**
   * Band computed outside (BAND_MODE vol / ww, from the risk models in core/risk/bands.ts with
   * the runner's price history); replaces the fixed max(abs, pct) band when given.
   */
  bandWei?: bigint;
}

/**
 * Measure a snapshot: exposures, band, target hedge, collateral health. Pure: the same function
 * runs live, in dry-run and in the backtester.
 */
export function assess(snapshot: Snapshot, policy: HedgePolicy, opts: AssessOptions = {}): Assessment {
  const { oracle, pool } = snapshot;
  const x = exposures(snapshot, policy.includeNativeEth);
  const bandWei = opts.bandWei ?? effectiveBandWei(policy, x.grossSpotWei);
  const targetHedge = targetHedgeWei(policy, x.spotDeltaWei);
  const deviationWei = x.hedgeDeltaWei - targetHedge;
  return {
    blockNumber: snapshot.blockNumber,
    blockTimestampSec: snapshot.blockTimestampSec,
    priceE8: oracle.priceE8,
    poolPriceE8: pool.priceE8,
    quotePriceE8: oracle.quotePriceE8,
    oracleAgeSec: snapshot.blockTimestampSec - oracle.updatedAtSec,
    poolOracleDivergenceBps:
      oracle.priceE8 > 0n ? (absBig(pool.priceE8 - oracle.priceE8) * 10_000n) / oracle.priceE8 : 0n,
    ...x,
    // Figures for people, built when read (a log line, a report): not on every backtest tick.
    get netDeltaUsd() {
      return weiToDecimal(x.netDeltaWei).mul(e8ToDecimal(oracle.priceE8));
    },
    bandWei,
    targetHedgeWei: targetHedge,
    deviationWei,
    inBand: absBig(deviationWei) <= bandWei,
    walletUsdcUnits: snapshot.wallet.usdcUnits,
    lpCount: snapshot.lps.length,
    lpInRangeCount: snapshot.lps.filter((lp) => lp.inRange).length,
    hedge: snapshot.hedge,
    collateral: assessCollateral(snapshot, policy),
  };
}

function assessCollateral(snapshot: Snapshot, policy: HedgePolicy): CollateralAssessment {
  const { hedge, oracle } = snapshot;
  const ratioE18 = currentRatioE18(hedge, oracle.priceE8, oracle.quotePriceE8);
  const { triggerE18, targetE18 } = collateralThresholds(policy, hedge.venue);
  const liqPriceE8 = liquidationPriceE8(hedge, oracle.priceE8, oracle.quotePriceE8);
  return {
    venue: hedge.venue,
    get ratio() {
      return e18ToDecimal(ratioE18);
    },
    ratioE18,
    venueRatioE18: hedge.venue === 'perp' ? hedge.marginRatioE18 : hedge.healthFactorE18,
    liquidationRatioE18: liquidationRatioE18(hedge),
    triggerRatioE18: triggerE18,
    targetRatioE18: targetE18,
    liquidationPriceE8: liqPriceE8,
    get distancePct() {
      return liqPriceE8 === null ? null : distancePct(liqPriceE8, oracle.priceE8);
    },
    breached: ratioE18 < triggerE18,
  };
}

/** Signed distance from the oracle price to the liquidation price, percent of the oracle price. */
export function distancePct(liquidationPriceE8: bigint, priceE8: bigint): Decimal {
  if (priceE8 <= 0n) return new Dec(NaN);
  return new Dec((liquidationPriceE8 - priceE8).toString()).div(priceE8.toString()).mul(100);
}
