import type { HedgePolicy, HedgeVenueKind, PolicyState } from './types.js';
import { E18, absBig, maxBig } from './format.js';

/**
 * The band arithmetic of the hedging policy, shared by assess (is it in band?) and plan
 * (how far to trade back?), so both read the same numbers.
 */

export function initialPolicyState(): PolicyState {
  return { lastHedgeAtSec: null, safeMode: null };
}

/** Effective band: the larger of the absolute band and pct * gross spot exposure. */
export function effectiveBandWei(policy: HedgePolicy, grossSpotWei: bigint): bigint {
  return maxBig(policy.deltaBandWei, (absBig(grossSpotWei) * policy.deltaBandPctE18) / E18);
}

/** Target hedge = -hedgeRatio * spot delta (truncated toward zero). */
export function targetHedgeWei(policy: HedgePolicy, spotDeltaWei: bigint): bigint {
  return -(spotDeltaWei * policy.hedgeRatioE18) / E18;
}

/** Largest |deviation| left after a rebalance: band * (1 - hysteresis); 0 with 100% hysteresis. */
export function returnLevelWei(policy: HedgePolicy, bandWei: bigint): bigint {
  const keep = E18 - policy.hysteresisE18;
  return keep <= 0n ? 0n : (bandWei * keep) / E18;
}

/**
 * Signed hedge trade that brings the deviation (hedge - target) back to the return level on the
 * same side: the smallest trade that satisfies the hysteresis rule. Negative = sell / short more.
 */
export function tradeBackWei(deviationWei: bigint, returnLevel: bigint): bigint {
  if (absBig(deviationWei) <= returnLevel) return 0n;
  return deviationWei > 0n ? -(deviationWei - returnLevel) : -(deviationWei + returnLevel);
}

export function collateralThresholds(
  policy: HedgePolicy,
  venue: HedgeVenueKind,
): { triggerE18: bigint; targetE18: bigint } {
  return venue === 'perp'
    ? { triggerE18: policy.marginTriggerE18, targetE18: policy.marginTargetE18 }
    : { triggerE18: policy.hfTriggerE18, targetE18: policy.hfTargetE18 };
}

/** Seconds left before another hedge is allowed; 0 when free to trade. */
export function cooldownRemainingSec(state: PolicyState, policy: HedgePolicy, nowSec: number): number {
  if (state.lastHedgeAtSec === null) return 0;
  return Math.max(0, state.lastHedgeAtSec + policy.cooldownSec - nowSec);
}
