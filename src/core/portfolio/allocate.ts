import type { AssetId, AssetPolicy, InstrumentSpec, Portfolio, VenueId } from '../../portfolio/model.js';
import { E18, absBig, floorScaled, maxBig, minBig } from '../format.js';
import { tradeBackWei } from '../policy.js';
import { largestPassing } from '../bisect.js';
import { venueSpec, type AssetAssessment, type ModelOf, type PortfolioAssessment } from './assess.js';
import { fmtUnits } from './exposure.js';

/**
 * Splits one asset's hedge change across its instruments. Increases of the short fill instruments
 * in ascending priority, within one priority by weight; each takes at most what its size bound,
 * the per-trade cap and its venue's capacity (keeping the venue's TARGET ratio, so a hedge never
 * needs a top-up after it) allow, and the rest spills to the others. Reductions unwind the
 * last-filled (highest priority number) instruments first and never need capacity. Names no venue.
 */

export interface HedgeAllocation {
  readonly instrument: string;
  readonly venue: VenueId;
  readonly asset: AssetId;
  /** < 0 shorts more. Asset units. */
  readonly sizeDeltaUnits: bigint;
}

export interface AllocationResult {
  /** The change this tick asks for (trade back to band × (1 - hysteresis)); 0 in band. */
  readonly wantedUnits: bigint;
  readonly allocations: readonly HedgeAllocation[];
  /** wanted - allocated (signed): what no instrument could take, or was dropped as dust. */
  readonly unallocatedUnits: bigint;
  readonly reasons: readonly string[];
}

/** Hedge changes already planned this tick, per venue and asset, so capacity is not counted twice. */
export type PendingChanges = Map<VenueId, Record<AssetId, bigint>>;

export function addPendingHedge(p: PendingChanges, venue: VenueId, asset: AssetId, units: bigint): void {
  let v = p.get(venue);
  if (v === undefined) p.set(venue, (v = {}));
  v[asset] = (v[asset] ?? 0n) + units;
}

/** Largest x in [0, hi] with ok(x), for ok true up to a point and false after it; 0 when ok(0) fails. */
export function largestWithin(hi: bigint, ok: (x: bigint) => boolean): bigint {
  if (hi <= 0n || ok(hi)) return hi > 0n ? hi : 0n;
  return ok(0n) ? largestPassing(0n, hi, ok) : 0n;
}

/** The signed change an out-of-band asset needs: back to band × (1 - hysteresis) on the same side. */
export function requiredChangeUnits(a: AssetAssessment, policy: AssetPolicy): bigint {
  if (a.inBand) return 0n;
  const keep = E18 - policy.hysteresisE18;
  return tradeBackWei(a.deviationUnits, keep <= 0n ? 0n : (a.bandUnits * keep) / E18);
}

export interface AllocateInput {
  readonly portfolio: Portfolio;
  readonly assessment: PortfolioAssessment;
  readonly asset: AssetId;
  readonly modelOf: ModelOf;
  /** Venues that take no trade (safe mode), with the reason. */
  readonly excludedVenues?: Readonly<Record<VenueId, string>>;
  /** Changes already planned this tick; the allocation adds its own to it. */
  readonly pending?: PendingChanges;
  /** The change to split; default requiredChangeUnits. */
  readonly wantedUnits?: bigint;
}

interface Slot {
  readonly inst: InstrumentSpec;
  readonly hedgeUnits: bigint;
  readonly weight: bigint;
}

export function allocateHedge(input: AllocateInput): AllocationResult {
  const { portfolio, assessment, asset } = input;
  const a = assessment.assets.find((x) => x.asset === asset);
  const policy = portfolio.policy.assets[asset];
  if (a === undefined || policy === undefined) throw new Error(`allocateHedge: unknown asset ${asset}`);
  const wanted = input.wantedUnits ?? requiredChangeUnits(a, policy);
  if (wanted === 0n) return { wantedUnits: 0n, allocations: [], unallocatedUnits: 0n, reasons: [] };
  const fmt = (u: bigint) => fmtUnits(u, a.decimals, asset);
  const pending = input.pending ?? new Map();
  const reasons: string[] = [];
  const shortMore = wanted < 0n;
  const slots = portfolio.instruments
    .filter((i) => i.asset === asset)
    .map((inst): Slot => ({
      inst,
      hedgeUnits: a.instruments.find((h) => h.instrument === inst.id)?.hedgeUnits ?? 0n,
      weight: inst.weight > 0 ? floorScaled(inst.weight, 18) : 0n,
    }));
  const priorities = [...new Set(slots.map((s) => s.inst.priority))].sort((x, y) => (shortMore ? x - y : y - x));
  let remaining = absBig(wanted);
  const allocations: HedgeAllocation[] = [];
  for (const priority of priorities) {
    if (remaining === 0n) break;
    const group = slots.filter((s) => s.inst.priority === priority && usable(input, s, reasons));
    const limits = group.map((s) => limitOf(input, s, shortMore, remaining, policy, fmt));
    const amounts = waterfill(remaining, group.map((s) => s.weight), limits.map((l) => l.units));
    group.forEach((s, i) => {
      const units = amounts[i]!;
      const { by } = limits[i]!;
      if (by !== '' && units === limits[i]!.units) reasons.push(`${s.inst.id}: limited to ${fmt(shortMore ? -units : units)} by ${by}`);
      if (units === 0n) return;
      remaining -= units;
      const sizeDeltaUnits = shortMore ? -units : units;
      if (units < policy.minTradeUnits) {
        reasons.push(`${s.inst.id}: ${fmt(sizeDeltaUnits)} below min trade ${fmt(policy.minTradeUnits)}, dropped as dust`);
        return;
      }
      addPendingHedge(pending, s.inst.venue, asset, sizeDeltaUnits);
      allocations.push({ instrument: s.inst.id, venue: s.inst.venue, asset, sizeDeltaUnits });
    });
  }
  const allocated = allocations.reduce((sum, x) => sum + x.sizeDeltaUnits, 0n);
  const unallocatedUnits = wanted - allocated;
  if (unallocatedUnits !== 0n) reasons.push(`${fmt(unallocatedUnits)} of ${fmt(wanted)} not allocated this tick`);
  return { wantedUnits: wanted, allocations, unallocatedUnits, reasons };
}

function usable(input: AllocateInput, s: Slot, reasons: string[]): boolean {
  const excluded = input.excludedVenues?.[s.inst.venue];
  if (excluded !== undefined) {
    reasons.push(`${s.inst.id}: venue ${s.inst.venue} excluded: ${excluded}, its share spills over`);
    return false;
  }
  if (!input.assessment.venues.some((v) => v.venue === s.inst.venue && v.account !== null)) {
    reasons.push(`${s.inst.id}: venue ${s.inst.venue} was not read, its share spills over`);
    return false;
  }
  return true;
}

/** The most this instrument may move toward the wanted side (asset units, >= 0), at most `want`. */
function limitOf(
  input: AllocateInput,
  s: Slot,
  shortMore: boolean,
  want: bigint,
  policy: AssetPolicy,
  fmt: (u: bigint) => string,
): { units: bigint; by: string } {
  const h = s.hedgeUnits;
  const bounds: Array<[bigint, string]> = [[policy.maxTradeUnits, `the per-trade cap ${fmt(policy.maxTradeUnits)}`]];
  if (!shortMore) {
    // Only a short is unwound: no venue model states a long capacity, so none is opened.
    bounds.push([maxBig(-h, 0n), `its short ${fmt(maxBig(-h, 0n))} (no long hedge is opened)`]);
  } else {
    if (s.inst.maxSizeUnits !== null) {
      bounds.push([maxBig(h + s.inst.maxSizeUnits, 0n), `its max size ${fmt(s.inst.maxSizeUnits)}`]);
    }
    const room = minBig(want, bounds.reduce((m, [b]) => minBig(m, b), want));
    const longPart = maxBig(h, 0n);
    const extra = room > longPart ? capacityUnits(input, s, room - longPart) : 0n;
    bounds.push([longPart + extra, `venue capacity at its target ratio`]);
  }
  let limit = want;
  let by = '';
  for (const [b, label] of bounds) {
    if (b < limit) [limit, by] = [b, label];
  }
  return { units: limit, by };
}

/**
 * Extra short (<= want) the venue takes while the instrument's bucket stays at or above the
 * venue's target ratio, counting what this tick already planned on the venue.
 */
function capacityUnits(input: AllocateInput, s: Slot, want: bigint): bigint {
  const { portfolio, assessment, modelOf } = input;
  const spec = venueSpec(portfolio, s.inst.venue);
  const v = assessment.venues.find((x) => x.venue === spec.id);
  const assetSpec = assessment.prices.assets[s.inst.asset];
  if (v?.account == null || assetSpec === undefined) return 0n;
  const model = modelOf(spec);
  const keep = spec.collateral.targetE18;
  const p = input.pending?.get(spec.id);
  if (p === undefined) return minBig(want, model.shortCapacityUnits(spec, v.account, assessment.prices, assetSpec, keep));
  const bucket = v.buckets.some((b) => b.asset === s.inst.asset)
    ? s.inst.asset
    : v.buckets.some((b) => b.asset === null) ? null : s.inst.asset;
  const account = v.account;
  return largestWithin(want, (x) => {
    const hedgeDeltaUnits = { ...p, [s.inst.asset]: (p[s.inst.asset] ?? 0n) - x };
    return model.ratioAfter(spec, account, assessment.prices, { hedgeDeltaUnits }, bucket) >= keep;
  });
}

/**
 * Split `total` by weight under per-slot limits, exactly: a slot that would get more than its
 * limit gets the limit and the rest is split again among the others; floor dust goes one unit at
 * a time in order. Zero weights share only what the weighted slots cannot take.
 */
export function waterfill(total: bigint, weights: readonly bigint[], limits: readonly bigint[]): bigint[] {
  const out = weights.map(() => 0n);
  let active = limits.map((l, i) => (l > 0n ? i : -1)).filter((i) => i >= 0);
  let rem = total;
  while (rem > 0n && active.length > 0) {
    const anyWeight = active.some((i) => weights[i]! > 0n);
    const w = (i: number) => (anyWeight ? weights[i]! : 1n);
    const sumW = active.reduce((s, i) => s + w(i), 0n);
    const shares = active.map((i) => (rem * w(i)) / sumW);
    const full = active.filter((i, k) => shares[k]! >= limits[i]!);
    if (full.length > 0) {
      for (const i of full) {
        out[i] = limits[i]!;
        rem -= limits[i]!;
      }
      active = active.filter((i) => !full.includes(i));
      continue;
    }
    active.forEach((i, k) => (out[i] = shares[k]!));
    rem -= shares.reduce((s, x) => s + x, 0n);
    // Each slot here is under its limit by more than a unit, and the floor dust is under one per slot.
    for (const i of active) {
      if (rem === 0n) break;
      if (w(i) === 0n) continue;
      out[i] = out[i]! + 1n;
      rem -= 1n;
    }
    break;
  }
  return out;
}
