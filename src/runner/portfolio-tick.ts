import type { Logger } from 'pino';
import { assessPortfolio, type ModelOf, type PortfolioAssessment } from '../core/portfolio/assess.js';
import { planPortfolio, type PortfolioPlan, type PortfolioPolicyState } from '../core/portfolio/plan.js';
import { checkPortfolioAction, recordPortfolioAction, topUpAllowances, type PortfolioGuardState } from '../core/portfolio/guard.js';
import { fixedToString } from '../core/format.js';
import type { Portfolio, PortfolioAction, PortfolioSnapshot } from '../portfolio/model.js';
import type { TxOutcome } from '../chain/executor.js';
import { describeOutcome, type ActionResult } from './tick.js';
import type { Gate } from './keeper-shell.js';
import type { PortfolioDoubts } from './portfolio-sanity.js';
import { riskTickFields, type PortfolioRiskFigures } from './portfolio-risk.js';
import type { RiskCovariance } from '../core/portfolio/proxy.js';
import type { PnlTick } from './portfolio-pnl.js';
import { logDoubtChanges, planRiskOf, proxyTickFields, riskCovarianceOf, shortLine, summarizePortfolio } from './portfolio-tick-parts.js';

// The tick's helpers live in portfolio-tick-parts.ts; these were exported from here first.
export { hedgeNotionalUsdE8, planRiskOf, riskCovarianceOf, summarizePortfolio } from './portfolio-tick-parts.js';

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

/**
 * PortfolioTickDeps whose I/O answers at once: the portfolio backtest's simulated chain
 * (src/backtest/portfolio-sim.ts). portfolioTickSync runs the very same tick body with them.
 */
export interface SyncPortfolioTickDeps extends Omit<PortfolioTickDeps, 'readSnapshot' | 'execute' | 'beforeSend' | 'attributePnl'> {
  readSnapshot(): PortfolioSnapshot;
  execute(action: PortfolioAction, assessment: PortfolioAssessment, snapshot: PortfolioSnapshot): TxOutcome[];
  beforeSend?(snapshot: PortfolioSnapshot): string | null;
  attributePnl?(snapshot: PortfolioSnapshot): PnlTick | null;
}

type AnyDeps = PortfolioTickDeps | SyncPortfolioTickDeps;

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

const NO_DOUBTS: PortfolioDoubts = { portfolio: null, assets: {}, venues: {} };

/** A failure of the risk figures is logged and the tick goes on: they inform, they do not decide. */
function riskOf(deps: AnyDeps, snapshot: PortfolioSnapshot, assessment: PortfolioAssessment): PortfolioRiskFigures | undefined {
  if (!deps.riskFigures) return undefined;
  try {
    return deps.riskFigures(snapshot, assessment);
  } catch (err) {
    deps.logger.warn({ event: 'risk.failed', err }, `risk figures failed: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Like the risk figures, the attribution informs and never decides: a failure is logged. The
 * call is yielded inside the try, so a rejection thrown back in by the async driver lands here.
 */
function* pnlOf(deps: AnyDeps, snapshot: PortfolioSnapshot): Generator<unknown, PnlTick | undefined, unknown> {
  if (!deps.attributePnl) return undefined;
  try {
    return ((yield deps.attributePnl(snapshot)) as PnlTick | null) ?? undefined;
  } catch (err) {
    deps.logger.warn({ event: 'pnl.failed', err }, `P&L attribution failed: ${(err as Error).message}`);
    return undefined;
  }
}

export async function portfolioTick(deps: PortfolioTickDeps, state: PortfolioRunnerState): Promise<PortfolioTickResult> {
  const body = portfolioTickBody(deps, state);
  let step = body.next();
  while (!step.done) {
    let answer: unknown;
    try {
      answer = await step.value;
    } catch (err) {
      // Into the body, where it was awaited: caught there (the attribution) or thrown out of here.
      step = body.throw(err);
      continue;
    }
    step = body.next(answer);
  }
  return step.value;
}

/** The same tick with I/O that answers at once (the portfolio backtest): no promise, no microtask. */
export function portfolioTickSync(deps: SyncPortfolioTickDeps, state: PortfolioRunnerState): PortfolioTickResult {
  const body = portfolioTickBody(deps, state);
  let step = body.next();
  while (!step.done) step = body.next(step.value);
  return step.value;
}

/**
 * The tick itself, written once for both drivers (as runner/tick.ts tickBody): each I/O is
 * yielded and what comes back is its answer, hence the casts.
 */
function* portfolioTickBody(deps: AnyDeps, state: PortfolioRunnerState): Generator<unknown, PortfolioTickResult, unknown> {
  const { logger, portfolio, modelOf } = deps;
  const snapshot = (yield deps.readSnapshot()) as PortfolioSnapshot;
  const assessed = assessPortfolio(portfolio, snapshot, modelOf);
  // Risk before the plan: proxy hedges and the VaR limit are planned on its covariance. Net
  // deltas do not depend on targets, so the first assessment gives the same figures.
  const risk = riskOf(deps, snapshot, assessed);
  const covariance = risk ? riskCovarianceOf(risk) : undefined;
  const assessment = covariance && assessed.proxies ? assessPortfolio(portfolio, snapshot, modelOf, { covariance }) : assessed;
  const nowSec = Number(snapshot.blockTimestampSec);
  const pnl = yield* pnlOf(deps, snapshot);
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
  if (!blocked && plan.actions.length > 0 && deps.beforeSend) blocked = (yield deps.beforeSend(snapshot)) as string | null;
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
    const txs = (yield deps.execute(action, assessment, snapshot)) as TxOutcome[];
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
