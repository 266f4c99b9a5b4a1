import type { AssetId, AssetSpec, LpHolding, Portfolio, PortfolioSnapshot } from '../../portfolio/model.js';
import { absBig, fixedToString } from '../format.js';

/**
 * The delta vector: per asset, what the account holds long (wallet + LP), in the asset's own
 * units and in USD. The hedge is not here: it lives on the venues and is read through their
 * models (assess.ts). Decimals come from the asset's spec only, never from a constant.
 */
export interface AssetExposure {
  readonly asset: AssetId;
  readonly decimals: number;
  /** 0 = no usable price: USD figures are then 0, and nothing may be sized on them. */
  readonly priceE8: bigint;
  readonly walletUnits: bigint;
  readonly lpUnits: bigint;
  readonly spotUnits: bigint;
  /** |wallet| + |lp|: the base of the percentage band. */
  readonly grossSpotUnits: bigint;
  readonly spotUsdE8: bigint;
}

const POW10 = new Map<number, bigint>();

export function pow10(decimals: number): bigint {
  let p = POW10.get(decimals);
  if (p === undefined) POW10.set(decimals, (p = 10n ** BigInt(decimals)));
  return p;
}

/** USD value (E8) of a signed amount in a token of `decimals` at a USD E8 price, truncated toward zero. */
export function unitsToUsdE8(units: bigint, priceE8: bigint, decimals: number): bigint {
  return (units * priceE8) / pow10(decimals);
}

/** Wallet holding of one asset: its token, plus the native coin when it wraps it and the policy counts it. */
export function walletUnits(portfolio: Portfolio, snapshot: PortfolioSnapshot, asset: AssetSpec): bigint {
  const token = snapshot.wallet.balances[asset.id] ?? 0n;
  return asset.wrapsNative && portfolio.policy.includeNative ? token + snapshot.wallet.nativeWei : token;
}

/**
 * Asset units each LP holding contributes (principal at the pool price + uncollected fees), by asset.
 * A position in a pool the portfolio does not declare is ignored: the keeper does not know its
 * tokens. A side that is the quote (or anything not an asset) carries no delta.
 */
export function lpUnitsByAsset(portfolio: Portfolio, lps: readonly LpHolding[]): Map<AssetId, bigint> {
  const assetIds = new Set(portfolio.assets.map((a) => a.id));
  const out = new Map<AssetId, bigint>();
  const credit = (id: string, units: bigint) => {
    if (assetIds.has(id)) out.set(id, (out.get(id) ?? 0n) + units);
  };
  for (const lp of lps) {
    const pool = portfolio.pools.find((p) => p.id === lp.pool);
    if (pool === undefined) continue;
    credit(pool.token0, lp.amount0 + lp.fees0);
    credit(pool.token1, lp.amount1 + lp.fees1);
  }
  return out;
}

/** The delta vector, in the portfolio's asset declaration order. */
export function portfolioExposures(portfolio: Portfolio, snapshot: PortfolioSnapshot): AssetExposure[] {
  const lp = lpUnitsByAsset(portfolio, snapshot.lps);
  return portfolio.assets.map((asset) => {
    const wallet = walletUnits(portfolio, snapshot, asset);
    const lpUnits = lp.get(asset.id) ?? 0n;
    const spot = wallet + lpUnits;
    const priceE8 = usablePriceE8(snapshot, asset.id);
    return {
      asset: asset.id,
      decimals: asset.decimals,
      priceE8,
      walletUnits: wallet,
      lpUnits,
      spotUnits: spot,
      grossSpotUnits: absBig(wallet) + absBig(lpUnits),
      spotUsdE8: unitsToUsdE8(spot, priceE8, asset.decimals),
    };
  });
}

/** The asset's price from the snapshot; a missing or non-positive answer is 0 (no usable price). */
export function usablePriceE8(snapshot: PortfolioSnapshot, asset: AssetId): bigint {
  const p = snapshot.prices[asset]?.priceE8 ?? 0n;
  return p > 0n ? p : 0n;
}

/** `1.234567 <asset id>` for reason strings: at most 6 decimals, sign kept. */
export function fmtUnits(units: bigint, decimals: number, id: string): string {
  return `${fixedToString(units, decimals, Math.min(decimals, 6))} ${id}`;
}
