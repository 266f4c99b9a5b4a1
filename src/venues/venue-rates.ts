import { fixedToString } from '../core/format.js';
import { SECONDS_PER_YEAR } from '../core/risk/returns.js';
import { assertNever, type AssetId, type VenueAccount, type VenueSpec } from '../portfolio/model.js';

/**
 * What holding a short costs on each venue kind, as one signed annual rate (E18, negative = the
 * short earns), so the allocation can compare venues of different kinds. Rates are annualized
 * simply (rate × periods per year, no compounding): the venues quote them that way.
 *
 * - perp (our devnet exchange): the market's funding rate per second (`getMarket`); a positive
 *   rate is paid by longs TO shorts, so it is income for the short.
 * - Aave V3: the borrowed reserve's `currentVariableBorrowRate` (ray, per year) from
 *   `getReserveData`. The quote collateral's supply rate is not netted: every venue holds quote
 *   collateral, so it does not tell venues apart.
 * - Morpho Blue: the IRM's `borrowRateView(params, market)` (per second, WAD).
 * - Hyperliquid: the coin's hourly funding (positive = longs pay shorts: income for the short).
 */

const YEAR_SEC = BigInt(SECONDS_PER_YEAR);
const HOURS_PER_YEAR = YEAR_SEC / 3_600n;
const RAY_PER_E18 = 10n ** 9n;

/** Perp funding per second (E18, positive = longs pay) as the short's cost per year. */
export const perpShortCostAprE18 = (fundingRatePerSecE18: bigint): bigint => -fundingRatePerSecE18 * YEAR_SEC;

/** Aave's variable borrow rate (ray, already per year) in E18, floored. */
export const aaveBorrowAprE18 = (variableBorrowRateRay: bigint): bigint => variableBorrowRateRay / RAY_PER_E18;

/** Morpho's IRM rate (per second, WAD) per year. */
export const morphoBorrowAprE18 = (borrowRatePerSecE18: bigint): bigint => borrowRatePerSecE18 * YEAR_SEC;

/** Hyperliquid hourly funding (E18, positive = longs pay) as the short's cost per year. */
export const hyperliquidShortCostAprE18 = (fundingRateHourlyE18: bigint): bigint => -fundingRateHourlyE18 * HOURS_PER_YEAR;

/** The assets a venue can short (its markets), in its spec's order. */
export function venueRateAssets(spec: VenueSpec): AssetId[] {
  switch (spec.kind) {
    case 'perp':
      return Object.keys(spec.markets);
    case 'aave':
      return Object.keys(spec.swapPools);
    case 'morpho':
      return [spec.loanAsset];
    case 'hyperliquid':
      return Object.keys(spec.markets);
    default:
      return assertNever(spec, 'venue kind');
  }
}

/**
 * The annual cost of a short of `asset` on this venue, E18 (negative = the short earns); null =
 * unknown (not read, or the venue has no such market): the allocation ranks that as the dearest.
 */
export function shortCostAprE18(spec: VenueSpec, account: VenueAccount | null | undefined, asset: AssetId): bigint | null {
  if (!account || account.kind !== spec.kind) return null;
  switch (spec.kind) {
    case 'perp':
    case 'aave':
      return (account as Extract<VenueAccount, { kind: 'perp' | 'aave' }>).shortCostAprE18?.[asset] ?? null;
    case 'morpho': {
      if (asset !== spec.loanAsset) return null;
      const m = account as Extract<VenueAccount, { kind: 'morpho' }>;
      return m.shortCostAprE18?.[asset] ?? morphoBorrowAprE18(m.borrowRatePerSecE18);
    }
    case 'hyperliquid': {
      const market = (account as Extract<VenueAccount, { kind: 'hyperliquid' }>).markets[asset];
      return market ? hyperliquidShortCostAprE18(market.fundingRateHourlyE18) : null;
    }
    default:
      return assertNever(spec, 'venue kind');
  }
}

export { fmtAprPct } from '../core/portfolio/rates-format.js';

/**
 * Every rate the account carries, by asset, as "3.10" (APR percent, 2 decimals; no spec needed,
 * for a log line): perp / Aave / Morpho from their read, Hyperliquid from its markets' funding.
 */
export function shortCostPcts(account: VenueAccount): Record<AssetId, string> {
  const rates: Record<AssetId, bigint> =
    account.kind === 'hyperliquid'
      ? Object.fromEntries(Object.entries(account.markets).map(([asset, m]) => [asset, hyperliquidShortCostAprE18(m.fundingRateHourlyE18)]))
      : { ...account.shortCostAprE18 };
  return Object.fromEntries(Object.entries(rates).map(([asset, r]) => [asset, fixedToString(r * 100n, 18, 2)]));
}
