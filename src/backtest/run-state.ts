import type { Action, GuardState, PolicyState } from '../core/types.js';
import { initialGuardState } from '../core/guard.js';
import { initialPolicyState, targetHedgeWei } from '../core/policy.js';
import { absBig, ceilDiv } from '../core/format.js';
import type { EpisodeTrack, MarketTrack } from './market.js';
import { createPerpState, depositMargin, notionalUnits, pendingFundingUnits, tradePerp, type PerpParams, type PerpState } from './perp-model.js';
import type { BacktestScenario, PolicySpec } from './policies.js';

/**
 * The state of one policy in one episode (wallet, perp account, the keeper's policy and guard
 * state) and the actions carried out on the models, with the running totals every figure of
 * the report is made of. Amounts are bigint; they become floats only in the recorded series.
 */

const SIZE_PRICE_TO_UNITS = 10n ** 20n;

/** Totals over all episodes, USDC units (counts as numbers). */
export interface Totals {
  feeUnits: bigint;
  slippageUnits: bigint;
  gasUnits: bigint;
  /** Funding settled (paid > 0); the pending part is added at each episode's end. */
  fundingUnits: bigint;
  penaltyUnits: bigint;
  depositUnits: bigint;
  badDebtUnits: bigint;
  trades: number;
  tradedWei: bigint;
  topUps: number;
  liquidations: number;
  guardBlocked: number;
  venueRejected: number;
  /** Ticks where the keeper ran assess -> plan -> guard (the others provably plan nothing). */
  plannedTicks: number;
  ticksOutsideBand: number;
  ticks: number;
}

export function newTotals(): Totals {
  return {
    feeUnits: 0n, slippageUnits: 0n, gasUnits: 0n, fundingUnits: 0n, penaltyUnits: 0n, depositUnits: 0n, badDebtUnits: 0n,
    trades: 0, tradedWei: 0n, topUps: 0, liquidations: 0, guardBlocked: 0, venueRejected: 0, plannedTicks: 0, ticksOutsideBand: 0, ticks: 0,
  };
}

export interface RunState {
  wethWei: bigint;
  usdcUnits: bigint;
  perp: PerpState;
  policyState: PolicyState;
  guardState: GuardState;
  lastRebalanceSec: number | null;
  /** Gas spent in this episode (the gas tank is refilled at market: a cost in the value). */
  gasUnits: bigint;
  /** LP refills brought in from outside in this episode (a flow, not a gain). */
  externalInflowUnits: bigint;
}

export function initialState(track: MarketTrack, et: EpisodeTrack, spec: PolicySpec, scenario: BacktestScenario): RunState {
  const first = track.path.steps[et.start]!;
  const wethWei = BigInt(Math.round(scenario.walletWethEth * 1e6)) * 10n ** 12n;
  const perp = createPerpState(first.timeSec);
  if (spec.kind !== 'unhedged') {
    // Start hedged at target with the margin at its target ratio, so no policy pays for the setup.
    perp.sizeWei = targetHedgeWei(spec.policy, wethWei + et.lpBaseWei[0]!);
    perp.entryPriceE8 = first.priceE8;
    perp.marginUnits = perp.sizeWei === 0n ? 0n : ceilDiv(spec.policy.marginTargetE18 * notionalUnits(perp.sizeWei, first.priceE8), 10n ** 18n);
  }
  return {
    wethWei, usdcUnits: BigInt(Math.floor(scenario.walletUsdc * 1e6)), perp, policyState: initialPolicyState(),
    // The start is a rebalance to target: time policies count their slots from it.
    guardState: initialGuardState(first.timeSec), lastRebalanceSec: first.timeSec, gasUnits: 0n, externalInflowUnits: 0n,
  };
}

/** Fill price of a hedge trade: worse than the oracle by slippageBps, rounded against the trader. */
export function fillPriceE8(priceE8: bigint, sizeDeltaWei: bigint, slippageBps: number): bigint {
  const bpsE2 = BigInt(Math.round(slippageBps * 100));
  return sizeDeltaWei > 0n ? ceilDiv(priceE8 * (1_000_000n + bpsE2), 1_000_000n) : (priceE8 * (1_000_000n - bpsE2)) / 1_000_000n;
}

/**
 * Carry out one guarded action on the models. Returns null when it ran, else why the chain
 * would have refused it (nothing changed, no gas: the keeper simulates before sending).
 */
export function execute(action: Action, i: number, track: MarketTrack, scenario: BacktestScenario, pp: PerpParams, s: RunState, t: Totals): string | null {
  const { priceE8 } = track.path.steps[i]!;
  if (action.kind === 'topUp') {
    if (action.amountUnits > s.usdcUnits) return `ERC20InsufficientBalance(${s.usdcUnits}, ${action.amountUnits})`;
    s.usdcUnits -= action.amountUnits;
    t.fundingUnits += depositMargin(s.perp, action.amountUnits);
    t.depositUnits += action.amountUnits;
    const gas = track.txCostUnits('topUp', i);
    s.gasUnits += gas;
    t.gasUnits += gas;
    t.topUps++;
    return null;
  }
  const fill = fillPriceE8(priceE8, action.sizeDeltaWei, scenario.slippageBps);
  const r = tradePerp(s.perp, pp, action.sizeDeltaWei, fill);
  if (r.status === 'revert') {
    // The keeper simulates before sending: a trade the exchange would revert costs no gas.
    t.venueRejected++;
    return r.reason;
  }
  const size = absBig(action.sizeDeltaWei);
  t.feeUnits += r.feeUnits;
  t.fundingUnits += r.fundingPaidUnits;
  t.slippageUnits += ceilDiv(size * absBig(fill - priceE8), SIZE_PRICE_TO_UNITS);
  const gas = track.txCostUnits('hedgeTrade', i);
  s.gasUnits += gas;
  t.gasUnits += gas;
  t.trades++;
  t.tradedWei += size;
  return null;
}

/**
 * An LP recentered to its notional after a rally sends its surplus to the wallet: that surplus
 * is the LP's gain that mirrors the hedge's loss, so it funds the margin top-ups. A shortfall
 * after a fall is refilled from outside (counted as inflow): taking it from the wallet would
 * drain the margin reserve while the hedge's matching gain sits in the perp account, which the
 * keeper never withdraws.
 */
export function settleLpFlow(inflowUnits: bigint, s: RunState): void {
  if (inflowUnits < 0n) s.usdcUnits -= inflowUnits;
  else s.externalInflowUnits += inflowUnits;
}

/** The perp account's worth to its owner: an isolated account cannot be worth less than 0. */
export function perpWorthUnits(accountValueUnits: bigint): bigint {
  return accountValueUnits > 0n ? accountValueUnits : 0n;
}

/**
 * Portfolio value: wallet + LP (principal and fees) + perp account - gas spent - capital
 * brought in from outside, so its changes are P&L.
 */
export function portfolioValueUnits(track: MarketTrack, et: EpisodeTrack, j: number, s: RunState, perpValueUnits: bigint): bigint {
  const { priceE8 } = track.path.steps[et.start + j]!;
  const baseWei = s.wethWei + et.lpBaseWei[j]!;
  return s.usdcUnits + (baseWei * priceE8) / SIZE_PRICE_TO_UNITS + et.lpQuoteUnits[j]! + et.lpFeesUnits[j]! +
    perpWorthUnits(perpValueUnits) - s.gasUnits - s.externalInflowUnits;
}

/** Costs so far: settled totals plus the funding this episode's position owes but has not settled. */
export function costUnits(t: Totals, s: RunState | null): bigint {
  return t.feeUnits + t.slippageUnits + t.gasUnits + t.fundingUnits + t.penaltyUnits + (s ? pendingFundingUnits(s.perp) : 0n);
}
