import { Decimal } from 'decimal.js';
import { parseUnits } from 'viem';
import { lpGammaBasePerUsd } from '../core/band-policy.js';
import { ewmaVolatility, lambdaForInterval } from '../core/risk/ewma.js';
import { SECONDS_PER_YEAR } from '../core/risk/returns.js';
import { sqrtPriceX96FromPriceE8 } from '../spot/uniswap-math.js';
import { createLpRange, lpAmountsAt, lpPositionAt, lpValueUnits, type LpRange } from './lp-model.js';
import type { BacktestPath } from './path.js';

/**
 * Everything along the path that does not depend on the hedging policy, computed once and
 * shared by every policy run: the LP position (amounts, gamma, recentering), and the volatility
 * the keeper would know at each tick (EWMA of closes up to then: no look-ahead).
 */

const SIZE_PRICE_TO_UNITS = 10n ** 20n;

export interface LpScenario {
  valueUsd: number;
  /** Range = price * (1 +- widthPct / 100). */
  widthPct: number;
  tickSpacing: number;
  /** Mainnet USDC/WETH has USDC as token0 (false). */
  baseIsToken0: boolean;
  /**
   * When the price leaves the range: 'notional' re-mints around the price at valueUsd (an
   * operator keeping a fixed allocation; the difference is an external capital flow, not P&L),
   * 'value' re-mints with what the position is worth, 'off' leaves it out of range. Recentering
   * pays swap slippage and gas.
   */
  recenter: 'notional' | 'value' | 'off';
  /** Fee income while in range, percent a year of the position's value, accrued in USDC. 0 = off. */
  feeAprPct: number;
  recenterGas: number;
}

export interface MarketOptions {
  lp: LpScenario;
  gasPriceGwei: number;
  slippageBps: number;
  /** EWMA decay per close; default the RiskMetrics daily half-life at the path's interval. */
  ewmaLambda?: number;
  /** Closes observed before the vol estimate is used. Default 24. */
  volWarmup?: number;
}

export interface MarketTrack {
  path: BacktestPath;
  n: number;
  ranges: LpRange[];
  rangeIndex: Int32Array;
  lpBaseWei: bigint[];
  lpQuoteUnits: bigint[];
  lpInRange: Uint8Array;
  /** Accrued fee income (USDC units, cumulative). */
  lpFeesUnits: bigint[];
  /** Value lost to recentering so far (swap slippage + gas, USDC units, cumulative). */
  lpRecenterCostUnits: bigint[];
  /**
   * Capital the 'notional' recentering at this step adds to (+) or takes from (-) the LP, USDC
   * units; 0 elsewhere. The simulation settles it with the wallet (see simulate.ts).
   */
  lpInflowUnits: bigint[];
  recenterSteps: number[];
  /** The pool's sqrt price at the step (pool price = oracle price in the backtest). */
  sqrtPriceX96: bigint[];
  gammaBasePerUsd: Float64Array;
  /** Annualised EWMA volatility known at the step; NaN during warm-up. */
  volAnnual: Float64Array;
  gasPriceWei: bigint;
}

export function usdToUnits(usd: number): bigint {
  return parseUnits(new Decimal(usd).toFixed(6, Decimal.ROUND_DOWN), 6);
}

export function ethToWei(eth: number): bigint {
  return parseUnits(new Decimal(eth).toFixed(18, Decimal.ROUND_DOWN), 18);
}

export function gasCostUnits(gas: number, gasPriceWei: bigint, priceE8: bigint): bigint {
  return (BigInt(gas) * gasPriceWei * priceE8) / SIZE_PRICE_TO_UNITS;
}

function recentered(range: LpRange, base: bigint, quote: bigint, priceE8: bigint, o: MarketOptions): { range: LpRange; costUnits: bigint; inflowUnits: bigint } {
  const value = lpValueUnits({ amountBaseWei: base, amountQuoteUnits: quote, inRange: false }, priceE8);
  const shape = { priceE8, widthPct: o.lp.widthPct, tickSpacing: o.lp.tickSpacing, baseIsToken0: range.baseIsToken0 };
  const sqrtP = sqrtPriceX96FromPriceE8(priceE8, range.baseIsToken0);
  // The swap reshapes what is withdrawn into what is minted ('value': sized before costs, which
  // differ from it by a few basis points).
  const mintTarget = o.lp.recenter === 'notional' ? usdToUnits(o.lp.valueUsd) : value;
  const target = lpAmountsAt(createLpRange({ ...shape, valueUnits: mintTarget }), sqrtP);
  const swapped = target.amountBaseWei > base ? target.amountBaseWei - base : base - target.amountBaseWei;
  const slippageUnits = (swapped * priceE8 * BigInt(Math.round(o.slippageBps * 100))) / (SIZE_PRICE_TO_UNITS * 1_000_000n);
  const costUnits = slippageUnits + gasCostUnits(o.lp.recenterGas, usdGasPriceWei(o.gasPriceGwei), priceE8);
  const rest = value > costUnits ? value - costUnits : 0n;
  const mint = o.lp.recenter === 'notional' ? usdToUnits(o.lp.valueUsd) : rest;
  return { range: createLpRange({ ...shape, valueUnits: mint }), costUnits: value - rest, inflowUnits: mint - rest };
}

function usdGasPriceWei(gwei: number): bigint {
  return parseUnits(new Decimal(gwei).toFixed(9, Decimal.ROUND_DOWN), 9);
}

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

export function buildMarketTrack(path: BacktestPath, o: MarketOptions): MarketTrack {
  const n = path.steps.length;
  const first = path.steps[0]!;
  const lp = o.lp;
  let range = createLpRange({ priceE8: first.priceE8, valueUnits: usdToUnits(lp.valueUsd), widthPct: lp.widthPct, tickSpacing: lp.tickSpacing, baseIsToken0: lp.baseIsToken0 });
  const t: MarketTrack = {
    path, n, ranges: [range], rangeIndex: new Int32Array(n), lpBaseWei: new Array<bigint>(n), lpQuoteUnits: new Array<bigint>(n),
    lpInRange: new Uint8Array(n), lpFeesUnits: new Array<bigint>(n), lpRecenterCostUnits: new Array<bigint>(n), lpInflowUnits: new Array<bigint>(n).fill(0n), recenterSteps: [], sqrtPriceX96: new Array<bigint>(n),
    gammaBasePerUsd: new Float64Array(n), volAnnual: volTrack(path, o), gasPriceWei: usdGasPriceWei(o.gasPriceGwei),
  };
  let fees = 0n;
  let recenterCost = 0n;
  for (let i = 0; i < n; i++) {
    const { priceE8, timeSec } = path.steps[i]!;
    const sqrtP = sqrtPriceX96FromPriceE8(priceE8, lp.baseIsToken0);
    let amounts = lpAmountsAt(range, sqrtP);
    if (!amounts.inRange && lp.recenter !== 'off') {
      const r = recentered(range, amounts.amountBaseWei, amounts.amountQuoteUnits, priceE8, o);
      range = r.range;
      recenterCost += r.costUnits;
      t.lpInflowUnits[i] = r.inflowUnits;
      t.ranges.push(range);
      t.recenterSteps.push(i);
      amounts = lpAmountsAt(range, sqrtP);
    }
    if (i > 0 && amounts.inRange && lp.feeAprPct > 0) {
      const dt = timeSec - path.steps[i - 1]!.timeSec;
      // Fee income is an assumption (a rate on value), so a float is fine before rounding down.
      fees += BigInt(Math.floor((Number(lpValueUnits(amounts, priceE8)) * lp.feeAprPct * dt) / (100 * SECONDS_PER_YEAR)));
    }
    t.rangeIndex[i] = t.ranges.length - 1;
    t.sqrtPriceX96[i] = sqrtP;
    t.lpBaseWei[i] = amounts.amountBaseWei;
    t.lpQuoteUnits[i] = amounts.amountQuoteUnits;
    t.lpInRange[i] = amounts.inRange ? 1 : 0;
    t.lpFeesUnits[i] = fees;
    t.lpRecenterCostUnits[i] = recenterCost;
    t.gammaBasePerUsd[i] = lpGammaBasePerUsd([lpPositionAt(range, amounts)], priceE8);
  }
  return t;
}
