import type { Action, Address, GuardPolicy, GuardState, GuardVerdict } from './types.js';
import { absBig, e8ToDecimal, fmtUsdc, maxBig, weiToDecimal, weiToUsdE8 } from './format.js';

/**
 * Deny-by-default checks on each action, independent of the planner: whatever plan() computed,
 * an action only passes if every rule explicitly accepts it. Unknown kinds, non-positive sizes
 * and missing prices are refused.
 */

const SECONDS_PER_DAY = 86_400;

export interface GuardContext {
  /** Oracle price used to value hedge notional, 8 decimals. */
  priceE8: bigint;
  /** Unix seconds; the daily counters (notional, top-ups) reset at 00:00 UTC. */
  nowSec: number;
}

export function utcDay(nowSec: number): number {
  return Math.floor(nowSec / SECONDS_PER_DAY);
}

export function initialGuardState(nowSec: number): GuardState {
  return { day: utcDay(nowSec), notionalTodayUsdE8: 0n, topUpTodayUnits: 0n };
}

/** Notional already spent on the day of nowSec (0 when the state belongs to an earlier day). */
export function notionalSpentTodayUsdE8(state: GuardState, nowSec: number): bigint {
  return state.day === utcDay(nowSec) ? state.notionalTodayUsdE8 : 0n;
}

/** USDC already topped up on the day of nowSec (0 when the state belongs to an earlier day). */
export function topUpSpentTodayUnits(state: GuardState, nowSec: number): bigint {
  return state.day === utcDay(nowSec) ? (state.topUpTodayUnits ?? 0n) : 0n;
}

/** The most one top-up may add now, and which cap sets it (for the plan's reasons). */
export interface TopUpAllowance {
  units: bigint;
  limitedBy: string;
}

/**
 * What the planner may size a top-up to: the per-action cap, or what is left of the daily cap
 * when that is less. The planner clips to it, so the guard's refusal is the backstop, not the rule.
 */
export function topUpAllowance(policy: GuardPolicy, state: GuardState, nowSec: number): TopUpAllowance {
  const left = maxBig(policy.maxTopUpPerDayUnits - topUpSpentTodayUnits(state, nowSec), 0n);
  if (left < policy.maxTopUpUnits) {
    return {
      units: left,
      limitedBy: `the daily top-up cap (${fmtUsdc(left)} left of ${fmtUsdc(policy.maxTopUpPerDayUnits)}, MAX_TOPUP_PER_DAY_USDC)`,
    };
  }
  return { units: policy.maxTopUpUnits, limitedBy: `the per-action cap ${fmtUsdc(policy.maxTopUpUnits)} (MAX_TOPUP_USDC)` };
}

/** Full precision: a refusal by one wei must show that wei. */
function exactEth(wei: bigint): string {
  return `${weiToDecimal(wei).toFixed()} ETH`;
}

function fmtUsdE8(usdE8: bigint): string {
  return `$${e8ToDecimal(usdE8).toFixed(2)}`;
}

export function checkAction(
  action: Action,
  policy: GuardPolicy,
  state: GuardState,
  ctx: GuardContext,
): GuardVerdict {
  switch (action.kind) {
    case 'topUp':
      return checkTopUp(action.amountUnits, policy, state, ctx);
    case 'adjustHedge':
      return checkHedge(action.sizeDeltaWei, policy, state, ctx);
    default:
      return { ok: false, reason: `unknown action kind ${String((action as { kind?: unknown }).kind)}` };
  }
}

function checkTopUp(amountUnits: bigint, policy: GuardPolicy, state: GuardState, ctx: GuardContext): GuardVerdict {
  if (amountUnits <= 0n) return { ok: false, reason: `top-up amount ${fmtUsdc(amountUnits)} is not positive` };
  if (amountUnits > policy.maxTopUpUnits) {
    return {
      ok: false,
      reason: `top-up ${fmtUsdc(amountUnits)} exceeds the per-action cap ${fmtUsdc(policy.maxTopUpUnits)} (MAX_TOPUP_USDC)`,
    };
  }
  // Deny by default: a policy object built without the daily cap allows no top-up.
  if (typeof policy.maxTopUpPerDayUnits !== 'bigint') {
    return { ok: false, reason: 'no daily top-up cap in the guard policy (maxTopUpPerDayUnits, MAX_TOPUP_PER_DAY_USDC)' };
  }
  const spentUnits = topUpSpentTodayUnits(state, ctx.nowSec);
  if (spentUnits + amountUnits > policy.maxTopUpPerDayUnits) {
    return {
      ok: false,
      reason:
        `top-up ${fmtUsdc(amountUnits)} + ${fmtUsdc(spentUnits)} already topped up today ` +
        `exceeds the daily cap ${fmtUsdc(policy.maxTopUpPerDayUnits)} (MAX_TOPUP_PER_DAY_USDC)`,
    };
  }
  return { ok: true };
}

function checkHedge(sizeDeltaWei: bigint, policy: GuardPolicy, state: GuardState, ctx: GuardContext): GuardVerdict {
  const sizeWei = absBig(sizeDeltaWei);
  if (sizeWei === 0n) return { ok: false, reason: 'hedge trade of zero size' };
  if (ctx.priceE8 <= 0n) return { ok: false, reason: `no usable oracle price (${ctx.priceE8}) to value the trade` };
  if (sizeWei > policy.maxTradeWei) {
    return { ok: false, reason: `trade ${exactEth(sizeWei)} exceeds the per-trade cap ${exactEth(policy.maxTradeWei)}` };
  }
  const notionalUsdE8 = weiToUsdE8(sizeWei, ctx.priceE8);
  const spentUsdE8 = notionalSpentTodayUsdE8(state, ctx.nowSec);
  if (spentUsdE8 + notionalUsdE8 > policy.maxNotionalPerDayUsdE8) {
    return {
      ok: false,
      reason:
        `trade notional ${fmtUsdE8(notionalUsdE8)} + ${fmtUsdE8(spentUsdE8)} already traded today ` +
        `exceeds the daily cap ${fmtUsdE8(policy.maxNotionalPerDayUsdE8)}`,
    };
  }
  return { ok: true };
}

/** Count an executed action against today's budgets: hedge notional, top-up USDC. */
export function recordAction(state: GuardState, action: Action, ctx: GuardContext): GuardState {
  const notional = notionalSpentTodayUsdE8(state, ctx.nowSec);
  const toppedUp = topUpSpentTodayUnits(state, ctx.nowSec);
  return {
    day: utcDay(ctx.nowSec),
    notionalTodayUsdE8: notional + (action.kind === 'adjustHedge' ? weiToUsdE8(absBig(action.sizeDeltaWei), ctx.priceE8) : 0n),
    topUpTodayUnits: toppedUp + (action.kind === 'topUp' ? action.amountUnits : 0n),
  };
}

/** Contracts and the functions the keeper may call on each (checked by the executor). */
export type CallAllowList = ReadonlyArray<{ target: Address; functions: readonly string[] }>;

/** True only when target (case-insensitive) is listed and functionName is listed for it. */
export function isAllowedCall(target: string, functionName: string, allowList: CallAllowList): boolean {
  const t = target.toLowerCase();
  return allowList.some((entry) => entry.target.toLowerCase() === t && entry.functions.includes(functionName));
}
