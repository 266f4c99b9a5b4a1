import type { AssetId, Portfolio, VenueId } from '../../portfolio/model.js';
import { absBig, maxBig, minBig } from '../format.js';
import { deltaGammaNormalVar, normalScenarios } from '../risk/portfolio-var.js';
import type { PortfolioAssessment } from './assess.js';
import { unitsToUsdE8 } from './exposure.js';
import type { RiskCovariance } from './proxy.js';

/**
 * The portfolio-level rebalancing threshold (issue 12, item 3): when the residual 1-day 99% VaR
 * exceeds `policy.varLimitUsd`, even with every asset inside its band, trade the assets whose
 * trades remove the most VaR per dollar of notional, greedily, until the VaR is under the limit
 * or no trade lowers it. Pure: the risk engine's figures come in as `PlanRiskInput`.
 *
 * Candidates: each asset with instruments of its own, moved toward its target hedge (so the
 * per-asset bands never undo a VaR trade) in quarters of its remaining deviation (at least its
 * minTrade): the greedy then takes the cheap first part of several assets before the dear tail of
 * one. The VaR of a candidate is the risk engine's delta-gamma normal VaR (deltaGammaNormalVar on
 * the same covariance, gamma and fixed scenarios), scaled by the engine's reported VaR over that
 * model's VaR of today's position: the same figure before the FHS model warms up, and its ratio to
 * the FHS figure after (the planner has no daily history to rerun the FHS on).
 */

export interface PlanRiskInput {
  readonly covariance: RiskCovariance;
  /** Net delta per asset, USD per unit log return, in covariance.assets order. */
  readonly deltaUsd: readonly number[];
  /** LP gamma, USD per unit log return squared (null: none in range). */
  readonly gammaUsd: readonly (readonly number[])[] | null;
  /** The engine's reported 1-day 99% VaR of the current position, USD. */
  readonly var99Usd: number;
}

export interface VarLimitTrade {
  readonly asset: AssetId;
  /** Signed hedge change, asset units (< 0 shorts more). */
  readonly units: bigint;
  readonly notionalUsd: number;
  readonly varRemovedUsd: number;
}

export interface VarLimitDecision {
  readonly limitUsd: number;
  /** The reported VaR, after the band trades already planned this tick. */
  readonly varBeforeUsd: number;
  /** Predicted after the trades below. */
  readonly varAfterUsd: number;
  /** One per asset, in the order the greedy first picked them. */
  readonly trades: readonly VarLimitTrade[];
  /** The trades bring it under the limit. */
  readonly reachable: boolean;
}

export interface VarLimitInput {
  readonly assessment: PortfolioAssessment;
  readonly portfolio: Portfolio;
  readonly risk: PlanRiskInput;
  readonly limitUsd: number;
  /** Hedge changes already planned this tick, per asset. */
  readonly plannedUnits?: Readonly<Record<AssetId, bigint>>;
  /** Assets that take no VaR trade (already hedged this tick, doubted, held). */
  readonly excluded?: ReadonlySet<AssetId>;
}

const CONFIDENCE = 0.99;
const CHUNKS = 4n;

/** null when the VaR (after the planned trades) is within the limit. */
export function varLimitTrades(input: VarLimitInput): VarLimitDecision | null {
  const { assessment: a, portfolio, risk } = input;
  const ids = risk.covariance.assets;
  const scenarios = normalScenarios(ids.length);
  const model = (d: readonly number[]) => deltaGammaNormalVar(d, risk.gammaUsd, risk.covariance.dailyCovariance, CONFIDENCE, scenarios).varUsd;
  const base = model(risk.deltaUsd);
  const scale = base > 0 && risk.var99Usd > 0 ? risk.var99Usd / base : 1;
  const varOf = (d: readonly number[]) => scale * model(d);
  const usdOf = (asset: AssetId, units: bigint): number => {
    const x = a.assets.find((y) => y.asset === asset)!;
    return Number(unitsToUsdE8(units, x.priceE8, x.decimals)) / 1e8;
  };
  const delta = [...risk.deltaUsd];
  for (const [asset, units] of Object.entries(input.plannedUnits ?? {})) {
    const i = ids.indexOf(asset);
    if (i >= 0) delta[i]! += usdOf(asset, units);
  }
  const before = Object.keys(input.plannedUnits ?? {}).length > 0 ? varOf(delta) : risk.var99Usd;
  if (!(before > input.limitUsd)) return null;

  const cands = a.assets.flatMap((x) => {
    const i = ids.indexOf(x.asset);
    const policy = portfolio.policy.assets[x.asset];
    if (i < 0 || !policy || x.proxied || input.excluded?.has(x.asset) || x.priceE8 <= 0n) return [];
    if (!portfolio.instruments.some((inst) => inst.asset === x.asset)) return [];
    const left = -(x.deviationUnits + (input.plannedUnits?.[x.asset] ?? 0n));
    if (left === 0n) return [];
    const chunk = minBig(maxBig(absBig(left) / CHUNKS, policy.minTradeUnits), absBig(left));
    return [{ asset: x.asset, i, left, chunk, taken: 0n, removed: 0 }];
  });
  let cur = before;
  const order: string[] = [];
  while (cur > input.limitUsd) {
    let best: { c: (typeof cands)[number]; step: bigint; v: number; score: number } | null = null;
    for (const c of cands) {
      if (c.left === 0n) continue;
      const step = c.left < 0n ? -minBig(c.chunk, -c.left) : minBig(c.chunk, c.left);
      const notional = Math.abs(usdOf(c.asset, step));
      if (!(notional > 0)) continue;
      const d = [...delta];
      d[c.i]! += usdOf(c.asset, step);
      const v = varOf(d);
      const score = (cur - v) / notional;
      if (score > 1e-12 && (best === null || score > best.score)) best = { c, step, v, score };
    }
    if (best === null) break;
    best.c.left -= best.step;
    best.c.taken += best.step;
    best.c.removed += cur - best.v;
    delta[best.c.i]! += usdOf(best.c.asset, best.step);
    cur = best.v;
    if (!order.includes(best.c.asset)) order.push(best.c.asset);
  }
  const trades = order.map((id) => {
    const c = cands.find((x) => x.asset === id)!;
    return { asset: id, units: c.taken, notionalUsd: Math.abs(usdOf(id, c.taken)), varRemovedUsd: c.removed };
  });
  return { limitUsd: input.limitUsd, varBeforeUsd: before, varAfterUsd: cur, trades, reachable: cur <= input.limitUsd };
}

/**
 * The planner's use of varLimitTrades: the hedge changes already planned this tick (per venue and
 * asset) count first; each trade comes with the reason its actions carry, and a note when the
 * limit is exceeded and no trade lowers it.
 */
export function varLimitPlan(
  input: Omit<VarLimitInput, 'plannedUnits'>, pending: ReadonlyMap<VenueId, Readonly<Record<AssetId, bigint>>>,
): { decision: VarLimitDecision; trades: Array<{ asset: AssetId; wanted: bigint; where: string }>; note: string | null } | null {
  const plannedUnits: Record<AssetId, bigint> = {};
  for (const byAsset of pending.values()) for (const [id, u] of Object.entries(byAsset)) plannedUnits[id] = (plannedUnits[id] ?? 0n) + u;
  const decision = varLimitTrades({ ...input, plannedUnits });
  if (decision === null) return null;
  const head = `portfolio VaR ${fmtUsd(decision.varBeforeUsd)} above the limit ${fmtUsd(decision.limitUsd)}`;
  const tail = decision.reachable ? '' : ', still above the limit: no other trade lowers it';
  return {
    decision,
    trades: decision.trades.map((t) => ({
      asset: t.asset,
      wanted: t.units,
      where: `${head}: ${t.asset} removes ${fmtUsd(t.varRemovedUsd)} of VaR for ${fmtUsd(t.notionalUsd)} traded (VaR to ${fmtUsd(decision.varAfterUsd)}${tail})`,
    })),
    note: decision.trades.length === 0 ? `${head}: no trade toward any asset's target lowers it` : null,
  };
}

/** "$1234.56" */
export function fmtUsd(x: number): string {
  return `$${x.toFixed(2)}`;
}
