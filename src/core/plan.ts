import type { Action, Assessment, HedgePolicy, Plan, PlanWarning, PolicyState } from './types.js';
import { MAX_UINT256, absBig, fixedToString, fmtEth, fmtRatioE18, fmtUsdc } from './format.js';
import { increaseAllowed, ratioAfter, topUpToReach } from './margin.js';
import { cooldownRemainingSec, returnLevelWei, tradeBackWei } from './policy.js';
import type { TopUpAllowance } from './guard.js';

export interface PlanOptions {
  /**
   * The most one top-up may add now (guard.topUpAllowance: MAX_TOPUP_USDC, or what is left of
   * MAX_TOPUP_PER_DAY_USDC today). Omitted: only the wallet limits a top-up.
   */
  topUpAllowance?: TopUpAllowance;
}

/**
 * Decide what to do about an assessment. Pure: time comes in as nowSec. The returned state
 * assumes the plan is carried out (lastHedgeAtSec = nowSec when a hedge is planned): the runner
 * should keep the old state when the hedge is not executed.
 *
 * Order: a top-up always comes before a hedge trade, and is sized for the position the trade
 * leaves, so the trade never runs on thin margin. The cooldown blocks trades only; safe mode
 * blocks both (nothing is sized on a price the keeper does not believe). A top-up is clipped to
 * the caps and the wallet, and dropped (with a warning) when what is left cannot lift the ratio
 * above the trigger: it would only feed a liquidation.
 */
export function plan(
  a: Assessment,
  state: PolicyState,
  policy: HedgePolicy,
  nowSec: number,
  opts: PlanOptions = {},
): { plan: Plan; state: PolicyState } {
  const skipped: string[] = [];
  let hedge = decideHedge(a, state, policy, nowSec, skipped);
  const decide = (h: HedgeAction | null) => {
    const notes: TopUpNotes = { skipped: [], warnings: [] };
    const topUp = decideTopUp(a, a.hedgeDeltaWei + (h?.sizeDeltaWei ?? 0n), h !== null, state, opts.topUpAllowance, notes);
    return { topUp, notes };
  };
  let withTopUp = decide(hedge);
  // The venue check counts only the top-up that will really be sent with the trade.
  if (hedge && !venueWouldAccept(a, hedge.sizeDeltaWei, withTopUp.topUp?.amountUnits ?? 0n, skipped)) {
    hedge = null;
    withTopUp = decide(null);
  }
  const { topUp, notes } = withTopUp;
  skipped.push(...notes.skipped);
  const actions: Action[] = [];
  if (topUp) actions.push(topUp);
  if (hedge) actions.push(hedge);
  const nextState = hedge ? { ...state, lastHedgeAtSec: nowSec } : state;
  const out: Plan = { actions, skipped, ...(notes.warnings.length ? { warnings: notes.warnings } : {}) };
  return { plan: out, state: nextState };
}

type HedgeAction = Extract<Action, { kind: 'adjustHedge' }>;

/** A deviation beyond this many bands is hedged even during the cooldown. */
export const COOLDOWN_OVERRIDE_BANDS = 3n;

function pct(e18: bigint): string {
  return `${fixedToString(e18 * 100n, 18, 0)}%`;
}

function decideHedge(
  a: Assessment,
  state: PolicyState,
  policy: HedgePolicy,
  nowSec: number,
  skipped: string[],
): HedgeAction | null {
  const where =
    `deviation ${fmtEth(a.deviationWei)} (hedge ${fmtEth(a.hedgeDeltaWei)} vs target ` +
    `${fmtEth(a.targetHedgeWei)}, net delta ${fmtEth(a.netDeltaWei)})`;
  if (a.inBand) {
    skipped.push(`in band: ${where} within band ${fmtEth(a.bandWei)}`);
    return null;
  }
  const keepWei = returnLevelWei(policy, a.bandWei);
  let sizeDeltaWei = tradeBackWei(a.deviationWei, keepWei);
  const notes: string[] = [];
  if (a.hedge.venue === 'aave' && a.hedgeDeltaWei + sizeDeltaWei > 0n) {
    // A debt cannot go negative: the most Aave can do is repay it all.
    notes.push(`limited to repaying the whole debt ${fmtEth(-a.hedgeDeltaWei)} (Aave cannot be long)`);
    sizeDeltaWei = -a.hedgeDeltaWei;
  }
  const wanted = sizeDeltaWei;
  if (absBig(sizeDeltaWei) > policy.maxTradeWei) {
    sizeDeltaWei = sizeDeltaWei < 0n ? -policy.maxTradeWei : policy.maxTradeWei;
    notes.push(`clipped from ${fmtEth(wanted)} to max trade ${fmtEth(policy.maxTradeWei)}`);
    skipped.push(`max trade: ${fmtEth(wanted - sizeDeltaWei)} of the hedge left for later ticks`);
  }
  const side = sizeDeltaWei < 0n ? 'sell' : 'buy';
  const what = `${side} ${fmtEth(absBig(sizeDeltaWei))}`;
  if (state.safeMode) {
    skipped.push(`safe mode (${state.safeMode.reason}): hedge ${what} not placed; ${where}`);
    return null;
  }
  if (state.hedgeHold) {
    skipped.push(`${state.hedgeHold}: hedge ${what} not placed; ${where}`);
    return null;
  }
  const waitSec = cooldownRemainingSec(state, policy, nowSec);
  // The cooldown stops churn around the band edge; it must not leave a large move unhedged.
  const urgent = absBig(a.deviationWei) > COOLDOWN_OVERRIDE_BANDS * a.bandWei;
  if (waitSec > 0 && !urgent) {
    skipped.push(`cooldown: ${waitSec}s of ${policy.cooldownSec}s left, hedge ${what} not placed; ${where}`);
    return null;
  }
  if (waitSec > 0) notes.push(`cooldown (${waitSec}s left) overridden: deviation beyond ${COOLDOWN_OVERRIDE_BANDS}x the band`);
  if (sizeDeltaWei === 0n || absBig(sizeDeltaWei) < policy.minTradeWei) {
    skipped.push(`below min trade: ${what} < ${fmtEth(policy.minTradeWei)}; ${where}`);
    return null;
  }
  const reason =
    `${where} outside band ${fmtEth(a.bandWei)}: ${what} to leave <= ${fmtEth(keepWei)} ` +
    `(hysteresis ${pct(policy.hysteresisE18)})` + (notes.length ? `; ${notes.join('; ')}` : '');
  return { kind: 'adjustHedge', sizeDeltaWei, reason };
}

/**
 * A trade that grows the hedge must pass the venue's opening check (perp initial margin, Aave
 * LTV) with the top-up planned before it; otherwise it would only revert.
 */
function venueWouldAccept(a: Assessment, sizeDeltaWei: bigint, extraCollateralUnits: bigint, skipped: string[]): boolean {
  const sizeAfterWei = a.hedgeDeltaWei + sizeDeltaWei;
  const scenario = { sizeAfterWei, priceE8: a.priceE8, quotePriceE8: a.quotePriceE8, extraCollateralUnits };
  if (increaseAllowed(a.hedge, scenario)) return true;
  const rule = a.hedge.venue === 'perp'
    ? `margin ratio ${fmtRatioE18(ratioAfter(a.hedge, scenario))} under the initial ${fmtRatioE18(a.hedge.initialRatioE18)}`
    : `debt over collateral * LTV ${Number(a.hedge.ltvBps) / 100}%`;
  skipped.push(
    `venue would refuse: ${sizeDeltaWei < 0n ? 'sell' : 'buy'} ${fmtEth(absBig(sizeDeltaWei))} leaves ${rule} ` +
      (extraCollateralUnits > 0n ? `even with ${fmtUsdc(extraCollateralUnits)} added` : 'with no top-up to go with it'),
  );
  return false;
}

type TopUpAction = Extract<Action, { kind: 'topUp' }>;

interface TopUpNotes {
  skipped: string[];
  warnings: PlanWarning[];
}

function decideTopUp(
  a: Assessment,
  sizeAfterWei: bigint,
  hedgePlanned: boolean,
  state: PolicyState,
  allowance: TopUpAllowance | undefined,
  notes: TopUpNotes,
): TopUpAction | null {
  const c = a.collateral;
  const name = c.venue === 'perp' ? 'margin ratio' : 'health factor';
  const scenario = { sizeAfterWei, priceE8: a.priceE8, quotePriceE8: a.quotePriceE8 };
  const ratioPostE18 = hedgePlanned ? ratioAfter(a.hedge, scenario) : c.ratioE18;
  const triggered = c.ratioE18 < c.triggerRatioE18 || ratioPostE18 < c.triggerRatioE18;
  if (!triggered) return null;
  const post = hedgePlanned ? ` (${fmtRatioE18(ratioPostE18)} after the planned hedge)` : '';
  const why = `${name} ${fmtRatioE18(c.ratioE18)}${post} below trigger ${fmtRatioE18(c.triggerRatioE18)}`;
  if (state.safeMode) {
    // The ratio itself is computed at the price safe mode distrusts: a top-up sized on it can
    // pour the whole wallet into an account that is liquidated anyway.
    notes.skipped.push(`safe mode (${state.safeMode.reason}): no top-up sized on a price the keeper does not trust; ${why} at that price`);
    return null;
  }
  if (a.priceE8 <= 0n || a.quotePriceE8 <= 0n) {
    notes.skipped.push(`top-up: ${why}, but there is no usable oracle price to size it on`);
    return null;
  }
  if (ratioPostE18 === MAX_UINT256) {
    notes.skipped.push(`top-up: ${why}, but the planned hedge closes the position`);
    return null;
  }
  const neededUnits = topUpToReach(a.hedge, c.targetRatioE18, a.priceE8, sizeAfterWei, a.quotePriceE8);
  if (neededUnits === 0n) {
    notes.skipped.push(`top-up: ${why}, but the planned hedge restores it to ${fmtRatioE18(ratioPostE18)}`);
    return null;
  }
  const target = `to reach ${fmtRatioE18(c.targetRatioE18)}${hedgePlanned ? ' after the planned hedge' : ''}`;
  let amountUnits = neededUnits;
  const clips: string[] = [];
  if (allowance && amountUnits > allowance.units) {
    amountUnits = allowance.units > 0n ? allowance.units : 0n;
    clips.push(`clipped to ${allowance.limitedBy}`);
  }
  if (amountUnits > a.walletUsdcUnits) {
    amountUnits = a.walletUsdcUnits > 0n ? a.walletUsdcUnits : 0n;
    clips.push(a.walletUsdcUnits > 0n ? `clipped to the wallet balance ${fmtUsdc(a.walletUsdcUnits)}` : 'the wallet has no USDC');
  }
  let reason = `${why}: add ${fmtUsdc(neededUnits)} ${target}`;
  if (amountUnits < neededUnits) {
    const reachedE18 = amountUnits > 0n ? ratioAfter(a.hedge, { ...scenario, extraCollateralUnits: amountUnits }) : ratioPostE18;
    const limits = clips.join(', then ');
    if (reachedE18 < c.triggerRatioE18) {
      const message =
        `top-up insufficient: ${why}, needs ${fmtUsdc(neededUnits)} ${target}, but ${limits}: ` +
        `${fmtUsdc(amountUnits)} would reach only ${fmtRatioE18(reachedE18)}, under the trigger; not sent (it would only feed a liquidation)`;
      notes.skipped.push(message);
      notes.warnings.push({ event: 'topup.insufficient', message, neededUnits, availableUnits: amountUnits });
      return null;
    }
    reason += `; ${limits}, reaching ${fmtRatioE18(reachedE18)}`;
    notes.skipped.push(`top-up short by ${fmtUsdc(neededUnits - amountUnits)}: ${limits}`);
  }
  return { kind: 'topUp', amountUnits, reason };
}
