import type { AssetId, Portfolio, PortfolioAction, VenueId } from '../../portfolio/model.js';
import { absBig, fmtRatioE18, minBig } from '../format.js';
import { addPendingHedge, type PendingChanges } from './allocate.js';
import { venueSpec, type ModelOf, type PortfolioAssessment } from './assess.js';
import { fmtUnits } from './exposure.js';

/**
 * Room for a hedge the venues could not take at their target ratio: a top-up from the wallet on
 * the asset's first usable instrument, sized so that its bucket holds the target WITH the rest of
 * the hedge, then that hedge. This is how a new market with no margin yet gets its first short, and
 * how a venue at its limit grows instead of leaving the asset unhedged while the wallet holds
 * quote. Only from the wallet (within the venue's top-up allowance): collateral is not pulled out
 * of another venue to open a new short. Names no venue kind.
 */

export interface Unfunded {
  readonly asset: AssetId;
  /** Extra short still wanted, asset units (> 0). */
  readonly units: bigint;
  /** Venues excluded for this asset (safe mode, doubted prices). */
  readonly excluded: Readonly<Record<VenueId, string>>;
  /** The asset's situation, for the reasons ("ETH deviation ... outside band ..."). */
  readonly where: string;
}

export interface Budget {
  /** Free quote left in the wallet after this tick's other top-ups. */
  wallet: bigint;
  /** Per venue: what top-ups may still add this tick (undefined = no cap). */
  readonly allowance: Map<VenueId, bigint>;
  /** Quote already added this tick per bucket ("venue" or "venue/asset"). */
  readonly added: Map<string, bigint>;
}

export const bucketName = (venue: VenueId, bucket: AssetId | null) => (bucket === null ? venue : `${venue}/${bucket}`);

export function planFunding(
  c: { a: PortfolioAssessment; portfolio: Portfolio; modelOf: ModelOf; pending: PendingChanges; skipped: string[] },
  unfunded: readonly Unfunded[],
  budget: Budget,
): { topUps: PortfolioAction[]; hedges: Array<Extract<PortfolioAction, { kind: 'adjustHedge' }>> } {
  const topUps: PortfolioAction[] = [];
  const hedges: Array<Extract<PortfolioAction, { kind: 'adjustHedge' }>> = [];
  const q = c.portfolio.quote;
  const fmtQ = (u: bigint) => fmtUnits(u, q.decimals, q.id);
  for (const u of unfunded) {
    const policy = c.portfolio.policy.assets[u.asset];
    const x = c.a.assets.find((y) => y.asset === u.asset);
    if (!policy || !x) continue;
    const fmt = (v: bigint) => fmtUnits(v, x.decimals, x.asset);
    const instruments = c.portfolio.instruments.filter((i) => i.asset === u.asset && u.excluded[i.venue] === undefined).sort((p, r) => p.priority - r.priority);
    let why = `no instrument of ${u.asset} can be funded`;
    for (const inst of instruments) {
      const v = c.a.venues.find((y) => y.venue === inst.venue);
      const bucket = v?.buckets.find((b) => b.asset === u.asset) ?? v?.buckets.find((b) => b.asset === null);
      if (!v?.account || !bucket) continue;
      const spec = venueSpec(c.portfolio, inst.venue);
      const held = x.instruments.find((h) => h.instrument === inst.id)?.hedgeUnits ?? 0n;
      const pending = c.pending.get(inst.venue) ?? {};
      // The per-trade cap is per trade on the instrument: what the allocation already put there counts.
      let extra = minBig(u.units, policy.maxTradeUnits - absBig(pending[u.asset] ?? 0n));
      if (inst.maxSizeUnits !== null) extra = minBig(extra, inst.maxSizeUnits - absBig(held + (pending[u.asset] ?? 0n)));
      if (extra < policy.minTradeUnits || extra <= 0n) continue;
      const name = bucketName(inst.venue, bucket.asset);
      const change = {
        hedgeDeltaUnits: { ...pending, [u.asset]: (pending[u.asset] ?? 0n) - extra },
        collateralDeltaUnits: budget.added.get(name) ?? 0n,
        bucket: bucket.asset,
      };
      const need = c.modelOf(spec).topUpToTarget(spec, v.account, c.a.prices, bucket.asset, bucket.targetE18, change);
      const cap = budget.allowance.get(inst.venue);
      if (need > budget.wallet || (cap !== undefined && need > cap)) {
        why = `${inst.id} needs ${fmtQ(need)} more collateral for it, but ${need > budget.wallet ? `the wallet has ${fmtQ(budget.wallet)} free` : `its top-up allowance is ${fmtQ(cap ?? 0n)}`}`;
        continue;
      }
      if (need > 0n) {
        topUps.push({
          kind: 'topUp', venue: inst.venue, asset: bucket.asset, amountUnits: need,
          reason: `room for the ${u.asset} hedge: ${fmtQ(need)} into ${name} so that it holds its target ${fmtRatioE18(bucket.targetE18)} with ${fmt(-extra)} more on ${inst.id}; ${fmtQ(need)} from the wallet`,
        });
        budget.wallet -= need;
        if (cap !== undefined) budget.allowance.set(inst.venue, cap - need);
        budget.added.set(name, (budget.added.get(name) ?? 0n) + need);
      }
      addPendingHedge(c.pending, inst.venue, u.asset, -extra);
      hedges.push({
        kind: 'adjustHedge', venue: inst.venue, instrument: inst.id, asset: u.asset, sizeDeltaUnits: -extra,
        reason: `${u.where}: sell ${fmt(extra)} on ${inst.id} that no venue could take at its target ratio, after a top-up of ${fmtQ(need)} makes room`,
      });
      why = '';
      break;
    }
    if (why) c.skipped.push(`${u.asset}: ${fmt(u.units)} left unhedged: ${why}`);
  }
  return { topUps, hedges };
}
