import type { AssetId, Portfolio, PortfolioAction, VenueId, VenueSpec } from '../../portfolio/model.js';
import type { PlanWarning } from '../types.js';
import type { TopUpAllowance } from '../guard.js';
import { E18, absBig, fixedToString, fmtRatioE18, minBig } from '../format.js';
import { COOLDOWN_OVERRIDE_BANDS } from '../plan.js';
import { allocateHedge, largestWithin, requiredChangeUnits, type PendingChanges } from './allocate.js';
import { venueSpec, type AssetAssessment, type BucketAssessment, type ModelOf, type PortfolioAssessment, type VenueAssessment } from './assess.js';
import { fmtUnits } from './exposure.js';
import { bucketName, planFunding, type Budget, type Unfunded } from './fund.js';
import type { ProxyHedge } from './proxy.js';
import { varLimitPlan, type PlanRiskInput, type VarLimitDecision } from './var-limit.js';

/**
 * Decide what to do about a portfolio assessment. Pure: time comes in as nowSec, venues are
 * reached through `opts.modelOf`. Today's single-asset rules per asset and per venue: safe mode
 * (portfolio-wide, per venue, per asset) sizes nothing on a doubted price; the cooldown and a
 * pending hedge hold hedges only; a top-up is the smallest amount that reaches the bucket's
 * target after the hedges planned this tick (a hedge increase never needs one: it is sized to
 * keep its venue's target ratio), clipped to the venue's allowance and the wallet, topped up from the bucket with the
 * most to spare when the wallet is short, and dropped (with a warning) if it cannot clear the
 * trigger. Order: collateral first, then hedge reductions, then increases, so no trade runs on
 * thin collateral. Reasons are built only for what is planned or refused, never on a quiet tick.
 */

export interface PortfolioPolicyState {
  /** Per asset: time of its last hedge trade (plan's clock, seconds); absent = never. */
  readonly lastHedgeAtSecByAsset: Readonly<Record<AssetId, number>>;
  /** Portfolio-wide: no hedge and no top-up anywhere. */
  readonly safeMode: { readonly reason: string } | null;
  readonly safeVenues?: Readonly<Record<VenueId, string>>;
  readonly safeAssets?: Readonly<Record<AssetId, string>>;
  /** A hedge still waiting for the chain: no new hedge; collateral actions go on. */
  readonly hedgeHold?: string | null;
}

export function initialPortfolioPolicyState(): PortfolioPolicyState {
  return { lastHedgeAtSecByAsset: {}, safeMode: null };
}

export interface PortfolioPlanOptions {
  readonly modelOf: ModelOf;
  /** Per venue: the most quote one top-up or move may add now (guard topUpAllowances); absent = no cap. */
  readonly topUpAllowance?: Readonly<Record<VenueId, TopUpAllowance>>;
  /** The risk engine's covariance, deltas, gamma and VaR: for policy.varLimitUsdE8 (var-limit.ts); absent = no VaR limit applied. */
  readonly risk?: PlanRiskInput;
}

export interface PortfolioPlanWarning extends PlanWarning {
  readonly venue: VenueId;
  readonly bucket: AssetId | null;
}

export interface PortfolioPlan {
  readonly actions: PortfolioAction[];
  readonly skipped: string[];
  readonly warnings: PortfolioPlanWarning[];
  /** The state if the plan is carried out (hedged assets restart their cooldown). */
  readonly state: PortfolioPolicyState;
  /** The portfolio VaR limit was exceeded: what the greedy chose and the VaR it predicts. */
  readonly varLimit?: VarLimitDecision;
  /** The assessment's proxy hedges (residual variance and VaR), when any asset is hedged by proxy. */
  readonly proxies?: readonly ProxyHedge[];
}

interface Ctx {
  readonly a: PortfolioAssessment;
  readonly state: PortfolioPolicyState;
  readonly portfolio: Portfolio;
  readonly opts: PortfolioPlanOptions;
  readonly pending: PendingChanges;
  readonly skipped: string[];
  readonly warnings: PortfolioPlanWarning[];
  /** Short increases no venue could take at its target ratio: funded from the wallet if it can. */
  readonly unfunded: Unfunded[];
  readonly budget: Budget;
}

export function planPortfolio(
  a: PortfolioAssessment,
  state: PortfolioPolicyState,
  portfolio: Portfolio,
  nowSec: number,
  opts: PortfolioPlanOptions,
): PortfolioPlan {
  const allowance = new Map<VenueId, bigint>();
  for (const [venue, al] of Object.entries(opts.topUpAllowance ?? {})) allowance.set(venue, al.units);
  const budget: Budget = { wallet: a.walletQuoteUnits > 0n ? a.walletQuoteUnits : 0n, allowance, added: new Map() };
  const c: Ctx = { a, state, portfolio, opts, pending: new Map(), skipped: [], warnings: [], unfunded: [], budget };
  const reductions: PortfolioAction[] = [];
  const increases: PortfolioAction[] = [];
  const hedged: AssetId[] = [];
  const place = (x: AssetAssessment, planned: HedgeAction[]): void => {
    for (const h of planned) {
      const before = x.instruments.find((i) => i.instrument === h.instrument)?.hedgeUnits ?? 0n;
      (absBig(before + h.sizeDeltaUnits) < absBig(before) ? reductions : increases).push(h);
    }
    if (planned.length > 0) hedged.push(x.asset);
  };
  for (const x of a.assets) {
    if (x.inBand) continue;
    place(x, planHedge(c, x, nowSec));
  }
  // The portfolio VaR limit, on the position the band trades leave.
  const limit = planVarLimit(c, hedged);
  for (const t of limit?.trades ?? []) place(t.x, planHedge(c, t.x, nowSec, t));
  // Sized after the hedges (for the position they leave), sent before them.
  const collateral = planCollateral(c);
  // What no venue could take at its target: a top-up from the wallet makes room, then the rest.
  const funded = planFunding({ ...c, modelOf: opts.modelOf }, c.unfunded, c.budget);
  for (const h of funded.hedges) {
    if (!hedged.includes(h.asset)) hedged.push(h.asset);
    const same = increases.findIndex((x) => x.kind === 'adjustHedge' && x.instrument === h.instrument);
    const prev = increases[same];
    if (prev?.kind === 'adjustHedge') increases[same] = { ...prev, sizeDeltaUnits: prev.sizeDeltaUnits + h.sizeDeltaUnits, reason: `${prev.reason}; ${h.reason}` };
    else increases.push(h);
  }
  const next = hedged.length === 0
    ? state
    : { ...state, lastHedgeAtSecByAsset: { ...state.lastHedgeAtSecByAsset, ...Object.fromEntries(hedged.map((id) => [id, nowSec])) } };
  return {
    actions: [...collateral, ...funded.topUps, ...reductions, ...increases], skipped: c.skipped, warnings: c.warnings, state: next,
    ...(limit ? { varLimit: limit.decision } : {}),
    ...(a.proxies ? { proxies: a.proxies } : {}),
  };
}

/** The VaR limit's trades for the assets not hedged this tick (var-limit.ts); null under the limit or without one. */
function planVarLimit(c: Ctx, hedged: readonly AssetId[]): { decision: VarLimitDecision; trades: Array<{ x: AssetAssessment; wanted: bigint; where: string }> } | null {
  const limitE8 = c.portfolio.policy.varLimitUsdE8;
  if (limitE8 === undefined || c.opts.risk === undefined) return null;
  const r = varLimitPlan({ assessment: c.a, portfolio: c.portfolio, risk: c.opts.risk, limitUsd: Number(limitE8) / 1e8, excluded: new Set(hedged) }, c.pending);
  if (r === null) return null;
  if (r.note) c.skipped.push(r.note);
  return { decision: r.decision, trades: r.trades.map((t) => ({ ...t, x: c.a.assets.find((y) => y.asset === t.asset)! })) };
}

/** Why nothing may be sized on this venue/bucket's prices now; null when they are believed. */
function priceDoubt(c: Ctx, venue: VenueId | null, assets: readonly AssetId[]): string | null {
  if (c.state.safeMode) return `safe mode (${c.state.safeMode.reason})`;
  const v = venue === null ? undefined : c.state.safeVenues?.[venue];
  if (v !== undefined) return `venue safe mode (${v})`;
  for (const id of assets) {
    const s = c.state.safeAssets?.[id];
    if (s !== undefined) return `${id} in safe mode (${s})`;
    if ((c.a.prices.pricesE8[id] ?? 0n) <= 0n) return `no usable ${id} price`;
  }
  if (c.a.prices.quotePriceE8 <= 0n) return `no usable ${c.portfolio.quote.id} price`;
  return null;
}

type HedgeAction = Extract<PortfolioAction, { kind: 'adjustHedge' }>;

function planHedge(c: Ctx, x: AssetAssessment, nowSec: number, over?: { wanted: bigint; where: string }): HedgeAction[] {
  const policy = c.portfolio.policy.assets[x.asset]!;
  const wanted = over?.wanted ?? requiredChangeUnits(x, policy);
  if (wanted === 0n) return [];
  const fmt = (u: bigint) => fmtUnits(u, x.decimals, x.asset);
  const keep = (x.bandUnits * (E18 - minBig(policy.hysteresisE18, E18))) / E18;
  const where = over?.where ??
    `${x.asset} deviation ${fmt(x.deviationUnits)} (hedge ${fmt(x.hedgeUnits)} vs target ${fmt(x.targetHedgeUnits)}` +
    `${x.proxyTargetUnits ? `, of which ${fmt(x.proxyTargetUnits)} hedges ${(x.proxyFor ?? []).join(', ')} by proxy` : ''}) outside band ${fmt(x.bandUnits)}`;
  const what = `${wanted < 0n ? 'sell' : 'buy'} ${fmt(absBig(wanted))}`;
  const hold = (why: string): [] => {
    c.skipped.push(`${why}: hedge ${what} not placed; ${where}`);
    return [];
  };
  // A proxy hedge in the target is sized on the proxied assets' prices too.
  const doubt = priceDoubt(c, null, [x.asset, ...(x.proxyFor ?? [])]);
  if (doubt !== null) return hold(doubt);
  if (c.state.hedgeHold) return hold(c.state.hedgeHold);
  if (x.unreadVenues.length > 0) return hold(`hedge on ${x.unreadVenues.join(', ')} not read`);
  const last = c.state.lastHedgeAtSecByAsset[x.asset];
  const waitSec = last === undefined ? 0 : Math.max(0, last + c.portfolio.policy.cooldownSec - nowSec);
  const urgent = absBig(x.deviationUnits) > COOLDOWN_OVERRIDE_BANDS * x.bandUnits;
  if (waitSec > 0 && !urgent) return hold(`${x.asset} cooldown: ${waitSec}s of ${c.portfolio.policy.cooldownSec}s left`);
  const alloc = allocateHedge({
    portfolio: c.portfolio,
    assessment: c.a,
    asset: x.asset,
    modelOf: c.opts.modelOf,
    excludedVenues: excludedVenues(c, x.asset),
    pending: c.pending,
    wantedUnits: wanted,
  });
  c.skipped.push(...alloc.reasons.map((r) => `${x.asset} allocation: ${r}`));
  if (wanted < 0n && alloc.unallocatedUnits < 0n) {
    c.unfunded.push({ asset: x.asset, units: -alloc.unallocatedUnits, excluded: excludedVenues(c, x.asset), where });
  }
  if (alloc.allocations.length === 0) return hold('no instrument could take it at its target ratio');
  const notes = [
    ...(waitSec > 0 ? [`cooldown (${waitSec}s left) overridden: deviation beyond ${COOLDOWN_OVERRIDE_BANDS}x the band`] : []),
    ...(alloc.unallocatedUnits !== 0n ? [`${fmt(alloc.unallocatedUnits)} left unallocated`] : []),
    ...(alloc.rateNote ? [alloc.rateNote] : []),
  ];
  const pct = `${fixedToString(minBig(policy.hysteresisE18, E18) * 100n, 18, 0)}%`;
  return alloc.allocations.map((h) => ({
    kind: 'adjustHedge',
    venue: h.venue,
    instrument: h.instrument,
    asset: h.asset,
    sizeDeltaUnits: h.sizeDeltaUnits,
    reason:
      `${where}: ${h.sizeDeltaUnits < 0n ? 'sell' : 'buy'} ${fmt(absBig(h.sizeDeltaUnits))} on ${h.instrument} ` +
      (over ? `(of ${what})` : `(of ${what}) to leave <= ${fmt(keep)} (hysteresis ${pct})`) + (notes.length ? `; ${notes.join('; ')}` : ''),
  }));
}

/** Venues that take none of this asset's hedge: in safe mode, or valued on a doubted price. */
function excludedVenues(c: Ctx, asset: AssetId): Record<VenueId, string> {
  const out: Record<VenueId, string> = {};
  for (const inst of c.portfolio.instruments) {
    if (inst.asset !== asset || out[inst.venue] !== undefined) continue;
    const v = c.a.venues.find((y) => y.venue === inst.venue);
    // Only the buckets that carry this asset's hedge size it: an isolated bucket of another asset does not.
    const carrying = (v?.buckets ?? []).filter((b) => b.asset === asset || b.asset === null);
    const assets = [...new Set([asset, ...carrying.flatMap((b) => b.assets)])];
    const doubt = priceDoubt(c, inst.venue, assets);
    if (doubt !== null) out[inst.venue] = doubt;
  }
  return out;
}

// --- collateral -------------------------------------------------------------------------------

interface Donor {
  readonly v: VenueAssessment;
  readonly b: BucketAssessment;
  readonly availableUnits: bigint;
}


function planCollateral(c: Ctx): PortfolioAction[] {
  const breached = c.a.venues
    .flatMap((v) => v.buckets.filter((b) => b.breached).map((b) => ({ v, b })))
    .map((r) => ({ ...r, urgency: r.b.triggerE18 > 0n ? (r.b.ratioE18 * E18) / r.b.triggerE18 : 0n }))
    .sort((p, q) => (p.urgency < q.urgency ? -1 : p.urgency > q.urgency ? 1 : 0));
  if (breached.length === 0) return [];
  const q = c.portfolio.quote;
  const fmt = (u: bigint) => fmtUnits(u, q.decimals, q.id);
  const actions: PortfolioAction[] = [];
  const allowance = (venue: VenueId) => c.budget.allowance.get(venue) ?? null;
  const movedOut = new Map<string, bigint>();
  for (const { v, b } of breached) {
    const spec = venueSpec(c.portfolio, v.venue);
    const name = bucketName(v.venue, b.asset);
    const why = `${name} ratio ${fmtRatioE18(b.ratioE18)} below trigger ${fmtRatioE18(b.triggerE18)}`;
    const doubt = priceDoubt(c, v.venue, b.assets);
    if (doubt !== null) {
      c.skipped.push(`${doubt}: no top-up sized on a price the keeper does not trust; ${why} at that price`);
      continue;
    }
    const model = c.opts.modelOf(spec);
    const hedgeDeltaUnits = c.pending.get(v.venue) ?? {};
    const neededUnits = model.topUpToTarget(spec, v.account!, c.a.prices, b.asset, b.targetE18, { hedgeDeltaUnits });
    if (neededUnits <= 0n) {
      c.skipped.push(`top-up: ${why}, but it needs none after the hedges planned this tick`);
      continue;
    }
    const cap = allowance(v.venue);
    const walletLeft = c.budget.wallet;
    const fromWallet = minBig(minBig(neededUnits, walletLeft), cap ?? neededUnits);
    let donor: Donor | null = null;
    let moveUnits = 0n;
    if (fromWallet < neededUnits && walletLeft < minBig(neededUnits, cap ?? neededUnits)) {
      donor = bestDonor(c, v, b, movedOut);
      if (donor) moveUnits = minBig(minBig(neededUnits - fromWallet, donor.availableUnits), (cap ?? neededUnits) - fromWallet);
    }
    const total = fromWallet + moveUnits;
    let reason = `${why}: add ${fmt(neededUnits)} to reach target ${fmtRatioE18(b.targetE18)}`;
    if (total < neededUnits) {
      const reached = total > 0n
        ? model.ratioAfter(spec, v.account!, c.a.prices, { hedgeDeltaUnits, collateralDeltaUnits: total, bucket: b.asset }, b.asset)
        : model.ratioAfter(spec, v.account!, c.a.prices, { hedgeDeltaUnits }, b.asset);
      const limits = [
        ...(cap !== null && cap < neededUnits ? [`${c.opts.topUpAllowance?.[v.venue]?.limitedBy ?? 'the top-up cap'}`] : []),
        ...(walletLeft < neededUnits ? [`the wallet's free ${fmt(walletLeft)}`] : []),
        ...(donor ? [`${fmt(donor.availableUnits)} to spare on ${bucketName(donor.v.venue, donor.b.asset)}`] : []),
      ].join(', ');
      if (reached < b.triggerE18) {
        const message =
          `top-up insufficient: ${why}, needs ${fmt(neededUnits)}, but limited by ${limits}: ${fmt(total)} would reach only ` +
          `${fmtRatioE18(reached)}, under the trigger; not sent (it would only feed a liquidation)`;
        c.skipped.push(message);
        c.warnings.push({ event: 'topup.insufficient', message, neededUnits, availableUnits: total, venue: v.venue, bucket: b.asset });
        continue;
      }
      reason += `; limited by ${limits}, reaching ${fmtRatioE18(reached)}`;
      c.skipped.push(`top-up of ${name} short by ${fmt(neededUnits - total)}: limited by ${limits}`);
    }
    if (fromWallet > 0n) {
      actions.push({ kind: 'topUp', venue: v.venue, asset: b.asset, amountUnits: fromWallet, reason: `${reason}; ${fmt(fromWallet)} from the wallet` });
    }
    if (donor && moveUnits > 0n) {
      const from = bucketName(donor.v.venue, donor.b.asset);
      actions.push({
        kind: 'moveCollateral', from: donor.v.venue, fromAsset: donor.b.asset, to: v.venue, toAsset: b.asset, amountUnits: moveUnits,
        reason: `${reason}; ${fmt(moveUnits)} moved from ${from} (${fmt(donor.availableUnits)} above its target ${fmtRatioE18(donor.b.targetE18)})`,
      });
      movedOut.set(from, (movedOut.get(from) ?? 0n) + moveUnits);
    }
    c.budget.wallet -= fromWallet;
    if (cap !== null) c.budget.allowance.set(v.venue, cap - total);
    c.budget.added.set(name, (c.budget.added.get(name) ?? 0n) + total);
  }
  return actions;
}

/** The bucket with the most quote withdrawable while it keeps its own target ratio (prices believed). */
function bestDonor(c: Ctx, to: VenueAssessment, toBucket: BucketAssessment, movedOut: Map<string, bigint>): Donor | null {
  let best: Donor | null = null;
  for (const v of c.a.venues) {
    if (v.account === null) continue;
    const spec = venueSpec(c.portfolio, v.venue);
    for (const b of v.buckets) {
      if (b.breached || (v.venue === to.venue && b.asset === toBucket.asset)) continue;
      if (priceDoubt(c, v.venue, b.assets) !== null) continue;
      const availableUnits = spareUnits(c, spec, v, b, movedOut.get(bucketName(v.venue, b.asset)) ?? 0n);
      if (availableUnits > 0n && (best === null || availableUnits > best.availableUnits)) best = { v, b, availableUnits };
    }
  }
  return best;
}

/**
 * Quote a bucket can give while it keeps its own target ratio, after what it already gave this
 * tick and after the hedges planned on its venue (a hedge increase there must keep its target too).
 */
function spareUnits(c: Ctx, spec: VenueSpec, v: VenueAssessment, b: BucketAssessment, givenUnits: bigint): bigint {
  const model = c.opts.modelOf(spec);
  const account = v.account!;
  const hedgeDeltaUnits = c.pending.get(v.venue);
  if (hedgeDeltaUnits === undefined) return model.withdrawableUnits(spec, account, c.a.prices, b.asset, b.targetE18) - givenUnits;
  const change = (x: bigint) => ({ hedgeDeltaUnits, collateralDeltaUnits: -(givenUnits + x), bucket: b.asset });
  return largestWithin(b.collateralUnits - givenUnits, (x) => model.ratioAfter(spec, account, c.a.prices, change(x), b.asset) >= b.targetE18);
}
