import type { AssetId, AssetSpec, QuoteSpec, VenueAccount, VenueId, VenueSpec } from './model.js';

/**
 * The pure collateral model every venue kind provides, beside its adapter (src/venues/). The
 * planner asks these questions and names no venue; `venueModel(kind)` (src/venues/models.ts)
 * picks the implementation with an exhaustive switch.
 *
 * A venue has one or more collateral buckets: an isolated-margin perp has one per market (keyed
 * by the market's asset), a cross-margin lending account has one for the whole account (key null).
 */

export interface PriceContext {
  /** USD per whole token, E8, by asset id (the keeper's feeds; a venue may value with its own oracle). */
  readonly pricesE8: Readonly<Record<AssetId, bigint>>;
  readonly quotePriceE8: bigint;
  readonly assets: Readonly<Record<AssetId, AssetSpec>>;
  readonly quote: QuoteSpec;
}

export interface CollateralBucket {
  readonly venue: VenueId;
  /** The market's asset for an isolated-margin bucket; null for a whole-account bucket. */
  readonly asset: AssetId | null;
  /** The keeper's own ratio at the oracle prices; maxUint256 with no position/debt. */
  readonly ratioE18: bigint;
  /** The venue's own figure from the same block (for the consistency check). */
  readonly venueRatioE18: bigint;
  /** Ratio at which the venue liquidates (perp maintenance, Aave 1.0). */
  readonly liquidationRatioE18: bigint;
  /** Quote units held as collateral in this bucket. */
  readonly collateralUnits: bigint;
  /** Per hedged asset in the bucket: oracle price at which the ratio reaches liquidation (others fixed); null = none. */
  readonly liquidationPricesE8: Readonly<Record<AssetId, bigint | null>>;
}

/** A what-if on one venue: hedge changes per asset (asset units, signed) and quote added to a bucket. */
export interface VenueChange {
  readonly hedgeDeltaUnits?: Readonly<Record<AssetId, bigint>>;
  /** Quote units added (negative = withdrawn) to the bucket `bucket`. */
  readonly collateralDeltaUnits?: bigint;
  readonly bucket?: AssetId | null;
}

export interface VenueModel<S extends VenueSpec = VenueSpec, A extends VenueAccount = VenueAccount> {
  /** Signed hedge per asset held on this venue, asset units (perp size; Aave minus the debt). */
  hedgeUnits(spec: S, account: A, asset: AssetSpec): bigint;
  buckets(spec: S, account: A, ctx: PriceContext): CollateralBucket[];
  /** Ratio of `bucket` after the change, at the oracle prices; maxUint256 without a position. */
  ratioAfter(spec: S, account: A, ctx: PriceContext, change: VenueChange, bucket: AssetId | null): bigint;
  /** Smallest quote top-up (units, rounded up) that brings `bucket` to targetE18 after the hedge change; 0 if already there. */
  topUpToTarget(spec: S, account: A, ctx: PriceContext, bucket: AssetId | null, targetE18: bigint, change?: VenueChange): bigint;
  /** Largest extra short of `asset` (asset units, >= 0) the venue takes while its ratio stays >= keepRatioE18. */
  shortCapacityUnits(spec: S, account: A, ctx: PriceContext, asset: AssetSpec, keepRatioE18: bigint): bigint;
  /** Largest quote withdrawal (units, >= 0) from `bucket` that keeps its ratio >= keepRatioE18. */
  withdrawableUnits(spec: S, account: A, ctx: PriceContext, bucket: AssetId | null, keepRatioE18: bigint): bigint;
  /**
   * Does the venue's own view of the account (e.g. Aave's getUserAccountData) agree with the
   * model's? null when it does; otherwise why not (a position the portfolio does not model):
   * the keeper then leaves that venue alone and alerts. Absent = nothing to compare.
   */
  consistency?(spec: S, account: A, ctx: PriceContext): string | null;
  /**
   * The yearly cost of holding a short of `asset` here, E18, signed (negative: the short earns
   * funding); null = unknown (src/venues/venue-rates.ts). Absent = the venue quotes no rate.
   */
  shortCostAprE18?(spec: S, account: A, asset: AssetId): bigint | null;
}
