import type { Logger } from 'pino';
import { assess } from '../core/assess.js';
import { plan } from '../core/plan.js';
import { checkAction, recordAction, topUpAllowance, type TopUpAllowance } from '../core/guard.js';
import { e8ToDecimal, fmtEth, fmtPriceE8, weiToUsdE8 } from '../core/format.js';
import type { Action, Assessment, GuardPolicy, GuardState, HedgePolicy, Plan, PolicyState, Snapshot } from '../core/types.js';
import type { TxOutcome } from '../chain/executor.js';

/** What the runner keeps between ticks. */
export interface RunnerState {
  policy: PolicyState;
  guard: GuardState;
}

/** Every I/O the tick needs, passed in (DESIGN: tick(deps) is tested with stubs). */
export interface TickDeps {
  readSnapshot(): Promise<Snapshot>;
  /** Carry out one action; returns one outcome per transaction it sent or simulated. */
  execute(action: Action, assessment: Assessment, snapshot: Snapshot): Promise<TxOutcome[]>;
  policy: HedgePolicy;
  guard: GuardPolicy;
  logger: Logger;
  /**
   * Oracle and market sanity: a reason puts the keeper in safe mode (no hedging, and no top-up
   * sized on a price it does not believe). Default: always sane.
   */
  checkSanity?(snapshot: Snapshot, assessment: Assessment): string | null;
  /** Extra figures for the tick line (risk: vol, VaR, liquidation distance in sigmas). */
  riskFigures?(snapshot: Snapshot, assessment: Assessment): Record<string, unknown>;
  /** The band of an adaptive BAND_MODE (vol, ww, time); omitted = the fixed band of assess. */
  bandFor?(snapshot: Snapshot): { bandWei: bigint; note: string } | undefined;
  /**
   * Freshness and the pending queue: `hold` stops every new transaction this tick (a stale read,
   * an unknown transaction fate, an unexplained nonce); `hedgeHold` stops hedges only (a hedge
   * still waiting for the chain). Default: nothing held.
   */
  gate?(snapshot: Snapshot): { hold: string | null; hedgeHold: string | null; stale?: string | null };
  /** Today's spending for the caps, counted from the journal (survives restarts); default: kept in memory. */
  spentToday?(nowSec: number): GuardState;
  /** Just before the first transaction: prove the next nonce is free (null = go, else why not). */
  beforeSend?(snapshot: Snapshot): Promise<string | null>;
}

export interface ActionResult {
  action: Action;
  /** pending: sent, waiting for the chain (settled by the queue on a later tick). */
  outcome: 'done' | 'pending' | 'simulated' | 'blocked' | 'failed' | 'held';
  reason?: string;
  txs: TxOutcome[];
}

export interface TickResult {
  snapshot: Snapshot;
  assessment: Assessment;
  plan: Plan;
  results: ActionResult[];
  state: RunnerState;
  /** Why nothing was sent this tick although the plan had actions (stale read, unknown fate...). */
  hold: string | null;
  /** The read was older than what the keeper already knew: /healthz does not count this tick. */
  stale: string | null;
}

function summarize(a: Assessment): Record<string, unknown> {
  return {
    block: a.blockNumber,
    price: fmtPriceE8(a.priceE8),
    poolPrice: fmtPriceE8(a.poolPriceE8),
    deltaEth: fmtEth(a.netDeltaWei),
    deltaUsd: a.netDeltaUsd.toFixed(2),
    deviationEth: fmtEth(a.deviationWei),
    bandEth: fmtEth(a.bandWei),
    inBand: a.inBand,
    hedgeEth: fmtEth(a.hedgeDeltaWei),
    marginRatio: a.collateral.ratio.isFinite() ? a.collateral.ratio.toFixed(4) : 'none',
    liqPrice: a.collateral.liquidationPriceE8 === null ? null : fmtPriceE8(a.collateral.liquidationPriceE8),
    liqDistancePct: a.collateral.distancePct?.toFixed(2) ?? null,
  };
}

/** The guard's top-up allowance, worked out (with its reason) only if the planner reads it: when a top-up is due. */
class LazyAllowance implements TopUpAllowance {
  #a: TopUpAllowance | undefined;
  constructor(
    private readonly guard: GuardPolicy,
    private readonly state: GuardState,
    private readonly nowSec: number,
  ) {}

  #get(): TopUpAllowance {
    return (this.#a ??= topUpAllowance(this.guard, this.state, this.nowSec));
  }

  get units(): bigint {
    return this.#get().units;
  }

  get limitedBy(): string {
    return this.#get().limitedBy;
  }
}

const NO_GATE = Object.freeze({ hold: null, hedgeHold: null, stale: null });

/*
 * Literals, not spreads, for what tick() builds on every action: a spread here costs ~200 ns
 * against ~15 ns, and a backtest runs tens of thousands of ticks a policy.
 */

/** The policy state after a hedge was done at nowSec (every field of PolicyState, as a spread would copy). */
function hedgedAt(p: PolicyState, nowSec: number): PolicyState {
  return p.hedgeHold === undefined
    ? { lastHedgeAtSec: nowSec, safeMode: p.safeMode }
    : { lastHedgeAtSec: nowSec, safeMode: p.safeMode, hedgeHold: p.hedgeHold };
}
// A new field of PolicyState must be copied by hedgedAt: this stops compiling until it is.
const HEDGED_AT_COPIES: Record<keyof PolicyState, true> = { lastHedgeAtSec: true, safeMode: true, hedgeHold: true };
void HEDGED_AT_COPIES;

/** { action, txs, ...describeOutcome(txs) } */
function actionResult(action: Action, txs: TxOutcome[]): ActionResult {
  const d = describeOutcome(txs);
  return d.reason === undefined ? { action, txs, outcome: d.outcome } : { action, txs, outcome: d.outcome, reason: d.reason };
}

/** USD size of an action at the oracle price, for logs and large-action alerts. */
function notionalUsd(a: Action, priceE8: bigint): string {
  const usdE8 = a.kind === 'topUp' ? a.amountUnits * 100n : weiToUsdE8(a.sizeDeltaWei < 0n ? -a.sizeDeltaWei : a.sizeDeltaWei, priceE8);
  return e8ToDecimal(usdE8).toFixed(2);
}

/**
 * An action's outcome with what the journal now knows of its sent transactions (after the queue
 * settled what was just mined). One for both keepers: the action's own type passes through.
 */
export function withSettled<R extends { txs: TxOutcome[]; outcome: ActionResult['outcome']; reason?: string }>(
  r: R,
  journal: { tx(hash: string): { status: string; gasUsed?: string | null; block?: string | null } | undefined },
): R {
  const txs: TxOutcome[] = r.txs.map((t) => {
    if (t.status !== 'sent') return t;
    const row = journal.tx(t.hash);
    if (row?.status === 'mined') return { status: 'mined', label: t.label, hash: t.hash, gasUsed: BigInt(row.gasUsed ?? '0'), blockNumber: BigInt(row.block ?? '0') };
    if (row?.status === 'reverted') return { status: 'reverted', label: t.label, stage: 'chain', reason: 'reverted on chain', hash: t.hash };
    return t;
  });
  return { ...r, txs, ...describeOutcome(txs) };
}

export function describeOutcome(txs: readonly TxOutcome[]): Pick<ActionResult, 'outcome' | 'reason'> {
  const last = txs[txs.length - 1];
  if (!last) return { outcome: 'failed', reason: 'no transaction' };
  switch (last.status) {
    case 'mined':
      return { outcome: 'done' };
    case 'sent':
      return { outcome: 'pending' };
    case 'simulated':
      return { outcome: 'simulated' };
    case 'blocked':
      return { outcome: 'blocked', reason: last.reason };
    case 'reverted':
      return { outcome: 'failed', reason: `${last.label} reverted (${last.stage}): ${last.reason}` };
  }
}

/**
 * TickDeps whose I/O answers at once: the backtest's simulated chain (src/backtest/sim-deps.ts).
 * tickSync runs the very same tick body with them, without a promise per tick.
 */
export interface SyncTickDeps extends Omit<TickDeps, 'readSnapshot' | 'execute' | 'beforeSend'> {
  readSnapshot(): Snapshot;
  execute(action: Action, assessment: Assessment, snapshot: Snapshot): TxOutcome[];
  beforeSend?(snapshot: Snapshot): string | null;
}

/**
 * One tick: read -> assess -> (sanity) -> plan -> guard -> execute. Pure decisions, I/O through
 * deps. The state advances only by what was actually done: a hedge that failed does not start
 * the cooldown, a blocked trade does not count against the daily notional.
 */
export async function tick(deps: TickDeps, state: RunnerState): Promise<TickResult> {
  const body = tickBody(deps, state);
  let step = body.next();
  // A rejected I/O throws here, out of tick(), as the body has no try of its own.
  while (!step.done) step = body.next(await step.value);
  return step.value;
}

/** The same tick with I/O that answers at once (the backtest): no promise, no microtask. */
export function tickSync(deps: SyncTickDeps, state: RunnerState): TickResult {
  const body = tickBody(deps, state);
  let step = body.next();
  while (!step.done) step = body.next(step.value);
  return step.value;
}

/**
 * The tick itself, written once for both drivers: each I/O is yielded, and what comes back is
 * its answer (awaited by tick(), as it is by tickSync()), hence the casts.
 */
function* tickBody(deps: TickDeps | SyncTickDeps, state: RunnerState): Generator<unknown, TickResult, unknown> {
  const { logger } = deps;
  const snapshot = (yield deps.readSnapshot()) as Snapshot;
  const band = deps.bandFor?.(snapshot);
  const assessment = assess(snapshot, deps.policy, band ? { bandWei: band.bandWei } : undefined);
  const nowSec = Number(snapshot.blockTimestampSec);

  const insane = deps.checkSanity?.(snapshot, assessment) ?? null;
  const gate = deps.gate?.(snapshot) ?? NO_GATE;
  let policyState = state.policy;
  if (insane && !policyState.safeMode) {
    logger.warn({ event: 'safe_mode.entered', reason: insane }, `safe mode: ${insane}`);
  } else if (!insane && policyState.safeMode) {
    logger.info({ event: 'safe_mode.left', was: policyState.safeMode.reason }, 'safe mode left: data is sane again');
  }
  // Copies only on a change: a backtest runs this tens of thousands of times a policy.
  if (insane || policyState.safeMode !== null) policyState = { ...policyState, safeMode: insane ? { reason: insane } : null };

  // Today's spending first: the planner clips a top-up to what the caps still allow.
  let guardState = deps.spentToday?.(nowSec) ?? state.guard;
  const planState = gate.hedgeHold || policyState.hedgeHold ? { ...policyState, hedgeHold: gate.hedgeHold } : policyState;
  const decided = plan(assessment, planState, deps.policy, nowSec, { topUpAllowance: new LazyAllowance(deps.guard, guardState, nowSec) });
  for (const w of decided.plan.warnings ?? []) {
    logger.warn({ event: w.event, reason: w.message, neededUnits: w.neededUnits, availableUnits: w.availableUnits }, w.message);
  }
  const held = decided.plan.actions.length > 0 ? gate.hold : null;
  // Called whatever the level: the live risk figures also observe the price.
  const risk = deps.riskFigures?.(snapshot, assessment) ?? {};
  // A silent logger (the backtest) must not pay for the lines' figures (Decimal, strings).
  if (logger.isLevelEnabled('info')) {
    logger.info(
      {
        event: 'tick',
        ...summarize(assessment),
        ...risk,
        ...(band ? { band: band.note } : {}),
        safeMode: policyState.safeMode?.reason ?? null,
        decision: decided.plan.actions.length === 0 || held ? 'hold' : decided.plan.actions.map((a) => a.kind).join('+'),
        ...(decided.plan.actions.length === 0 ? { why: decided.plan.skipped[0] ?? 'nothing to do' } : held ? { why: held } : {}),
        ...(gate.hold && !held ? { held: gate.hold } : {}),
      },
      `tick ${snapshot.blockNumber}: ${decided.plan.actions.length === 0 ? 'hold' : held ? `hold (${held})` : decided.plan.actions.map((a) => a.kind).join(' + ')}`,
    );
  }
  // The tick line already says "hold"; the reasons for holding are detail.
  const planLevel = decided.plan.actions.length ? 'info' : 'debug';
  if (logger.isLevelEnabled(planLevel)) {
    logger[planLevel](
      {
        event: 'plan',
        actions: decided.plan.actions.map((a) => ({ ...a, notionalUsd: notionalUsd(a, snapshot.oracle.priceE8) })),
        skipped: decided.plan.skipped,
      },
      decided.plan.actions.length ? decided.plan.actions.map((a) => a.reason).join('; ') : decided.plan.skipped.join('; ') || 'nothing to do',
    );
  }

  const results: ActionResult[] = [];
  let blocked = held;
  if (!blocked && decided.plan.actions.length > 0 && deps.beforeSend) blocked = (yield deps.beforeSend(snapshot)) as string | null;
  if (blocked) {
    logger.warn({ event: 'action.held', actions: decided.plan.actions.map((a) => a.kind), reason: blocked }, `not acting: ${blocked}`);
    for (const action of decided.plan.actions) results.push({ action, outcome: 'held', reason: blocked, txs: [] });
    return { snapshot, assessment, plan: decided.plan, results, state: { policy: policyState, guard: guardState }, hold: blocked, stale: gate.stale ?? null };
  }
  for (const action of decided.plan.actions) {
    const ctx = { priceE8: snapshot.oracle.priceE8, nowSec };
    const verdict = checkAction(action, deps.guard, guardState, ctx);
    if (!verdict.ok) {
      logger.warn({ event: 'guard.blocked', action, reason: verdict.reason }, `guard blocked ${action.kind}: ${verdict.reason}`);
      results.push({ action, outcome: 'blocked', reason: verdict.reason, txs: [] });
      break;
    }
    const txs = (yield deps.execute(action, assessment, snapshot)) as TxOutcome[];
    const result = actionResult(action, txs);
    results.push(result);
    if (result.outcome === 'done' || result.outcome === 'pending') {
      // A pending action counts against the caps now: it will most likely land.
      guardState = recordAction(guardState, action, ctx);
      if (action.kind === 'adjustHedge') policyState = hedgedAt(policyState, nowSec);
    } else {
      // A dry-run's simulation is the expected outcome, not a warning.
      logger[result.outcome === 'simulated' ? 'debug' : 'warn'](
        { event: 'action.skipped', action, outcome: result.outcome, reason: result.reason },
        `${action.kind} not done: ${result.reason ?? result.outcome}`,
      );
      // Later actions were planned on the assumption this one happened.
      if (result.outcome !== 'simulated') break;
    }
  }
  return { snapshot, assessment, plan: decided.plan, results, state: { policy: policyState, guard: guardState }, hold: null, stale: gate.stale ?? null };
}
