import type { AssetId, Portfolio, PortfolioAction, VenueId } from '../../portfolio/model.js';
import type { GuardVerdict } from '../types.js';
import { absBig, ceilDiv, fixedToString, maxBig } from '../format.js';
import { utcDay, type TopUpAllowance } from '../guard.js';
import { fmtUnits, pow10 } from './exposure.js';

/**
 * Deny-by-default checks on every portfolio action, independent of the planner: per-action caps
 * (trade size per asset, top-up per venue) and per-UTC-day budgets (hedge notional per asset in
 * USD at the asset's price, quote added per venue). Collateral moved between venues counts
 * against the receiving venue's top-up budget: to that venue it is new money all the same.
 */

export interface PortfolioGuardState {
  /** UTC day number the counters belong to. */
  readonly day: number;
  readonly notionalByAssetUsdE8: Readonly<Record<AssetId, bigint>>;
  readonly topUpByVenueUnits: Readonly<Record<VenueId, bigint>>;
}

export interface PortfolioGuardContext {
  /** Unix seconds; counters reset at 00:00 UTC. */
  readonly nowSec: number;
  /** Prices that value hedge notional, USD E8 per whole token. */
  readonly pricesE8: Readonly<Record<AssetId, bigint>>;
}

export function initialPortfolioGuardState(nowSec: number): PortfolioGuardState {
  return { day: utcDay(nowSec), notionalByAssetUsdE8: {}, topUpByVenueUnits: {} };
}

/** Hedge notional of `asset` already traded on the day of nowSec (0 when the state is from an earlier day). */
export function assetNotionalTodayUsdE8(state: PortfolioGuardState, asset: AssetId, nowSec: number): bigint {
  return state.day === utcDay(nowSec) ? (state.notionalByAssetUsdE8[asset] ?? 0n) : 0n;
}

/** Quote added to `venue` on the day of nowSec (top-ups and collateral moved in). */
export function venueTopUpTodayUnits(state: PortfolioGuardState, venue: VenueId, nowSec: number): bigint {
  return state.day === utcDay(nowSec) ? (state.topUpByVenueUnits[venue] ?? 0n) : 0n;
}

/** The most one top-up (or collateral move) into `venue` may add now: per-action cap or what is left today. */
export function topUpAllowanceFor(venue: VenueId, portfolio: Portfolio, state: PortfolioGuardState, nowSec: number): TopUpAllowance {
  const spec = portfolio.venues.find((v) => v.id === venue);
  if (spec === undefined) return { units: 0n, limitedBy: `unknown venue ${venue}` };
  const { maxTopUpUnits, maxTopUpPerDayUnits } = spec.collateral;
  const left = maxBig(maxTopUpPerDayUnits - venueTopUpTodayUnits(state, venue, nowSec), 0n);
  const q = portfolio.quote;
  // Reasons are read only when a top-up is clipped: built on demand, not every tick.
  if (left < maxTopUpUnits) {
    return {
      units: left,
      get limitedBy() {
        return `the daily top-up cap of ${venue} (${fmtUnits(left, q.decimals, q.id)} left of ${fmtUnits(maxTopUpPerDayUnits, q.decimals, q.id)})`;
      },
    };
  }
  return {
    units: maxTopUpUnits,
    get limitedBy() {
      return `the per-action top-up cap of ${venue} ${fmtUnits(maxTopUpUnits, q.decimals, q.id)}`;
    },
  };
}

/** Allowances of every venue, for planPortfolio's opts. */
export function topUpAllowances(portfolio: Portfolio, state: PortfolioGuardState, nowSec: number): Record<VenueId, TopUpAllowance> {
  const out: Record<VenueId, TopUpAllowance> = {};
  for (const v of portfolio.venues) out[v.id] = topUpAllowanceFor(v.id, portfolio, state, nowSec);
  return out;
}

/** Notional counted against a budget: rounded up, so no trade, however small, is free. */
function notionalUsdE8(sizeUnits: bigint, priceE8: bigint, decimals: number): bigint {
  return priceE8 <= 0n ? 0n : ceilDiv(sizeUnits * priceE8, pow10(decimals));
}

function fmtUsdE8(usdE8: bigint): string {
  return `$${fixedToString(usdE8, 8, 2)}`;
}

export function checkPortfolioAction(
  action: PortfolioAction,
  portfolio: Portfolio,
  state: PortfolioGuardState,
  ctx: PortfolioGuardContext,
): GuardVerdict {
  switch (action.kind) {
    case 'adjustHedge':
      return checkHedge(action, portfolio, state, ctx);
    case 'topUp':
      if (!portfolio.venues.some((v) => v.id === action.venue)) return { ok: false, reason: `top-up to unknown venue ${action.venue}` };
      return checkInflow(action.venue, action.amountUnits, portfolio, state, ctx, 'top-up');
    case 'moveCollateral': {
      if (!portfolio.venues.some((v) => v.id === action.from)) return { ok: false, reason: `collateral move from unknown venue ${action.from}` };
      if (!portfolio.venues.some((v) => v.id === action.to)) return { ok: false, reason: `collateral move to unknown venue ${action.to}` };
      if (action.from === action.to && action.fromAsset === action.toAsset) {
        return { ok: false, reason: `collateral move from ${action.from} to the same bucket` };
      }
      return checkInflow(action.to, action.amountUnits, portfolio, state, ctx, 'collateral move');
    }
    default:
      return { ok: false, reason: `unknown action kind ${String((action as { kind?: unknown }).kind)}` };
  }
}

function checkInflow(
  venue: VenueId,
  amountUnits: bigint,
  portfolio: Portfolio,
  state: PortfolioGuardState,
  ctx: PortfolioGuardContext,
  what: string,
): GuardVerdict {
  const spec = portfolio.venues.find((v) => v.id === venue)!;
  const q = portfolio.quote;
  const fmt = (u: bigint) => fmtUnits(u, q.decimals, q.id);
  if (amountUnits <= 0n) return { ok: false, reason: `${what} amount ${fmt(amountUnits)} is not positive` };
  const { maxTopUpUnits, maxTopUpPerDayUnits } = spec.collateral;
  if (amountUnits > maxTopUpUnits) {
    return { ok: false, reason: `${what} ${fmt(amountUnits)} into ${venue} exceeds its per-action cap ${fmt(maxTopUpUnits)}` };
  }
  const spent = venueTopUpTodayUnits(state, venue, ctx.nowSec);
  if (spent + amountUnits > maxTopUpPerDayUnits) {
    return {
      ok: false,
      reason: `${what} ${fmt(amountUnits)} + ${fmt(spent)} already added to ${venue} today exceeds its daily cap ${fmt(maxTopUpPerDayUnits)}`,
    };
  }
  return { ok: true };
}

function checkHedge(
  action: Extract<PortfolioAction, { kind: 'adjustHedge' }>,
  portfolio: Portfolio,
  state: PortfolioGuardState,
  ctx: PortfolioGuardContext,
): GuardVerdict {
  const asset = portfolio.assets.find((a) => a.id === action.asset);
  const policy = portfolio.policy.assets[action.asset];
  if (asset === undefined || policy === undefined) return { ok: false, reason: `hedge of unknown asset ${action.asset}` };
  const inst = portfolio.instruments.find((i) => i.id === action.instrument);
  if (inst === undefined || inst.venue !== action.venue || inst.asset !== action.asset) {
    return { ok: false, reason: `instrument ${action.instrument} does not carry ${action.asset} on ${action.venue}` };
  }
  const size = absBig(action.sizeDeltaUnits);
  if (size === 0n) return { ok: false, reason: 'hedge trade of zero size' };
  // Full precision: a refusal by one unit must show that unit.
  const exact = (u: bigint) => `${fixedToString(u, asset.decimals, asset.decimals)} ${asset.id}`;
  if (size > policy.maxTradeUnits) {
    return { ok: false, reason: `trade ${exact(size)} exceeds the per-trade cap ${exact(policy.maxTradeUnits)}` };
  }
  const priceE8 = ctx.pricesE8[action.asset] ?? 0n;
  if (priceE8 <= 0n) return { ok: false, reason: `no usable price (${priceE8}) to value the ${action.asset} trade` };
  const notional = notionalUsdE8(size, priceE8, asset.decimals);
  const spent = assetNotionalTodayUsdE8(state, action.asset, ctx.nowSec);
  if (spent + notional > policy.maxNotionalPerDayUsdE8) {
    return {
      ok: false,
      reason:
        `${action.asset} trade notional ${fmtUsdE8(notional)} + ${fmtUsdE8(spent)} already traded today ` +
        `exceeds the daily cap ${fmtUsdE8(policy.maxNotionalPerDayUsdE8)}`,
    };
  }
  return { ok: true };
}

/** Count an executed (or pending) action against today's budgets. */
export function recordPortfolioAction(
  state: PortfolioGuardState,
  action: PortfolioAction,
  portfolio: Portfolio,
  ctx: PortfolioGuardContext,
): PortfolioGuardState {
  const today = utcDay(ctx.nowSec);
  const fresh = state.day === today ? state : initialPortfolioGuardState(ctx.nowSec);
  switch (action.kind) {
    case 'adjustHedge': {
      const decimals = portfolio.assets.find((a) => a.id === action.asset)?.decimals;
      if (decimals === undefined) return fresh;
      const usd = notionalUsdE8(absBig(action.sizeDeltaUnits), ctx.pricesE8[action.asset] ?? 0n, decimals);
      const prev = fresh.notionalByAssetUsdE8[action.asset] ?? 0n;
      return { ...fresh, notionalByAssetUsdE8: { ...fresh.notionalByAssetUsdE8, [action.asset]: prev + usd } };
    }
    case 'topUp':
    case 'moveCollateral': {
      const venue = action.kind === 'topUp' ? action.venue : action.to;
      const prev = fresh.topUpByVenueUnits[venue] ?? 0n;
      return { ...fresh, topUpByVenueUnits: { ...fresh.topUpByVenueUnits, [venue]: prev + action.amountUnits } };
    }
    default:
      return fresh;
  }
}
