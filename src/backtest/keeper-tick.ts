import type { HedgePolicy } from '../core/types.js';
import { bandWeiFor, type BandDecision } from '../core/band-policy.js';
import { effectiveBandWei, targetHedgeWei } from '../core/policy.js';
import { E18, MAX_UINT256, absBig, fmtEth } from '../core/format.js';
import { tickSync, type RunnerState } from '../runner/tick.js';
import type { EpisodeTrack, MarketTrack } from './market.js';
import { accountValueUnits, type PerpParams } from './perp-model.js';
import type { BacktestScenario, PolicySpec } from './policies.js';
import type { RunState, Totals } from './run-state.js';
import { createSimChain, type SimChain, type SimTick } from './sim-deps.js';

/**
 * The keeper's tick at one step of the backtest: the band of the policy's mode, then, when
 * anything can happen, the keeper's own tick (runner/tick.ts, run by tickSync) on a simulated
 * chain (sim-deps.ts): the Snapshot the models give, the actions carried out on the models. So
 * the decisions are the live keeper's by construction: it stops at a guard block, a top-up that
 * failed leaves no hedge, the planner clips a top-up to the guard's allowance.
 *
 * plan() acts only when the deviation is outside the band or the collateral ratio is under its
 * trigger; `screen` (see simulate.ts) already ruled out the ticks that are clearly neither, and
 * this checks the rest exactly, in bigint, before calling tick().
 */

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
  /** Sees every tick() the backtest runs (the equivalence test). */
  onTick?: (t: SimTick) => void;
  /** The simulated chain of this episode, made on the first tick. */
  chain?: SimChain;
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

/** A band as the screen needs it: a float (within ~1e-15), the exact wei and the note on demand. */
export interface Band {
  readonly approxWei: number;
  readonly bandWei: bigint;
  readonly note: string;
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

  get note(): string {
    return `fixed band ${fmtEth(this.bandWei)}`;
  }
}

/** A band of bandWeiFor without a float of its own (time, vol): the float made from the exact one. */
class ExactBand implements Band {
  readonly approxWei: number;
  constructor(private readonly d: BandDecision) {
    this.approxWei = Number(d.bandWei);
  }

  get bandWei(): bigint {
    return this.d.bandWei;
  }

  get note(): string {
    return this.d.note;
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
  return d.approxWei === undefined ? new ExactBand(d) : (d as Band);
}

/**
 * The rest of the step once the band is known: the exact check, then the keeper's tick() on
 * the simulated chain. Returns true when the account changed.
 */
export function actIfNeeded(c: TickContext, j: number, i: number, band: Band): boolean {
  const { s, t, et } = c;
  const { policy } = c.spec;
  const { priceE8 } = c.track.path.steps[i]!;
  const deviationWei = s.perp.sizeWei - targetHedgeWei(policy, s.wethWei + et.lpBaseWei[j]!);
  const ratio = perpRatioE18(accountValueUnits(s.perp, priceE8), s.perp.sizeWei, priceE8);
  if (!c.alwaysPlan && absBig(deviationWei) <= band.bandWei && ratio >= policy.marginTriggerE18) return false;
  t.plannedTicks++;
  const chain = (c.chain ??= createSimChain(c));
  // BAND_MODE fixed: assess computes the band itself, as live (runner/keeper.ts adaptiveBand).
  const tickBand = policy.bandMode === 'fixed' ? undefined : band;
  chain.at(j, i, tickBand);
  const state: RunnerState = { policy: s.policyState, guard: s.guardState };
  const r = tickSync(chain.deps, state);
  s.policyState = r.state.policy;
  s.guardState = r.state.guard;
  let changed = false;
  for (const x of r.results) {
    if (x.outcome === 'done') changed = true;
    else if (x.outcome === 'blocked') t.guardBlocked++;
  }
  c.onTick?.({ j, i, state, band: tickBand, result: r });
  return changed;
}
