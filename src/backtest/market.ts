import { lpGammaBasePerUsd } from '../core/band-policy.js';
import { ewmaVolatility, lambdaForInterval } from '../core/risk/ewma.js';
import { SECONDS_PER_YEAR } from '../core/risk/returns.js';
import type { Episode } from './episodes.js';
import { createLpRange, lpAmountsAt, lpPositionAt, lpValueUnits, type LpRange } from './lp-model.js';
import type { BacktestPath } from './path.js';
import { sqrtPriceX96FromPriceE8 } from './tick-math.js';

/**
 * Everything along the path that does not depend on the hedging policy, computed once per
 * worker and shared by its policy runs: per episode the LP position (amounts, gamma,
 * recentering, fee income, the split of its P&L into holding and the loss against holding),
 * and the volatility the keeper would know at each step (EWMA of closes up to then: no
 * look-ahead). Transaction costs (gas in ETH at the ETH price, or a fixed cost) also live here.
 */

const SIZE_PRICE_TO_UNITS = 10n ** 20n;

export interface LpScenario {
  valueUsd: number;
  /** The range as multiples of the price at minting: [price * low, price * high]. */
  low: number;
  high: number;
  tickSpacing: number;
  /** Mainnet USDC/WETH has USDC as token0 (false). */
  baseIsToken0: boolean;
  /**
   * When the price leaves the range: 'notional' re-mints around the price at valueUsd (an
   * operator keeping a fixed allocation; the difference is an external capital flow, not P&L),
   * 'value' re-mints with what the position is worth, 'off' leaves it out of range. Recentering
   * pays swap slippage and one transaction's cost.
   */
  recenter: 'notional' | 'value' | 'off';
  /** Fee income while in range, percent a year of the position's value, accrued in USDC. 0 = off. */
  feeAprPct: number;
}

export interface TxCostModel {
  gasPriceGwei: number;
  /** Gas units per transaction kind. */
  gas: { hedgeTrade: number; topUp: number; recenter: number };
  /** A fixed USD cost per transaction in place of the gas model (`--cost-per-trade-usd`). */
  costPerTradeUsd?: number;
}

export interface MarketOptions {
  lp: LpScenario;
  tx: TxCostModel;
  slippageBps: number;
  /** ETH/USD per step, E8, to price gas in ETH when the data is another asset; default the path's own price. */
  ethPriceE8?: ArrayLike<bigint>;
  /** EWMA decay per close; default the RiskMetrics daily half-life at the path's interval. */
  ewmaLambda?: number;
  /** Closes observed before the vol estimate is used. Default 24. */
  volWarmup?: number;
  /** Compute the LP's gamma per step (the ww and adaptive bands need it). Default true. */
  gamma?: boolean;
}

/** One episode's LP and costs, indexed by local step j = global step - start. */
export interface EpisodeTrack {
  start: number;
  n: number;
  ranges: LpRange[];
  rangeIndex: Int32Array;
  lpBaseWei: bigint[];
  lpQuoteUnits: bigint[];
  lpInRange: Uint8Array;
  /** Accrued fee income since the episode start (USDC units, cumulative). */
  lpFeesUnits: bigint[];
  /** Capital the 'notional' recentering at this step adds (+) or takes (-) from the LP; 0 elsewhere. */
  lpInflowUnits: bigint[];
  /** Cumulative since the episode start: recentering costs, the LP principal's own moves, holding P&L. */
  lpRecenterCostUnits: bigint[];
  lpMoveUnits: bigint[];
  lpHodlUnits: bigint[];
  recenterSteps: number[];
  sqrtPriceX96: bigint[];
  gammaBasePerUsd: Float64Array;
  /** Float copies for the per-tick screen and statistics: LP base (wei) and quote + fees (USDC units). */
  lpBaseF: Float64Array;
  lpQuoteFeesF: Float64Array;
}

export interface MarketTrack {
  path: BacktestPath;
  n: number;
  episodes: EpisodeTrack[];
  /** priceE8 of each step as a float. */
  priceF: Float64Array;
  /** Annualised EWMA volatility known at the step; NaN during warm-up. */
  volAnnual: Float64Array;
  /** The same with a short half-life (BAND_MODE adaptive), per half-life, computed on first use. */
  volFastAnnual(halfLifeSec: number): Float64Array;
  /** Cost of one transaction of each kind at step i, USDC units. */
  txCostUnits(kind: keyof TxCostModel['gas'], i: number): bigint;
}

const usdToUnits = (usd: number): bigint => BigInt(Math.floor(usd * 1e6));

/** Annualised EWMA vol per step, from close-to-close returns (returns across data gaps skipped). */
function volTrack(path: BacktestPath, o: MarketOptions): Float64Array {
  const out = new Float64Array(path.steps.length).fill(NaN);
  const returns: number[] = [];
  const atStep: number[] = [];
  let prev = path.steps[0]!;
  path.steps.forEach((s, i) => {
    if (!s.isClose || i === 0) return;
    if (s.timeSec - prev.timeSec <= 1.5 * path.intervalSec) {
      returns.push(Math.log(Number(s.priceE8) / Number(prev.priceE8)));
      atStep.push(i);
    }
    prev = s;
  });
  const warmup = o.volWarmup ?? 24;
  if (returns.length <= warmup) return out;
  const lambda = o.ewmaLambda ?? lambdaForInterval(path.intervalSec);
  const { variances } = ewmaVolatility(returns, { lambda, seedCount: warmup });
  const perYear = SECONDS_PER_YEAR / path.intervalSec;
  let k = -1;
  for (let i = 0; i < out.length; i++) {
    while (k + 1 < atStep.length && atStep[k + 1]! <= i) k++;
    // The seed averages the first `warmup` returns: usable only once they have all been seen.
    if (k >= warmup - 1) out[i] = Math.sqrt(variances[k]! * perYear);
  }
  return out;
}

function txCosts(path: BacktestPath, o: MarketOptions): MarketTrack['txCostUnits'] {
  const fixed = o.tx.costPerTradeUsd;
  if (fixed !== undefined) {
    const units = usdToUnits(fixed);
    return () => units;
  }
  const gasPriceWei = BigInt(Math.round(o.tx.gasPriceGwei * 1e9));
  const eth = o.ethPriceE8;
  return (kind, i) => (BigInt(o.tx.gas[kind]) * gasPriceWei * (eth ? eth[i]! : path.steps[i]!.priceE8)) / SIZE_PRICE_TO_UNITS;
}

/**
 * EWMA of the variance per second with a half-life in time, as the live keeper keeps it
 * (runner/live-risk.ts): each close-to-close return r over dt seconds weighs 1 - 2^(-dt/halfLife).
 * Seeded with the mean of the first `warmup` returns; NaN before.
 */
function fastVolTrack(path: BacktestPath, halfLifeSec: number, warmup: number): Float64Array {
  const out = new Float64Array(path.steps.length).fill(NaN);
  let prev = path.steps[0]!;
  let varPerSec = 0;
  let seen = 0;
  path.steps.forEach((s, i) => {
    if (s.isClose && i > 0) {
      const dt = s.timeSec - prev.timeSec;
      const r = Math.log(Number(s.priceE8) / Number(prev.priceE8));
      if (dt > 0 && dt <= 1.5 * path.intervalSec) {
        seen++;
        if (seen <= warmup) varPerSec += (r * r) / dt / warmup;
        else {
          const lambda = Math.pow(0.5, dt / halfLifeSec);
          varPerSec = lambda * varPerSec + (1 - lambda) * ((r * r) / dt);
        }
      }
      prev = s;
    }
    if (seen >= warmup) out[i] = Math.sqrt(varPerSec * SECONDS_PER_YEAR);
  });
  return out;
}

export function buildMarketTrack(path: BacktestPath, episodes: readonly Episode[], o: MarketOptions): MarketTrack {
  const fast = new Map<number, Float64Array>();
  const volFastAnnual = (halfLifeSec: number): Float64Array => {
    let v = fast.get(halfLifeSec);
    if (!v) fast.set(halfLifeSec, (v = fastVolTrack(path, halfLifeSec, o.volWarmup ?? 24)));
    return v;
  };
  const priceF = Float64Array.from(path.steps, (st) => Number(st.priceE8));
  const track: MarketTrack = { path, n: path.steps.length, episodes: [], priceF, volAnnual: volTrack(path, o), volFastAnnual, txCostUnits: txCosts(path, o) };
  track.episodes = episodes.map((e) => episodeTrack(track, e, o));
  return track;
}

function mint(priceE8: bigint, valueUnits: bigint, o: MarketOptions): LpRange {
  const { low, high, tickSpacing, baseIsToken0 } = o.lp;
  return createLpRange({ priceE8, valueUnits, low, high, tickSpacing, baseIsToken0 });
}

function episodeTrack(track: MarketTrack, e: Episode, o: MarketOptions): EpisodeTrack {
  const { path } = track;
  const lp = o.lp;
  const n = e.endStep - e.startStep + 1;
  const first = path.steps[e.startStep]!;
  const notionalUnits = usdToUnits(lp.valueUsd);
  let range = mint(first.priceE8, notionalUnits, o);
  const t: EpisodeTrack = {
    start: e.startStep, n, ranges: [range], rangeIndex: new Int32Array(n), lpBaseWei: new Array<bigint>(n), lpQuoteUnits: new Array<bigint>(n),
    lpInRange: new Uint8Array(n), lpFeesUnits: new Array<bigint>(n), lpInflowUnits: new Array<bigint>(n).fill(0n),
    lpRecenterCostUnits: new Array<bigint>(n), lpMoveUnits: new Array<bigint>(n), lpHodlUnits: new Array<bigint>(n),
    recenterSteps: [], sqrtPriceX96: new Array<bigint>(n), gammaBasePerUsd: new Float64Array(n), lpBaseF: new Float64Array(n), lpQuoteFeesF: new Float64Array(n),
  };
  let fees = 0n;
  let recenterCost = 0n;
  let move = 0n;
  let hodl = 0n;
  let prevValue = 0n;
  let prevPrice = first.priceE8;
  // Holding P&L is what the tokens held at the last minting would have made.
  let heldBaseWei = 0n;
  for (let j = 0; j < n; j++) {
    const i = e.startStep + j;
    const { priceE8, timeSec } = path.steps[i]!;
    const sqrtP = sqrtPriceX96FromPriceE8(priceE8, lp.baseIsToken0);
    let amounts = lpAmountsAt(range, sqrtP);
    let value = lpValueUnits(amounts, priceE8);
    if (j === 0) heldBaseWei = amounts.amountBaseWei;
    else {
      move += value - prevValue;
      hodl += (heldBaseWei * (priceE8 - prevPrice)) / SIZE_PRICE_TO_UNITS;
    }
    if (j > 0 && !amounts.inRange && lp.recenter !== 'off') {
      const r = recentered(track, i, amounts.amountBaseWei, value, notionalUnits, o);
      range = r.range;
      recenterCost += r.costUnits;
      t.lpInflowUnits[j] = r.inflowUnits;
      t.ranges.push(range);
      t.recenterSteps.push(j);
      amounts = lpAmountsAt(range, sqrtP);
      value = lpValueUnits(amounts, priceE8);
      heldBaseWei = amounts.amountBaseWei;
    }
    if (j > 0 && amounts.inRange && lp.feeAprPct > 0) {
      const dt = timeSec - path.steps[i - 1]!.timeSec;
      // Fee income is an assumption (a rate on value), so a float is fine before rounding down.
      fees += BigInt(Math.floor((Number(value) * lp.feeAprPct * dt) / (100 * SECONDS_PER_YEAR)));
    }
    prevValue = value;
    prevPrice = priceE8;
    t.rangeIndex[j] = t.ranges.length - 1;
    t.sqrtPriceX96[j] = sqrtP;
    t.lpBaseWei[j] = amounts.amountBaseWei;
    t.lpQuoteUnits[j] = amounts.amountQuoteUnits;
    t.lpInRange[j] = amounts.inRange ? 1 : 0;
    t.lpFeesUnits[j] = fees;
    t.lpRecenterCostUnits[j] = recenterCost;
    t.lpMoveUnits[j] = move;
    t.lpHodlUnits[j] = hodl;
    if (o.gamma !== false) t.gammaBasePerUsd[j] = lpGammaBasePerUsd([lpPositionAt(range, amounts)], priceE8);
    t.lpBaseF[j] = Number(amounts.amountBaseWei);
    t.lpQuoteFeesF[j] = Number(amounts.amountQuoteUnits + fees);
  }
  return t;
}

/** Withdraw, swap to the new composition (slippage on the swapped base), mint around the price. */
function recentered(track: MarketTrack, i: number, baseWei: bigint, valueUnits: bigint, notionalUnits: bigint, o: MarketOptions): { range: LpRange; costUnits: bigint; inflowUnits: bigint } {
  const { priceE8 } = track.path.steps[i]!;
  const sqrtP = sqrtPriceX96FromPriceE8(priceE8, o.lp.baseIsToken0);
  // The swap reshapes what is withdrawn into what is minted ('value': sized before costs, which
  // differ from it by a few basis points).
  const mintTarget = o.lp.recenter === 'notional' ? notionalUnits : valueUnits;
  const target = lpAmountsAt(mint(priceE8, mintTarget, o), sqrtP);
  const swapped = target.amountBaseWei > baseWei ? target.amountBaseWei - baseWei : baseWei - target.amountBaseWei;
  const slippageUnits = (swapped * priceE8 * BigInt(Math.round(o.slippageBps * 100))) / (SIZE_PRICE_TO_UNITS * 1_000_000n);
  const costUnits = slippageUnits + track.txCostUnits('recenter', i);
  const rest = valueUnits > costUnits ? valueUnits - costUnits : 0n;
  const minted = o.lp.recenter === 'notional' ? notionalUnits : rest;
  return { range: mint(priceE8, minted, o), costUnits: valueUnits - rest, inflowUnits: minted - rest };
}
