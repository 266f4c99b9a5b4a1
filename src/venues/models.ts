import type { AssetId, AssetSpec, VenueAccount, VenueSpec } from '../portfolio/model.js';
import type { CollateralBucket, PriceContext, VenueChange, VenueModel } from '../portfolio/venue-model.js';
import { assertNever } from '../portfolio/model.js';
import { aaveCollateralModel } from './aave-collateral.js';
import { hyperliquidCollateralModel } from './hyperliquid-collateral.js';
import { morphoCollateralModel } from './morpho-collateral.js';
import { perpCollateralModel } from './perp-collateral.js';

/**
 * The one place that maps a venue kind to its pure collateral model. The planner calls the
 * helpers below with a (spec, account) pair; they check the pair belongs together first, since
 * the generic VenueModel signature cannot tie an account's kind to its spec's at compile time.
 */

export function venueModel(spec: VenueSpec): VenueModel {
  const kind = spec.kind;
  switch (kind) {
    case 'perp':
      return perpCollateralModel;
    case 'aave':
      return aaveCollateralModel;
    case 'morpho':
      return morphoCollateralModel;
    case 'hyperliquid':
      return hyperliquidCollateralModel;
    default:
      // The spec object may hold bigints JSON cannot print: name the kind and the venue only.
      return assertNever(kind, `venue kind (venue ${String((spec as { id?: unknown }).id)})`);
  }
}

/** Throws unless `account` is the reading of the venue `spec` (same kind, same id). */
export function assertAccountOf(spec: VenueSpec, account: VenueAccount): void {
  if (account.kind !== spec.kind) {
    throw new Error(`venue ${spec.id}: account of kind ${account.kind} given for a ${spec.kind} venue`);
  }
  if (account.venue !== spec.id) {
    throw new Error(`venue ${spec.id}: account of venue ${account.venue} given`);
  }
}

function checked(spec: VenueSpec, account: VenueAccount): VenueModel {
  assertAccountOf(spec, account);
  return venueModel(spec);
}

export function hedgeUnitsOf(spec: VenueSpec, account: VenueAccount, asset: AssetSpec): bigint {
  return checked(spec, account).hedgeUnits(spec, account, asset);
}

export function bucketsOf(spec: VenueSpec, account: VenueAccount, ctx: PriceContext): CollateralBucket[] {
  return checked(spec, account).buckets(spec, account, ctx);
}

export function ratioAfterOf(spec: VenueSpec, account: VenueAccount, ctx: PriceContext, change: VenueChange, bucket: AssetId | null): bigint {
  return checked(spec, account).ratioAfter(spec, account, ctx, change, bucket);
}

export function topUpToTargetOf(
  spec: VenueSpec,
  account: VenueAccount,
  ctx: PriceContext,
  bucket: AssetId | null,
  targetE18: bigint,
  change?: VenueChange,
): bigint {
  return checked(spec, account).topUpToTarget(spec, account, ctx, bucket, targetE18, change);
}

export function shortCapacityUnitsOf(spec: VenueSpec, account: VenueAccount, ctx: PriceContext, asset: AssetSpec, keepRatioE18: bigint): bigint {
  return checked(spec, account).shortCapacityUnits(spec, account, ctx, asset, keepRatioE18);
}

export function withdrawableUnitsOf(spec: VenueSpec, account: VenueAccount, ctx: PriceContext, bucket: AssetId | null, keepRatioE18: bigint): bigint {
  return checked(spec, account).withdrawableUnits(spec, account, ctx, bucket, keepRatioE18);
}
