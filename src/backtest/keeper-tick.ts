import type { Address, HedgePolicy, Snapshot } from '../core/types.js';
import { assess } from '../core/assess.js';
import { plan } from '../core/plan.js';
import { checkAction, recordAction } from '../core/guard.js';
import { bandWeiFor } from '../core/band-policy.js';
import { effectiveBandWei, targetHedgeWei } from '../core/policy.js';
import { E18, E8, MAX_UINT256, absBig } from '../core/format.js';
import type { EpisodeTrack, MarketTrack } from './market.js';
import { lpPositionAt } from './lp-model.js';
import { accountValueUnits, perpAccountView, type PerpParams } from './perp-model.js';
import type { BacktestScenario, PolicySpec } from './policies.js';
import { execute, type RunState, type Totals } from './run-state.js';

/**
 * The keeper's tick at one step of the backtest: the band of the policy's mode, then, when
 * anything can happen, the keeper's own assess -> plan -> guard on the Snapshot the chain
 * reader would return, and the guarded actions carried out on the models. Like the live tick
 * (runner/tick.ts) it stops at a guard block, and a top-up that failed leaves no hedge.
 *
 * plan() acts only when the deviation is outside the band or the collateral ratio is under its
 * trigger; `screen` (see simulate.ts) already ruled out the ticks that are clearly neither, and
 * this checks the rest exactly, in bigint, before building the snapshot.
 */

const ACCOUNT: Address = '0x00000000000000000000000000000000000b4c7e';
const SIZE_PRICE_TO_UNITS = 10n ** 20n;

export interface TickContext {
  track: MarketTrack;
  et: EpisodeTrack;
  spec: PolicySpec;
  scenario: BacktestScenario;
  pp: PerpParams;
  s: RunState;
  t: Totals;
  epStartSec: number;
  /** The short-term vol of BAND_MODE adaptive (null for the other modes). */
  volFast: Float64Array | null;
  alwaysPlan: boolean;
}

/**
 * Exact collateral ratio of the perp at the oracle price: core/margin.ts currentRatioE18 with no
 * trade, and the exchange's own margin ratio (notional rounded up, ratio down).
 */
export function perpRatioE18(valueUnits: bigint, sizeWei: bigint, priceE8: bigint): bigint {
  if (sizeWei === 0n) return MAX_UINT256;
  if (valueUnits <= 0n) return 0n;
  const notional = ((sizeWei < 0n ? -sizeWei : sizeWei) * priceE8 + SIZE_PRICE_TO_UNITS - 1n) / SIZE_PRICE_TO_UNITS;
  return notional === 0n ? MAX_UINT256 : (valueUnits * E18) / notional;
}

/** A band as the screen needs it: a float (within ~1e-15), and the exact wei on demand. */
export interface Band {
  readonly approxWei: number;
  readonly bandWei: bigint;
}

/** The fixed band: max(DELTA_BAND_ETH, DELTA_BAND_PCT * gross spot), exact when read. */
class FixedBand implements Band {
  #wei: bigint | undefined;
  constructor(
    readonly approxWei: number,
    private readonly policy: HedgePolicy,
    private readonly grossSpotWei: bigint,
  ) {}

  get bandWei(): bigint {
    return (this.#wei ??= effectiveBandWei(this.policy, this.grossSpotWei));
  }
}

/** The band of the policy's mode at step i (time mode: slots counted from the episode start). */
export function bandAt(c: TickContext, j: number, i: number, grossSpotWei: bigint, grossSpotF: number): Band {
  const { policy } = c.spec;
  if (policy.bandMode === 'fixed') return new FixedBand(Math.max(Number(policy.deltaBandWei), (grossSpotF * Number(policy.deltaBandPctE18)) / 1e18), policy, grossSpotWei);
  const { timeSec, priceE8 } = c.track.path.steps[i]!;
  const vol = c.track.volAnnual[i]!;
  const fast = c.volFast ? c.volFast[i]! : NaN;
  const d = bandWeiFor(policy, {
    grossSpotWei, priceE8, volAnnual: Number.isNaN(vol) ? null : vol, volFastAnnual: Number.isNaN(fast) ? null : fast, gammaBasePerUsd: c.et.gammaBasePerUsd[j]!,
    nowSec: timeSec - c.epStartSec, lastRebalanceSec: c.s.lastRebalanceSec === null ? null : c.s.lastRebalanceSec - c.epStartSec,
  });
  if (d.rebalanceDue) c.s.lastRebalanceSec = timeSec;
  return d.approxWei === undefined ? { approxWei: Number(d.bandWei), bandWei: d.bandWei } : (d as Band);
}

/**
 * The rest of the tick once the band is known: exact check, then assess -> plan -> guard ->
 * execute. Returns true when the account changed.
 */
export function actIfNeeded(c: TickContext, j: number, i: number, bandWei: bigint): boolean {
  const { s, t, et } = c;
  const { policy } = c.spec;
  const { priceE8, timeSec } = c.track.path.steps[i]!;
  const deviationWei = s.perp.sizeWei - targetHedgeWei(policy, s.wethWei + et.lpBaseWei[j]!);
  const ratio = perpRatioE18(accountValueUnits(s.perp, priceE8), s.perp.sizeWei, priceE8);
  if (!c.alwaysPlan && absBig(deviationWei) <= bandWei && ratio >= policy.marginTriggerE18) return false;
  t.plannedTicks++;
  const a = assess(snapshotAt(c, j, i), policy, { bandWei });
  const planned = plan(a, s.policyState, policy, timeSec);
  let hedged = false;
  let changed = false;
  const ctx = { priceE8, nowSec: timeSec };
  for (const action of planned.plan.actions) {
    if (!checkAction(action, c.scenario.guard, s.guardState, ctx).ok) {
      t.guardBlocked++;
      break;
    }
    if (!execute(action, i, c.track, c.scenario, c.pp, s, t)) break;
    changed = true;
    s.guardState = recordAction(s.guardState, action, ctx);
    if (action.kind === 'adjustHedge') hedged = true;
  }
  // plan() returns the state as if its hedge ran; keep the old one when it did not.
  if (hedged) s.policyState = planned.state;
  return changed;
}

function snapshotAt(c: TickContext, j: number, i: number): Snapshot {
  const { et, s } = c;
  const { timeSec, priceE8 } = c.track.path.steps[i]!;
  const range = et.ranges[et.rangeIndex[j]!]!;
  const lp = lpPositionAt(
    range,
    { amountBaseWei: et.lpBaseWei[j]!, amountQuoteUnits: et.lpQuoteUnits[j]!, inRange: et.lpInRange[j] === 1 },
    { baseWei: 0n, quoteUnits: et.lpFeesUnits[j]! },
  );
  const time = BigInt(timeSec);
  return {
    chainId: 0,
    blockNumber: BigInt(i),
    blockTimestampSec: time,
    account: ACCOUNT,
    oracle: { priceE8, updatedAtSec: time, quotePriceE8: E8 },
    // The pool's tick and liquidity are not read by assess; the pool trades at the oracle price.
    pool: { sqrtPriceX96: et.sqrtPriceX96[j]!, tick: 0, liquidity: range.liquidity, priceE8 },
    wallet: { ethWei: 0n, wethWei: s.wethWei, usdcUnits: s.usdcUnits },
    lps: [lp],
    hedge: perpAccountView(s.perp, c.pp, priceE8),
  };
}
