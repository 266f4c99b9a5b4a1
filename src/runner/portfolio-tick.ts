import type { Logger } from 'pino';
import { assessPortfolio, type ModelOf, type PortfolioAssessment } from '../core/portfolio/assess.js';
import { planPortfolio, type PortfolioPlan, type PortfolioPolicyState } from '../core/portfolio/plan.js';
import { checkPortfolioAction, recordPortfolioAction, topUpAllowances, type PortfolioGuardState } from '../core/portfolio/guard.js';
import { fmtUnits, unitsToUsdE8 } from '../core/portfolio/exposure.js';
import { fixedToString, fmtRatioE18, MAX_UINT256 } from '../core/format.js';
import type { AssetId, Portfolio, PortfolioAction, PortfolioSnapshot } from '../portfolio/model.js';
import type { TxOutcome } from '../chain/executor.js';
import { describeOutcome, type ActionResult } from './tick.js';
import type { Gate } from './keeper-shell.js';
import type { PortfolioDoubts } from './portfolio-sanity.js';
import { riskTickFields, type PortfolioRiskFigures } from './portfolio-risk.js';
import { dailyCovarianceOf, type ProxyHedge, type RiskCovariance } from '../core/portfolio/proxy.js';
import type { PlanRiskInput } from '../core/portfolio/var-limit.js';
import type { PnlTick } from './portfolio-pnl.js';

/**
 * One portfolio tick: read → assess → doubts → gate → plan → guard → execute, the same steps and
 * the same rules as the single-asset tick (runner/tick.ts), over every asset and venue at once.
 * Pure decisions, I/O through deps; the state advances only by what was done.
 */

export interface PortfolioRunnerState {
  policy: PortfolioPolicyState;
  guard: PortfolioGuardState;
}

export interface PortfolioTickDeps {
  portfolio: Portfolio;
  modelOf: ModelOf;
  readSnapshot(): Promise<PortfolioSnapshot>;
  execute(action: PortfolioAction, assessment: PortfolioAssessment, snapshot: PortfolioSnapshot): Promise<TxOutcome[]>;
  logger: Logger;
  /** What the keeper does not believe this tick (feeds, pools, venue accounts). Default: nothing. */
  checkSanity?(snapshot: PortfolioSnapshot): PortfolioDoubts;
  gate?(snapshot: PortfolioSnapshot): Gate;
  /** Today's spending, counted from the journal; default: kept in memory. */
  spentToday?(nowSec: number): PortfolioGuardState;
  beforeSend?(snapshot: PortfolioSnapshot): Promise<string | null>;
  /** Portfolio VaR/ES, vols, correlations (runner/portfolio-risk.ts): on the tick line and in the result. */
  riskFigures?(snapshot: PortfolioSnapshot, assessment: PortfolioAssessment): PortfolioRiskFigures;
  /** Where the money went since the previous tick (runner/portfolio-pnl.ts): `pnlUsd` on the tick line; null at the first. */
  attributePnl?(snapshot: PortfolioSnapshot): Promise<PnlTick | null>;
}

export interface PortfolioActionResult extends Omit<ActionResult, 'action'> {
  action: PortfolioAction;
}

export interface PortfolioTickResult {
  snapshot: PortfolioSnapshot;
  assessment: PortfolioAssessment;
  plan: PortfolioPlan;
  results: PortfolioActionResult[];
  state: PortfolioRunnerState;
  doubts: PortfolioDoubts;
  hold: string | null;
  stale: string | null;
  /** Absent without a riskFigures dep, or when it failed this tick. */
  risk?: PortfolioRiskFigures;
  /** The daily covariance the proxy hedges and the VaR limit were planned on (from `risk`); absent with `risk`. */
  covariance?: RiskCovariance;
  /** P&L attribution of the interval that ended at this snapshot; absent without attributePnl, at the first tick, or when it failed. */
  pnl?: PnlTick;
}

/** The risk engine's figures as the planner's covariance (per day, in the engine's asset order). */
export function riskCovarianceOf(f: PortfolioRiskFigures): RiskCovariance {
  return { assets: f.assets, dailyCovariance: dailyCovarianceOf(f.assets, f.volAnnual, f.correlation), source: f.covarianceSource };
}

/** The planner's view of the risk figures (var-limit.ts). */
export function planRiskOf(f: PortfolioRiskFigures, covariance: RiskCovariance): PlanRiskInput {
  return { covariance, deltaUsd: f.deltaUsd, gammaUsd: f.gammaUsd, var99Usd: f.var99Usd };
}

/** The tick line's proxy hedges: per proxied asset, h* per proxy and the residual's 1-day 99% VaR. */
function proxyTickFields(proxies: readonly ProxyHedge[] | undefined): Record<string, unknown> {
  if (!proxies?.length) return {};
  return {
    proxyHedges: Object.fromEntries(proxies.map((h) => [h.asset, {
      via: Object.fromEntries(h.legs.map((l) => [l.asset, Math.round(l.ratio * 1e4) / 1e4])),
      residualVar99Usd: Math.round(h.residualVar99Usd * 100) / 100,
      covariance: h.source,
    }])),
  };
}

const NO_DOUBTS: PortfolioDoubts = { portfolio: null, assets: {}, venues: {} };

/** The tick line's figures: per asset (delta, band, hedge) and per venue bucket (ratio). */
export function summarizePortfolio(a: PortfolioAssessment): Record<string, unknown> {
  const assets: Record<AssetId, unknown> = {};
  for (const x of a.assets) {
    const u = (v: bigint) => fixedToString(v, x.decimals, Math.min(x.decimals, 6));
    assets[x.asset] = {
      price: fixedToString(x.priceE8, 8, 2), spot: u(x.spotUnits), hedge: u(x.hedgeUnits), delta: u(x.netUnits),
      deviation: u(x.deviationUnits), band: u(x.bandUnits), inBand: x.inBand, deltaUsd: fixedToString(x.netUsdE8, 8, 2),
    };
  }
  const venues: Record<string, unknown> = {};
  for (const v of a.venues) {
    venues[v.venue] = Object.fromEntries(
      v.buckets.map((b) => [b.asset ?? 'account', {
        ratio: b.ratioE18 >= MAX_UINT256 ? 'none' : fmtRatioE18(b.ratioE18), trigger: fmtRatioE18(b.triggerE18), breached: b.breached,
        liquidationPrices: Object.fromEntries(Object.entries(b.liquidationPricesE8).map(([k, p]) => [k, p === null ? null : fixedToString(p, 8, 2)])),
      }]),
    );
  }
  return { block: a.blockNumber, assets, venues, netUsd: fixedToString(a.netUsdE8, 8, 2) };
}

/** Short text for a terminal: "ETH Δ+0.12/0.50 BTC Δ-0.003/0.02 | perp/ETH 0.2410 aave 1.5800". */
function shortLine(a: PortfolioAssessment): string {
  const assets = a.assets.map((x) => `${x.asset} dev ${fmtUnits(x.deviationUnits, x.decimals, '').trim()}/${fmtUnits(x.bandUnits, x.decimals, '').trim()}`);
  const venues = a.venues.flatMap((v) => v.buckets.map((b) => `${b.asset === null ? v.venue : `${v.venue}/${b.asset}`} ${b.ratioE18 >= MAX_UINT256 ? 'none' : fmtRatioE18(b.ratioE18)}`));
  return `${assets.join(' ')} | ${venues.join(' ')}`;
}

function logDoubtChanges(logger: Logger, before: PortfolioPolicyState, doubts: PortfolioDoubts): void {
  const was: Record<string, string> = {
    ...(before.safeMode ? { portfolio: before.safeMode.reason } : {}),
    ...Object.fromEntries(Object.entries(before.safeAssets ?? {}).map(([k, v]) => [`asset ${k}`, v])),
    ...Object.fromEntries(Object.entries(before.safeVenues ?? {}).map(([k, v]) => [`venue ${k}`, v])),
  };
  const now: Record<string, string> = {
    ...(doubts.portfolio ? { portfolio: doubts.portfolio } : {}),
    ...Object.fromEntries(Object.entries(doubts.assets).map(([k, v]) => [`asset ${k}`, v])),
    ...Object.fromEntries(Object.entries(doubts.venues).map(([k, v]) => [`venue ${k}`, v])),
  };
  for (const [scope, reason] of Object.entries(now)) {
    if (was[scope] === undefined) logger.warn({ event: 'safe_mode.entered', scope, reason }, `safe mode (${scope}): ${reason}`);
  }
  for (const [scope, reason] of Object.entries(was)) {
    if (now[scope] === undefined) logger.info({ event: 'safe_mode.left', scope, was: reason }, `safe mode left (${scope}): data is sane again`);
  }
}

/** A failure of the risk figures is logged and the tick goes on: they inform, they do not decide. */
function riskOf(deps: PortfolioTickDeps, snapshot: PortfolioSnapshot, assessment: PortfolioAssessment): PortfolioRiskFigures | undefined {
  if (!deps.riskFigures) return undefined;
  try {
    return deps.riskFigures(snapshot, assessment);
  } catch (err) {
    deps.logger.warn({ event: 'risk.failed', err }, `risk figures failed: ${(err as Error).message}`);
    return undefined;
  }
}

/** Like the risk figures, the attribution informs and never decides: a failure is logged. */
async function pnlOf(deps: PortfolioTickDeps, snapshot: PortfolioSnapshot): Promise<PnlTick | undefined> {
  if (!deps.attributePnl) return undefined;
  try {
    return (await deps.attributePnl(snapshot)) ?? undefined;
  } catch (err) {
    deps.logger.warn({ event: 'pnl.failed', err }, `P&L attribution failed: ${(err as Error).message}`);
    return undefined;
  }
}

export async function portfolioTick(deps: PortfolioTickDeps, state: PortfolioRunnerState): Promise<PortfolioTickResult> {
  const { logger, portfolio, modelOf } = deps;
  const snapshot = await deps.readSnapshot();
  const assessed = assessPortfolio(portfolio, snapshot, modelOf);
  // Risk before the plan: proxy hedges and the VaR limit are planned on its covariance. Net
  // deltas do not depend on targets, so the first assessment gives the same figures.
  const risk = riskOf(deps, snapshot, assessed);
  const covariance = risk ? riskCovarianceOf(risk) : undefined;
  const assessment = covariance && assessed.proxies ? assessPortfolio(portfolio, snapshot, modelOf, { covariance }) : assessed;
  const nowSec = Number(snapshot.blockTimestampSec);
  const pnl = await pnlOf(deps, snapshot);
  const doubts = deps.checkSanity?.(snapshot) ?? NO_DOUBTS;
  logDoubtChanges(logger, state.policy, doubts);
  const gate = deps.gate?.(snapshot) ?? { hold: null, hedgeHold: null, stale: null };
  const policy: PortfolioPolicyState = {
    ...state.policy,
    safeMode: doubts.portfolio ? { reason: doubts.portfolio } : null,
    safeAssets: doubts.assets,
    safeVenues: doubts.venues,
    hedgeHold: gate.hedgeHold,
  };
  let guard = deps.spentToday?.(nowSec) ?? state.guard;
  const plan = planPortfolio(assessment, policy, portfolio, nowSec, {
    modelOf, topUpAllowance: topUpAllowances(portfolio, guard, nowSec), ...(risk && covariance ? { risk: planRiskOf(risk, covariance) } : {}),
  });
  for (const w of plan.warnings) {
    logger.warn({ event: w.event, reason: w.message, venue: w.venue, neededUnits: w.neededUnits, availableUnits: w.availableUnits }, w.message);
  }
  const held = plan.actions.length > 0 ? gate.hold : null;
  const decision = plan.actions.length === 0 || held ? 'hold' : plan.actions.map((a) => `${a.kind}@${a.kind === 'moveCollateral' ? `${a.from}>${a.to}` : a.venue}`).join('+');
  logger.info(
    {
      event: 'tick',
      ...summarizePortfolio(assessment),
      ...(risk ? riskTickFields(risk) : {}),
      ...proxyTickFields(assessment.proxies),
      ...(plan.varLimit ? { varLimitUsd: plan.varLimit.limitUsd, varAfterUsd: Math.round(plan.varLimit.varAfterUsd * 100) / 100 } : {}),
      safeMode: doubts.portfolio,
      ...(Object.keys(doubts.assets).length ? { safeAssets: doubts.assets } : {}),
      ...(Object.keys(doubts.venues).length ? { safeVenues: doubts.venues } : {}),
      ...(pnl ? { pnlUsd: fixedToString(pnl.interval.total, 8, 2) } : {}),
      decision,
      ...(plan.actions.length === 0 ? { why: plan.skipped[0] ?? 'nothing to do' } : held ? { why: held } : {}),
      ...(gate.hold && !held ? { held: gate.hold } : {}),
    },
    `tick ${snapshot.blockNumber}: ${shortLine(assessment)} -> ${held ? `hold (${held})` : decision}`,
  );
  logger[plan.actions.length ? 'info' : 'debug'](
    { event: 'plan', actions: plan.actions, skipped: plan.skipped },
    plan.actions.length ? plan.actions.map((a) => a.reason).join('; ') : plan.skipped.join('; ') || 'nothing to do',
  );

  const results: PortfolioActionResult[] = [];
  const base = { ...policy, hedgeHold: null };
  let blocked = held;
  if (!blocked && plan.actions.length > 0 && deps.beforeSend) blocked = await deps.beforeSend(snapshot);
  if (blocked) {
    logger.warn({ event: 'action.held', actions: plan.actions.map((a) => a.kind), reason: blocked }, `not acting: ${blocked}`);
    for (const action of plan.actions) results.push({ action, outcome: 'held', reason: blocked, txs: [] });
    return { snapshot, assessment, plan, results, state: { policy: base, guard }, doubts, hold: blocked, stale: gate.stale, ...(risk ? { risk } : {}), ...(covariance ? { covariance } : {}), ...(pnl ? { pnl } : {}) };
  }
  let lastHedge = { ...policy.lastHedgeAtSecByAsset };
  for (const action of plan.actions) {
    const ctx = { nowSec, pricesE8: assessment.prices.pricesE8 };
    const verdict = checkPortfolioAction(action, portfolio, guard, ctx);
    if (!verdict.ok) {
      logger.warn({ event: 'guard.blocked', action, reason: verdict.reason }, `guard blocked ${action.kind}: ${verdict.reason}`);
      results.push({ action, outcome: 'blocked', reason: verdict.reason, txs: [] });
      break;
    }
    const txs = await deps.execute(action, assessment, snapshot);
    const result = { action, txs, ...describeOutcome(txs) };
    results.push(result);
    if (result.outcome === 'done' || result.outcome === 'pending') {
      guard = recordPortfolioAction(guard, action, portfolio, ctx);
      if (action.kind === 'adjustHedge') lastHedge = { ...lastHedge, [action.asset]: nowSec };
    } else {
      logger[result.outcome === 'simulated' ? 'debug' : 'warn'](
        { event: 'action.skipped', action, outcome: result.outcome, reason: result.reason },
        `${action.kind} not done: ${result.reason ?? result.outcome}`,
      );
      // Later actions were planned on the assumption this one happened.
      if (result.outcome !== 'simulated') break;
    }
  }
  return { snapshot, assessment, plan, results, state: { policy: { ...base, lastHedgeAtSecByAsset: lastHedge }, guard }, doubts, hold: null, stale: gate.stale, ...(risk ? { risk } : {}), ...(covariance ? { covariance } : {}), ...(pnl ? { pnl } : {}) };
}

/** USD notional of a hedge action at the asset's price (journal, caps across restarts). */
export function hedgeNotionalUsdE8(action: PortfolioAction, portfolio: Portfolio, assessment: PortfolioAssessment): bigint {
  if (action.kind !== 'adjustHedge') return 0n;
  const a = portfolio.assets.find((x) => x.id === action.asset);
  if (!a) return 0n;
  const size = action.sizeDeltaUnits < 0n ? -action.sizeDeltaUnits : action.sizeDeltaUnits;
  return unitsToUsdE8(size, assessment.prices.pricesE8[a.id] ?? 0n, a.decimals);
}
