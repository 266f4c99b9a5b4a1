import type { MorphoMarketState, MorphoVenueAccount } from '../portfolio/model.js';

/**
 * Morpho Blue's arithmetic, to the wei: `MathLib`, `SharesMathLib`, `_accrueInterest` and
 * `_isHealthy` of Morpho.sol (v1.0.0). Pure; amounts are bigint base units.
 */

export const WAD = 10n ** 18n;
export const ORACLE_PRICE_SCALE = 10n ** 36n;
export const VIRTUAL_SHARES = 10n ** 6n;
export const VIRTUAL_ASSETS = 1n;
export const MAX_UINT256 = 2n ** 256n - 1n;

export const mulDivDown = (x: bigint, y: bigint, d: bigint): bigint => (x * y) / d;
export const mulDivUp = (x: bigint, y: bigint, d: bigint): bigint => (x * y + (d - 1n)) / d;
export const wMulDown = (x: bigint, y: bigint): bigint => mulDivDown(x, y, WAD);
export const wDivDown = (x: bigint, y: bigint): bigint => mulDivDown(x, WAD, y);

export const toSharesDown = (assets: bigint, totalAssets: bigint, totalShares: bigint): bigint =>
  mulDivDown(assets, totalShares + VIRTUAL_SHARES, totalAssets + VIRTUAL_ASSETS);
export const toSharesUp = (assets: bigint, totalAssets: bigint, totalShares: bigint): bigint =>
  mulDivUp(assets, totalShares + VIRTUAL_SHARES, totalAssets + VIRTUAL_ASSETS);
export const toAssetsDown = (shares: bigint, totalAssets: bigint, totalShares: bigint): bigint =>
  mulDivDown(shares, totalAssets + VIRTUAL_ASSETS, totalShares + VIRTUAL_SHARES);
export const toAssetsUp = (shares: bigint, totalAssets: bigint, totalShares: bigint): bigint =>
  mulDivUp(shares, totalAssets + VIRTUAL_ASSETS, totalShares + VIRTUAL_SHARES);

/** `MathLib.wTaylorCompounded`: e^(x·n) − 1 to three terms. */
export function wTaylorCompounded(x: bigint, n: bigint): bigint {
  const first = x * n;
  const second = mulDivDown(first, first, 2n * WAD);
  const third = mulDivDown(second, first, 3n * WAD);
  return first + second + third;
}

/**
 * The market after `_accrueInterest` at `nowSec` with the IRM's rate `ratePerSecE18` (what the
 * next transaction at that time sees first): borrow and supply grow by the interest, the fee's
 * supply shares are minted to the fee recipient. No IRM (rate 0) or no time elapsed: unchanged.
 */
export function accrueInterest(m: MorphoMarketState, ratePerSecE18: bigint, nowSec: bigint): MorphoMarketState {
  const elapsed = nowSec - m.lastUpdate;
  if (elapsed <= 0n) return m;
  const interest = wMulDown(m.totalBorrowAssets, wTaylorCompounded(ratePerSecE18, elapsed));
  const totalSupplyAssets = m.totalSupplyAssets + interest;
  let totalSupplyShares = m.totalSupplyShares;
  if (m.fee !== 0n) {
    const feeAmount = wMulDown(interest, m.fee);
    totalSupplyShares += toSharesDown(feeAmount, totalSupplyAssets - feeAmount, m.totalSupplyShares);
  }
  return { ...m, totalBorrowAssets: m.totalBorrowAssets + interest, totalSupplyAssets, totalSupplyShares, lastUpdate: nowSec };
}

/** The account's market accrued to its block time. */
export function accruedMarket(a: MorphoVenueAccount): MorphoMarketState {
  return accrueInterest(a.market, a.borrowRatePerSecE18, a.blockTimestampSec);
}

/** Borrowed assets of `borrowShares`, rounded up as `_isHealthy` does. */
export function borrowedAssets(borrowShares: bigint, m: MorphoMarketState): bigint {
  return toAssetsUp(borrowShares, m.totalBorrowAssets, m.totalBorrowShares);
}

/** `_isHealthy`'s maxBorrow: collateral valued at the oracle price, times LLTV, both rounded down. */
export function maxBorrowAssets(collateralUnits: bigint, oraclePriceE36: bigint, lltv: bigint): bigint {
  return wMulDown(mulDivDown(collateralUnits, oraclePriceE36, ORACLE_PRICE_SCALE), lltv);
}

/**
 * Health (E18): maxBorrow / borrowed, rounded down, so health >= 1e18 exactly when `_isHealthy`
 * holds. maxUint256 without borrow shares (`_isHealthy` returns true before any math then).
 */
export function morphoHealthE18(p: { borrowShares: bigint; collateralUnits: bigint; oraclePriceE36: bigint; lltv: bigint }, m: MorphoMarketState): bigint {
  if (p.borrowShares === 0n) return MAX_UINT256;
  return wDivDown(maxBorrowAssets(p.collateralUnits, p.oraclePriceE36, p.lltv), borrowedAssets(p.borrowShares, m));
}
