import type { AssetId, AssetPolicy, InstrumentSpec, Portfolio, VenueId } from '../../portfolio/model.js';
import { E18, absBig, floorScaled, maxBig, minBig } from '../format.js';
import { tradeBackWei } from '../policy.js';
import { largestPassing } from '../bisect.js';
import { venueSpec, type AssetAssessment, type ModelOf, type PortfolioAssessment } from './assess.js';
import { fmtUnits } from './exposure.js';
import { fmtAprPct } from './rates-format.js';

/**
 * Splits one asset's hedge change across its instruments. Increases of the short fill instruments
 * in ascending priority, within one priority by weight; each takes at most what its size bound,
 * the per-trade cap and its venue's capacity (keeping the venue's TARGET ratio, so a hedge never
 * needs a top-up after it) allow, and the rest spills to the others. Reductions unwind the
 * last-filled (highest priority number) instruments first and never need capacity. Names no venue.
 *
 * With the asset's `preferCheaperVenue`, one priority is split further by the short's cost on each
 * instrument's venue (src/venues/venue-rates.ts: a pure reading of the snapshot's rates): growth
 * fills the cheapest first, a reduction takes off the dearest first, equal rates share by weight,
 * and an unknown rate ranks as the dearest (never preferred on a guess).
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
  /** With preferCheaperVenue: the rates that ordered the instruments ("morpho 3.10% < aave 4.20%"). */
  readonly rateNote?: string;
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
  /** The short's annual cost on the instrument's venue, E18; null = unknown. */
  readonly rateE18: bigint | null;
}

/** Ascending cost; unknown last. */
const byCost = (x: bigint | null, y: bigint | null): number => (x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1);

/** One priority's slots in tiers of equal rate: cheapest first to grow the short, dearest first to shrink it. */
function rateTiers(group: readonly Slot[], shortMore: boolean): Slot[][] {
  const rates = [...new Set(group.map((s) => s.rateE18))].sort((x, y) => (shortMore ? byCost(x, y) : byCost(y, x)));
  return rates.map((r) => group.filter((s) => s.rateE18 === r));
}

/** "morpho 0.10% < aave 2.35%" over one priority's tiers, in the order they are visited; null for a lone instrument. */
function describeRates(tiers: readonly Slot[][], shortMore: boolean): string | null {
  if (tiers.flat().length < 2) return null;
  const cells = tiers.map((t) => [...new Set(t.map((s) => s.inst.venue))].map((v) => `${v} ${fmtAprPct(t[0]!.rateE18)}`).join(' = '));
  return cells.join(shortMore ? ' < ' : ' > ');
}

/** What the tiers of one allocation share: the rest to place, and what was placed so far. */
interface Fill {
  readonly input: AllocateInput;
  readonly policy: AssetPolicy;
  readonly fmt: (u: bigint) => string;
  readonly shortMore: boolean;
  remaining: bigint;
  readonly allocations: HedgeAllocation[];
  readonly reasons: string[];
  readonly pending: PendingChanges;
}

/** Water-fill the rest over one tier by weight, under each slot's limit; what it cannot take stays in `remaining`. */
function fillTier(f: Fill, group: readonly Slot[], asset: AssetId): void {
  const { shortMore, policy, fmt, reasons } = f;
  const limits = group.map((s) => limitOf(f.input, s, shortMore, f.remaining, policy, fmt));
  const amounts = waterfill(f.remaining, group.map((s) => s.weight), limits.map((l) => l.units));
  group.forEach((s, i) => {
    const units = amounts[i]!;
    const { by } = limits[i]!;
    if (by !== '' && units === limits[i]!.units) reasons.push(`${s.inst.id}: limited to ${fmt(shortMore ? -units : units)} by ${by}`);
    if (units === 0n) return;
    f.remaining -= units;
    const sizeDeltaUnits = shortMore ? -units : units;
    if (units < policy.minTradeUnits) {
      reasons.push(`${s.inst.id}: ${fmt(sizeDeltaUnits)} below min trade ${fmt(policy.minTradeUnits)}, dropped as dust`);
      return;
    }
    addPendingHedge(f.pending, s.inst.venue, asset, sizeDeltaUnits);
    f.allocations.push({ instrument: s.inst.id, venue: s.inst.venue, asset, sizeDeltaUnits });
  });
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
  const byRate = policy.preferCheaperVenue === true;
  const slots = portfolio.instruments
    .filter((i) => i.asset === asset)
    .map((inst): Slot => ({
      inst,
      hedgeUnits: a.instruments.find((h) => h.instrument === inst.id)?.hedgeUnits ?? 0n,
      weight: inst.weight > 0 ? floorScaled(inst.weight, 18) : 0n,
      rateE18: byRate ? rateOf(input, inst) : null,
    }));
  const priorities = [...new Set(slots.map((s) => s.inst.priority))].sort((x, y) => (shortMore ? x - y : y - x));
  const fill: Fill = { input, policy, fmt, shortMore, remaining: absBig(wanted), allocations: [], reasons, pending };
  const rateNotes: string[] = [];
  for (const priority of priorities) {
    if (fill.remaining === 0n) break;
    const group = slots.filter((s) => s.inst.priority === priority && usable(input, s, reasons));
    const tiers = byRate ? rateTiers(group, shortMore) : [group];
    const note = byRate ? describeRates(tiers, shortMore) : null;
    if (note !== null) rateNotes.push(note);
    for (const tier of tiers) {
      if (fill.remaining === 0n) break;
      fillTier(fill, tier, asset);
    }
  }
  const { allocations } = fill;
  const allocated = allocations.reduce((sum, x) => sum + x.sizeDeltaUnits, 0n);
  const unallocatedUnits = wanted - allocated;
  if (unallocatedUnits !== 0n) reasons.push(`${fmt(unallocatedUnits)} of ${fmt(wanted)} not allocated this tick`);
  const rateNote = rateNotes.length > 0 ? `${shortMore ? 'cheaper' : 'dearer'} venue first: ${rateNotes.join('; ')}` : undefined;
  return { wantedUnits: wanted, allocations, unallocatedUnits, reasons, ...(rateNote ? { rateNote } : {}) };
}

/** The short's cost on the instrument's venue for its asset, from the snapshot's account (its model's reading); null = unknown. */
function rateOf(input: AllocateInput, inst: InstrumentSpec): bigint | null {
  const v = input.assessment.venues.find((x) => x.venue === inst.venue);
  const spec = venueSpec(input.portfolio, inst.venue);
  return v?.account ? input.modelOf(spec).shortCostAprE18?.(spec, v.account, inst.asset) ?? null : null;
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
