import type { Action, Address, BandMode, GuardState, HedgePolicy, PolicyState, Snapshot } from '../core/types.js';
import { assess } from '../core/assess.js';
import { plan } from '../core/plan.js';
import { checkAction, initialGuardState, recordAction } from '../core/guard.js';
import { bandWeiFor } from '../core/band-policy.js';
import { exposures } from '../core/exposure.js';
import { effectiveBandWei, initialPolicyState, targetHedgeWei } from '../core/policy.js';
import { E8, MAX_UINT256, absBig, ceilDiv } from '../core/format.js';
import { ethToWei, gasCostUnits, usdToUnits, type MarketTrack } from './market.js';
import { lpPositionAt } from './lp-model.js';
import {
  accountValueUnits, accrueFunding, createPerpState, depositMargin, liquidateIfDue, marginRatioE18, notionalUnits, pendingFundingUnits,
  perpAccountView, perpParams, tradePerp, type PerpParams, type PerpState,
} from './perp-model.js';
import type { BacktestScenario, PolicySpec } from './policies.js';

/**
 * One policy replayed over a market track through the keeper's own assess -> plan -> guard.
 * Each tick builds the Snapshot the chain reader would return (wallet, the LP from the track,
 * the perp account from the exchange model), computes the band of the policy's mode, and
 * carries out the planned actions on the models: top-ups move wallet USDC into margin, hedge
 * trades fill at the oracle price worse by the slippage. Liquidations come first: a liquidator
 * watching the exchange closes an account under maintenance before the keeper's next tick.
 *
 * Results are sampled at the closes (see path.ts). Amounts stay bigint; the sampled figures
 * are floats, because they only feed statistics and charts.
 */

const ACCOUNT: Address = '0x00000000000000000000000000000000000b4c7e';
const SIZE_PRICE_TO_UNITS = 10n ** 20n;

export interface CostTotals {
  feesUsd: number;
  slippageUsd: number;
  gasUsd: number;
  /** Net funding paid (negative = received). */
  fundingUsd: number;
  /** Liquidation penalties paid by the account. */
  penaltyUsd: number;
  totalUsd: number;
}

export interface PolicyCounters {
  ticks: number;
  trades: number;
  tradedEth: number;
  topUps: number;
  toppedUpUsd: number;
  liquidations: number;
  badDebtUsd: number;
  guardBlocked: number;
  venueRejected: number;
  /** Ticks where |deviation| exceeded the band before acting (time policies: the fixed band). */
  ticksOutsideBand: number;
}

/** Per close, post-action. */
export interface PolicySeries {
  timeSec: Float64Array;
  valueUsd: Float64Array;
  netDeltaEth: Float64Array;
  /** Perp margin ratio (Infinity without a position). */
  marginRatio: Float64Array;
  bandEth: Float64Array;
  cumCostUsd: Float64Array;
}

/** Running moments of the per-tick change in portfolio value (Welford), USD. */
export interface TickPnlStats {
  n: number;
  mean: number;
  m2: number;
}

export interface PolicyRun {
  name: string;
  mode: BandMode;
  policy: HedgePolicy;
  costs: CostTotals;
  counters: PolicyCounters;
  series: PolicySeries;
  tickPnl: TickPnlStats;
  runtimeMs: number;
}

const toUsd = (units: bigint): number => Number(units) / 1e6;
const toEth = (wei: bigint): number => Number(wei) / 1e18;

/** Fill price of a hedge trade: worse than the oracle by slippageBps, rounded against the trader. */
export function fillPriceE8(priceE8: bigint, sizeDeltaWei: bigint, slippageBps: number): bigint {
  const bpsE2 = BigInt(Math.round(slippageBps * 100));
  return sizeDeltaWei > 0n ? ceilDiv(priceE8 * (1_000_000n + bpsE2), 1_000_000n) : (priceE8 * (1_000_000n - bpsE2)) / 1_000_000n;
}

interface RunState {
  wethWei: bigint;
  usdcUnits: bigint;
  perp: PerpState;
  policyState: PolicyState;
  guardState: GuardState;
  lastRebalanceSec: number | null;
  feeUnits: bigint;
  slippageUnits: bigint;
  gasUnits: bigint;
  fundingSettledUnits: bigint;
  penaltyUnits: bigint;
  /** LP refills brought in from outside (see settleLpFlow). */
  externalInflowUnits: bigint;
}

function initialState(track: MarketTrack, spec: PolicySpec, scenario: BacktestScenario): RunState {
  const first = track.path.steps[0]!;
  const wethWei = ethToWei(scenario.walletWethEth);
  const perp = createPerpState(first.timeSec);
  // Start hedged at target with the margin at its target ratio, so no policy pays for the setup.
  perp.sizeWei = targetHedgeWei(spec.policy, wethWei + track.lpBaseWei[0]!);
  perp.entryPriceE8 = first.priceE8;
  perp.marginUnits = ceilDiv(spec.policy.marginTargetE18 * notionalUnits(perp.sizeWei, first.priceE8), 10n ** 18n);
  return {
    wethWei, usdcUnits: usdToUnits(scenario.walletUsdc), perp, policyState: initialPolicyState(),
    guardState: initialGuardState(first.timeSec), lastRebalanceSec: null,
    feeUnits: 0n, slippageUnits: 0n, gasUnits: 0n, fundingSettledUnits: 0n, penaltyUnits: 0n, externalInflowUnits: 0n,
  };
}

function snapshotAt(track: MarketTrack, i: number, s: RunState, pp: PerpParams): Snapshot {
  const { timeSec, priceE8 } = track.path.steps[i]!;
  const range = track.ranges[track.rangeIndex[i]!]!;
  const lp = lpPositionAt(
    range,
    { amountBaseWei: track.lpBaseWei[i]!, amountQuoteUnits: track.lpQuoteUnits[i]!, inRange: track.lpInRange[i] === 1 },
    { baseWei: 0n, quoteUnits: track.lpFeesUnits[i]! },
  );
  const t = BigInt(timeSec);
  return {
    chainId: 0,
    blockNumber: BigInt(i),
    blockTimestampSec: t,
    account: ACCOUNT,
    oracle: { priceE8, updatedAtSec: t, quotePriceE8: E8 },
    // The pool's tick and liquidity are not read by assess; the pool trades at the oracle price.
    pool: { sqrtPriceX96: track.sqrtPriceX96[i]!, tick: 0, liquidity: range.liquidity, priceE8 },
    wallet: { ethWei: 0n, wethWei: s.wethWei, usdcUnits: s.usdcUnits },
    lps: [lp],
    hedge: perpAccountView(s.perp, pp, priceE8),
  };
}

export interface RunOptions {
  /** Called with the number of ticks done, every few thousand ticks. */
  onProgress?: (ticksDone: number) => void;
}

export function runPolicy(track: MarketTrack, spec: PolicySpec, scenario: BacktestScenario, opts: RunOptions = {}): PolicyRun {
  const started = performance.now();
  const { policy } = spec;
  const pp = perpParams(scenario.perp);
  const s = initialState(track, spec, scenario);
  const c: PolicyCounters = {
    ticks: 0, trades: 0, tradedEth: 0, topUps: 0, toppedUpUsd: 0, liquidations: 0, badDebtUsd: 0,
    guardBlocked: 0, venueRejected: 0, ticksOutsideBand: 0,
  };
  const closes = track.path.steps.reduce((k, st) => k + (st.isClose ? 1 : 0), 0);
  const series: PolicySeries = {
    timeSec: new Float64Array(closes), valueUsd: new Float64Array(closes), netDeltaEth: new Float64Array(closes),
    marginRatio: new Float64Array(closes), bandEth: new Float64Array(closes), cumCostUsd: new Float64Array(closes),
  };
  let k = 0;
  const tickPnl: TickPnlStats = { n: 0, mean: 0, m2: 0 };
  let prevValueUsd = NaN;
  for (let i = 0; i < track.n; i++) {
    const { timeSec, priceE8, isClose } = track.path.steps[i]!;
    accrueFunding(s.perp, pp, timeSec, priceE8);
    settleLpFlow(track.lpInflowUnits[i]!, s);
    const liq = liquidateIfDue(s.perp, pp, priceE8);
    if (liq) {
      c.liquidations++;
      c.badDebtUsd += toUsd(liq.badDebtUnits);
      s.penaltyUnits += liq.penaltyPaidUnits;
      s.fundingSettledUnits += liq.fundingPaidUnits;
    }
    let bandWei = 0n;
    if (i > 0) bandWei = tick(track, i, spec, scenario, pp, s, c);
    else bandWei = effectiveBandWei(policy, exposures(snapshotAt(track, 0, s, pp), policy.includeNativeEth).grossSpotWei);
    const valueUsd = toUsd(portfolioValueUnits(track, i, s));
    if (i > 0) addSample(tickPnl, valueUsd - prevValueUsd);
    prevValueUsd = valueUsd;
    if (isClose) recordClose(track, i, s, series, k++, bandWei, valueUsd);
    if (opts.onProgress && (i & 4095) === 4095) opts.onProgress(i + 1);
  }
  opts.onProgress?.(track.n);
  c.ticks = track.n - 1;
  return { name: spec.name, mode: policy.bandMode, policy, costs: costTotals(s), counters: c, series, tickPnl, runtimeMs: performance.now() - started };
}

/**
 * An LP recentered to its notional after a rally sends its surplus to the wallet: that surplus
 * is the LP's gain that mirrors the hedge's loss, so it funds the margin top-ups. A shortfall
 * after a fall is refilled from outside (counted as inflow): taking it from the wallet would
 * drain the margin reserve while the hedge's matching gain sits in the perp account, which the
 * keeper never withdraws.
 */
function settleLpFlow(inflowUnits: bigint, s: RunState): void {
  if (inflowUnits < 0n) s.usdcUnits -= inflowUnits;
  else s.externalInflowUnits += inflowUnits;
}

/** One keeper tick at step i: band, assess, plan, guard, execute. Returns the band used. */
function tick(track: MarketTrack, i: number, spec: PolicySpec, scenario: BacktestScenario, pp: PerpParams, s: RunState, c: PolicyCounters): bigint {
  const { policy } = spec;
  const { timeSec, priceE8 } = track.path.steps[i]!;
  const snapshot = snapshotAt(track, i, s, pp);
  const grossSpotWei = exposures(snapshot, policy.includeNativeEth).grossSpotWei;
  const vol = track.volAnnual[i]!;
  const band = bandWeiFor(policy, {
    grossSpotWei, priceE8, volAnnual: Number.isNaN(vol) ? null : vol, gammaBasePerUsd: track.gammaBasePerUsd[i]!,
    nowSec: timeSec, lastRebalanceSec: s.lastRebalanceSec,
  });
  if (band.rebalanceDue) s.lastRebalanceSec = timeSec;
  const a = assess(snapshot, policy, { bandWei: band.bandWei });
  const refBandWei = policy.bandMode === 'time' ? effectiveBandWei(policy, grossSpotWei) : a.bandWei;
  if (absBig(a.deviationWei) > refBandWei) c.ticksOutsideBand++;
  const planned = plan(a, s.policyState, policy, timeSec);
  let hedged = false;
  for (const action of planned.plan.actions) {
    const ctx = { priceE8, nowSec: timeSec };
    if (!checkAction(action, scenario.guard, s.guardState, ctx).ok) {
      c.guardBlocked++;
      continue;
    }
    if (execute(action, priceE8, scenario, pp, track, s, c)) {
      s.guardState = recordAction(s.guardState, action, ctx);
      if (action.kind === 'adjustHedge') hedged = true;
    }
  }
  // plan() returns the state as if its hedge ran; keep the old one when it did not.
  if (hedged) s.policyState = planned.state;
  return policy.bandMode === 'time' ? refBandWei : a.bandWei;
}

function execute(action: Action, priceE8: bigint, scenario: BacktestScenario, pp: PerpParams, track: MarketTrack, s: RunState, c: PolicyCounters): boolean {
  if (action.kind === 'topUp') {
    if (action.amountUnits > s.usdcUnits) return false;
    s.usdcUnits -= action.amountUnits;
    s.fundingSettledUnits += depositMargin(s.perp, action.amountUnits);
    s.gasUnits += gasCostUnits(scenario.gas.topUp, track.gasPriceWei, priceE8);
    c.topUps++;
    c.toppedUpUsd += toUsd(action.amountUnits);
    return true;
  }
  const fill = fillPriceE8(priceE8, action.sizeDeltaWei, scenario.slippageBps);
  const r = tradePerp(s.perp, pp, action.sizeDeltaWei, fill);
  if (r.status === 'revert') {
    // The keeper simulates before sending: a trade the exchange would revert costs no gas.
    c.venueRejected++;
    return false;
  }
  s.feeUnits += r.feeUnits;
  s.fundingSettledUnits += r.fundingPaidUnits;
  s.slippageUnits += ceilDiv(absBig(action.sizeDeltaWei) * absBig(fill - priceE8), SIZE_PRICE_TO_UNITS);
  s.gasUnits += gasCostUnits(scenario.gas.hedgeTrade, track.gasPriceWei, priceE8);
  c.trades++;
  c.tradedEth += toEth(absBig(action.sizeDeltaWei));
  return true;
}

function costUnits(s: RunState): bigint {
  return s.feeUnits + s.slippageUnits + s.gasUnits + s.fundingSettledUnits + pendingFundingUnits(s.perp) + s.penaltyUnits;
}

function costTotals(s: RunState): CostTotals {
  return {
    feesUsd: toUsd(s.feeUnits),
    slippageUsd: toUsd(s.slippageUnits),
    gasUsd: toUsd(s.gasUnits),
    fundingUsd: toUsd(s.fundingSettledUnits + pendingFundingUnits(s.perp)),
    penaltyUsd: toUsd(s.penaltyUnits),
    totalUsd: toUsd(costUnits(s)),
  };
}

/**
 * Portfolio value: wallet + LP (principal and fees) + perp account value (an isolated account
 * cannot be worth less than 0 to its owner) - gas spent (the gas tank is refilled at market)
 * - capital brought in from outside (a flow, not a gain), so its changes are P&L.
 */
function portfolioValueUnits(track: MarketTrack, i: number, s: RunState): bigint {
  const { priceE8 } = track.path.steps[i]!;
  const baseWei = s.wethWei + track.lpBaseWei[i]!;
  const perpValue = accountValueUnits(s.perp, priceE8);
  return s.usdcUnits + (baseWei * priceE8) / SIZE_PRICE_TO_UNITS + track.lpQuoteUnits[i]! + track.lpFeesUnits[i]! +
    (perpValue > 0n ? perpValue : 0n) - s.gasUnits - s.externalInflowUnits;
}

function addSample(st: TickPnlStats, x: number): void {
  st.n++;
  const d = x - st.mean;
  st.mean += d / st.n;
  st.m2 += d * (x - st.mean);
}

function recordClose(track: MarketTrack, i: number, s: RunState, out: PolicySeries, k: number, bandWei: bigint, valueUsd: number): void {
  const { timeSec, priceE8 } = track.path.steps[i]!;
  out.timeSec[k] = timeSec;
  out.valueUsd[k] = valueUsd;
  out.netDeltaEth[k] = toEth(s.wethWei + track.lpBaseWei[i]! + s.perp.sizeWei);
  const ratio = marginRatioE18(accountValueUnits(s.perp, priceE8), s.perp.sizeWei, priceE8);
  out.marginRatio[k] = ratio >= MAX_UINT256 ? Infinity : Number(ratio) / 1e18;
  out.bandEth[k] = toEth(bandWei);
  out.cumCostUsd[k] = toUsd(costUnits(s));
}
