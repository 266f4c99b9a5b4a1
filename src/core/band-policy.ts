import type { BandParams, HedgePolicy, LpPosition } from './types.js';
import { E18, MAX_UINT256, fmtEth } from './format.js';
import { effectiveBandWei } from './policy.js';
import { baseToWei, volScaledBandWei, whalleyWilmottHalfWidth } from './risk/bands.js';

/**
 * The band of each BAND_MODE, computed per tick and handed to assess(..., { bandWei }). Pure:
 * volatility, gamma and time are inputs (the runner or the backtester measures them).
 */

const ETH = E18;

/** Defaults of the adaptive modes (the same as loadConfig's documented defaults). */
export const DEFAULT_BAND_PARAMS: Readonly<BandParams> = Object.freeze({
  volRefAnnual: 1.0,
  minWei: ETH / 10n,
  maxWei: 100n * ETH,
  wwCostBps: 10,
  wwRiskAversionPerUsd: 0.0005,
  rebalancePeriodSec: 3600,
  adaptiveCostBps: 5,
  adaptiveRiskAversionPerUsd: 0.000093,
  volFastHalfLifeSec: 4 * 3600,
});

/** The modes whose band needs the LP's gamma (the runner computes it only for them). */
export function bandModeNeedsGamma(mode: HedgePolicy['bandMode']): boolean {
  return mode === 'ww' || mode === 'adaptive';
}

/**
 * The band of bandMode time while the period has not elapsed: wider than any position, so
 * assess reports "in band" and plan trades nothing (top-ups still run).
 */
export const NO_TRADE_BAND_WEI = MAX_UINT256;

export interface BandInputs {
  /** |wallet| + |LP| base exposure, as assess computes it. */
  grossSpotWei: bigint;
  priceE8: bigint;
  /** Annualised volatility estimate (EWMA, GARCH); null before there is enough history. */
  volAnnual: number | null;
  /**
   * adaptive: a short-term annualised volatility (EWMA with BandParams.volFastHalfLifeSec);
   * absent or null = no tightening.
   */
  volFastAnnual?: number | null;
  /** d(spot delta)/d(price) in ETH per USD (an LP's is negative; the sign does not matter). */
  gammaBasePerUsd: number;
  /** time mode: the tick's time, seconds. */
  nowSec?: number;
  /** time mode: the last time a rebalance was due (see rebalanceDue); null = never. */
  lastRebalanceSec?: number | null;
}

export interface BandDecision {
  readonly bandWei: bigint;
  /**
   * ww / adaptive: the band as the float it is rounded from (within ~1e-15 of bandWei), for a
   * caller that only needs to know a deviation is well inside it; bandWei is then computed only
   * when read (the backtester screens ~130,000 ticks a run this way).
   */
  approxWei?: number;
  /** One line for the tick log: how the band was obtained (built when read: the backtest never reads it). */
  readonly note: string;
  /** time mode only: a rebalance is due now; the caller then sets lastRebalanceSec = nowSec. */
  rebalanceDue?: boolean;
}

export function bandParams(policy: HedgePolicy): BandParams {
  return policy.band ?? DEFAULT_BAND_PARAMS;
}

function clamp(x: bigint, p: BandParams): bigint {
  return x < p.minWei ? p.minWei : x > p.maxWei ? p.maxWei : x;
}

/**
 * Time-based rebalancing is due when nowSec is in a later period slot (floor(t / period)) than
 * the last due time, so rebalances land on the period grid (the top of the hour) whatever the
 * tick times are, and a skipped dust trade does not make every following tick "due".
 */
export function rebalanceDue(lastRebalanceSec: number | null | undefined, nowSec: number, periodSec: number): boolean {
  if (!(periodSec > 0)) throw new RangeError(`rebalanceDue: period must be > 0, got ${periodSec}`);
  if (lastRebalanceSec === null || lastRebalanceSec === undefined) return true;
  return Math.floor(nowSec / periodSec) > Math.floor(lastRebalanceSec / periodSec);
}

export function bandWeiFor(policy: HedgePolicy, inputs: BandInputs): BandDecision {
  const p = bandParams(policy);
  const fixedWei = effectiveBandWei(policy, inputs.grossSpotWei);
  switch (policy.bandMode) {
    case 'fixed':
      return { bandWei: fixedWei, get note() { return `fixed band ${fmtEth(fixedWei)}`; } };
    case 'vol': {
      const vol = inputs.volAnnual;
      if (vol === null || !Number.isFinite(vol) || vol < 0) {
        return { bandWei: fixedWei, get note() { return `vol band: no volatility estimate yet, fixed band ${fmtEth(fixedWei)}`; } };
      }
      const bandWei = volScaledBandWei({ baseBandWei: fixedWei, volAnnual: vol, refVolAnnual: p.volRefAnnual, min: p.minWei, max: p.maxWei });
      return { bandWei, get note() { return `vol band ${fmtEth(bandWei)} = ${fmtEth(fixedWei)} * vol ${(vol * 100).toFixed(1)}% / ref ${(p.volRefAnnual * 100).toFixed(1)}%, clamped`; } };
    }
    case 'ww': {
      const priceUsd = Number(inputs.priceE8) / 1e8; // a price, not an amount: a float is fine
      // A feed answering <= 0 reads as price 0: the tick must reach its sanity check (safe mode).
      if (!(priceUsd > 0)) return { bandWei: fixedWei, note: `ww band: no usable price, fixed band ${fmtEth(fixedWei)}` };
      const halfWidthEth = whalleyWilmottHalfWidth({
        costProportional: p.wwCostBps / 10_000,
        priceUsd,
        gammaBasePerUsd: inputs.gammaBasePerUsd,
        riskAversionPerUsd: p.wwRiskAversionPerUsd,
      });
      const approx = Math.min(Math.max(halfWidthEth * 1e18, Number(p.minWei)), Number(p.maxWei));
      return floatBand(approx, () => clamp(baseToWei(halfWidthEth), p), (bandWei) => `ww band ${fmtEth(bandWei)} (H ${halfWidthEth.toFixed(4)} ETH, gamma ${inputs.gammaBasePerUsd.toExponential(3)} ETH/USD, clamped)`);
    }
    case 'adaptive':
      return adaptiveBand(p, inputs, fixedWei, policy.deltaBandWei);
    case 'time': {
      if (inputs.nowSec === undefined) throw new RangeError('bandWeiFor: bandMode time needs nowSec');
      const due = rebalanceDue(inputs.lastRebalanceSec, inputs.nowSec, p.rebalancePeriodSec);
      return due
        ? { bandWei: 0n, note: `time: ${p.rebalancePeriodSec}s period elapsed, rebalance to target`, rebalanceDue: true }
        : { bandWei: NO_TRADE_BAND_WEI, note: `time: waiting for the next ${p.rebalancePeriodSec}s slot`, rebalanceDue: false };
    }
  }
}

/**
 * BAND_MODE adaptive: the Whalley-Wilmott half-width for the LP's gamma and the trading cost
 * (wider when trading is dear or the delta moves slowly, narrower with more risk aversion), in
 * the base asset's own units with no clamp in ETH (the same parameters serve any asset), times
 * sqrt(long-term vol / short-term vol) when the short-term vol runs above the long-term one:
 * big moves cluster and keep their direction for a while, and a residual delta held into them
 * is where a band loses against hourly rebalancing. Plan trades back to band * (1 - hysteresis).
 * On the shipped ETH and BTC hourly data this is >= 3x cheaper than hourly rebalancing at
 * <= +10% per-close risk (README, "A default policy that beats hourly rebalancing").
 */
function adaptiveBand(p: BandParams, inputs: BandInputs, fixedWei: bigint, floorWei: bigint): BandDecision {
  const priceUsd = Number(inputs.priceE8) / 1e8; // a price, not an amount: a float is fine
  if (!(priceUsd > 0)) return { bandWei: fixedWei, note: `adaptive band: no usable price, fixed band ${fmtEth(fixedWei)}` };
  const d = DEFAULT_BAND_PARAMS;
  const halfWidthEth = whalleyWilmottHalfWidth({
    costProportional: (p.adaptiveCostBps ?? d.adaptiveCostBps!) / 10_000,
    priceUsd,
    gammaBasePerUsd: inputs.gammaBasePerUsd,
    riskAversionPerUsd: p.adaptiveRiskAversionPerUsd ?? d.adaptiveRiskAversionPerUsd!,
  });
  const slow = inputs.volAnnual;
  const fast = inputs.volFastAnnual;
  const tighten = slow !== null && fast !== null && fast !== undefined && slow > 0 && fast > slow ? Math.sqrt(slow / fast) : 1;
  // DELTA_BAND_ETH stays a floor: a smaller deviation is not worth a transaction.
  const exact = (): bigint => {
    const computed = baseToWei(halfWidthEth * tighten);
    return computed > floorWei ? computed : floorWei;
  };
  return floatBand(Math.max(halfWidthEth * tighten * 1e18, Number(floorWei)), exact, (bandWei) =>
    `adaptive band ${fmtEth(bandWei)} (ww ${halfWidthEth.toFixed(4)} ETH x ${tighten.toFixed(3)} vol regime, gamma ${inputs.gammaBasePerUsd.toExponential(3)} ETH/USD)`);
}

/** A band rounded from a float: the exact wei only when read, the note only when read (a class: cheap to create). */
class FloatBand implements BandDecision {
  #wei: bigint | undefined;
  constructor(
    readonly approxWei: number,
    private readonly exact: () => bigint,
    private readonly describe: (bandWei: bigint) => string,
  ) {}

  get bandWei(): bigint {
    return (this.#wei ??= this.exact());
  }

  get note(): string {
    return this.describe(this.bandWei);
  }
}

function floatBand(approxWei: number, exact: () => bigint, note: (bandWei: bigint) => string): BandDecision {
  return new FloatBand(approxWei, exact, note);
}

/** Price of the base asset in USD at a tick (float), whichever token is token0 (USDC 6, WETH 18 decimals). */
function tickPriceUsd(tick: number, baseIsToken0: boolean, baseDecimals: number, quoteDecimals: number): number {
  const raw = 1.0001 ** tick; // token1 raw per token0 raw
  const perBase = baseIsToken0 ? raw : 1 / raw;
  return perBase * 10 ** (baseDecimals - quoteDecimals);
}

/**
 * Gamma of the LP positions, ETH per USD, at the oracle price: in range, the base held is
 * L * (1/sqrt(q) - 1/sqrt(q_upper)) with q = raw quote per raw base = P * 10^(qd - bd), so
 * Gamma = -L * 10^(qd - 2 bd) / (2 q^1.5) (the formula of uniswapV3GammaBasePerUsd, in floats:
 * it is a statistic for the ww band, and the keeper and the backtester evaluate it every tick).
 * Out of range: 0.
 */
export function lpGammaBasePerUsd(lps: readonly LpPosition[], priceE8: bigint, baseDecimals = 18, quoteDecimals = 6): number {
  const priceUsd = Number(priceE8) / 1e8;
  const q = priceUsd * 10 ** (quoteDecimals - baseDecimals);
  let gamma = 0;
  for (const lp of lps) {
    if (!lp.inRange || lp.liquidity === 0n) continue;
    const a = tickPriceUsd(lp.tickLower, lp.baseIsToken0, baseDecimals, quoteDecimals);
    const b = tickPriceUsd(lp.tickUpper, lp.baseIsToken0, baseDecimals, quoteDecimals);
    if (priceUsd <= Math.min(a, b) || priceUsd >= Math.max(a, b)) continue;
    gamma -= (Number(lp.liquidity) * 10 ** (quoteDecimals - 2 * baseDecimals)) / (2 * q ** 1.5);
  }
  return gamma;
}
