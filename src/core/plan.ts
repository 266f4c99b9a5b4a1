import type { Action, Assessment, HedgePolicy, Plan, PolicyState } from './types.js';
import { MAX_UINT256, absBig, e18ToDecimal, fmtEth, fmtRatioE18, fmtUsdc, maxBig, minBig } from './format.js';
import { increaseAllowed, ratioAfter, topUpToReach } from './margin.js';
import { cooldownRemainingSec, returnLevelWei, tradeBackWei } from './policy.js';

/**
 * Decide what to do about an assessment. Pure: time comes in as nowSec. The returned state
 * assumes the plan is carried out (lastHedgeAtSec = nowSec when a hedge is planned): the runner
 * should keep the old state when the hedge is not executed.
 *
 * Order: a top-up always comes before a hedge trade, and is sized for the position the trade
 * leaves, so the trade never runs on thin margin. Cooldown and safe mode block trades only.
 */
export function plan(
  a: Assessment,
  state: PolicyState,
  policy: HedgePolicy,
  nowSec: number,
): { plan: Plan; state: PolicyState } {
  const skipped: string[] = [];
  let hedge = decideHedge(a, state, policy, nowSec, skipped);
  if (hedge && !venueWouldAccept(a, hedge.sizeDeltaWei, skipped)) hedge = null;
  const sizeAfterWei = a.hedgeDeltaWei + (hedge?.sizeDeltaWei ?? 0n);
  const topUp = decideTopUp(a, sizeAfterWei, hedge !== null, skipped);
  const actions: Action[] = [];
  if (topUp) actions.push(topUp);
  if (hedge) actions.push(hedge);
  const nextState = hedge ? { ...state, lastHedgeAtSec: nowSec } : state;
  return { plan: { actions, skipped }, state: nextState };
}

type HedgeAction = Extract<Action, { kind: 'adjustHedge' }>;

/** A deviation beyond this many bands is hedged even during the cooldown. */
export const COOLDOWN_OVERRIDE_BANDS = 3n;

function pct(e18: bigint): string {
  return `${e18ToDecimal(e18).mul(100).toFixed(0)}%`;
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
 * LTV) even after the largest top-up the wallet allows; otherwise it would only revert.
 */
function venueWouldAccept(a: Assessment, sizeDeltaWei: bigint, skipped: string[]): boolean {
  const c = a.collateral;
  const sizeAfterWei = a.hedgeDeltaWei + sizeDeltaWei;
  const neededUnits = topUpToReach(a.hedge, c.targetRatioE18, a.priceE8, sizeAfterWei, a.quotePriceE8);
  const extraCollateralUnits = minBig(neededUnits, maxBig(a.walletUsdcUnits, 0n));
  const scenario = { sizeAfterWei, priceE8: a.priceE8, quotePriceE8: a.quotePriceE8, extraCollateralUnits };
  if (increaseAllowed(a.hedge, scenario)) return true;
  const rule = a.hedge.venue === 'perp'
    ? `margin ratio ${fmtRatioE18(ratioAfter(a.hedge, scenario))} under the initial ${fmtRatioE18(a.hedge.initialRatioE18)}`
    : `debt over collateral * LTV ${Number(a.hedge.ltvBps) / 100}%`;
  skipped.push(
    `venue would refuse: ${sizeDeltaWei < 0n ? 'sell' : 'buy'} ${fmtEth(absBig(sizeDeltaWei))} leaves ${rule} ` +
      `even with ${fmtUsdc(extraCollateralUnits)} added`,
  );
  return false;
}

type TopUpAction = Extract<Action, { kind: 'topUp' }>;

function decideTopUp(
  a: Assessment,
  sizeAfterWei: bigint,
  hedgePlanned: boolean,
  skipped: string[],
): TopUpAction | null {
  const c = a.collateral;
  const name = c.venue === 'perp' ? 'margin ratio' : 'health factor';
  const scenario = { sizeAfterWei, priceE8: a.priceE8, quotePriceE8: a.quotePriceE8 };
  const ratioPostE18 = hedgePlanned ? ratioAfter(a.hedge, scenario) : c.ratioE18;
  const triggered = c.ratioE18 < c.triggerRatioE18 || ratioPostE18 < c.triggerRatioE18;
  if (!triggered) return null;
  const post = hedgePlanned ? ` (${fmtRatioE18(ratioPostE18)} after the planned hedge)` : '';
  const why = `${name} ${fmtRatioE18(c.ratioE18)}${post} below trigger ${fmtRatioE18(c.triggerRatioE18)}`;
  if (ratioPostE18 === MAX_UINT256) {
    skipped.push(`top-up: ${why}, but the planned hedge closes the position`);
    return null;
  }
  const neededUnits = topUpToReach(a.hedge, c.targetRatioE18, a.priceE8, sizeAfterWei, a.quotePriceE8);
  if (neededUnits === 0n) {
    skipped.push(`top-up: ${why}, but the planned hedge restores it to ${fmtRatioE18(ratioPostE18)}`);
    return null;
  }
  const target = `to reach ${fmtRatioE18(c.targetRatioE18)}${hedgePlanned ? ' after the planned hedge' : ''}`;
  if (a.walletUsdcUnits <= 0n) {
    skipped.push(`top-up: ${why}, needs ${fmtUsdc(neededUnits)} ${target}, but the wallet has no USDC`);
    return null;
  }
  let amountUnits = neededUnits;
  let reason = `${why}: add ${fmtUsdc(neededUnits)} ${target}`;
  if (neededUnits > a.walletUsdcUnits) {
    amountUnits = a.walletUsdcUnits;
    const reached = ratioAfter(a.hedge, { ...scenario, extraCollateralUnits: amountUnits });
    reason += `; clipped to the wallet balance ${fmtUsdc(amountUnits)}, reaching ${fmtRatioE18(reached)}`;
    skipped.push(`top-up short by ${fmtUsdc(neededUnits - amountUnits)}: wallet USDC ${fmtUsdc(a.walletUsdcUnits)}`);
  }
  return { kind: 'topUp', amountUnits, reason };
}
