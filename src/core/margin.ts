import type { AaveAccount, HedgeAccount, PerpAccount } from './types.js';
import { aaveBaseValueE8, aaveHealthFactorE18 } from '../venues/aave-math.js';
import { E18, E8, MAX_UINT256, USDC_UNIT, absBig, ceilDiv } from './format.js';

/**
 * Collateral models of the hedge venues, in bigint fixed point. One function per question the
 * planner asks: "what is the ratio after this trade and this top-up?" and "how much USDC brings
 * the ratio to the target?". Ratios are E18 (1e18 = 1.0); a venue with no position has an
 * infinite ratio, reported as maxUint256 like the contracts do.
 */

/** USDC units per (wei * priceE8): 1e18 wei * 1e8 price -> 1e6 units. */
const WEI_E8_PER_UNIT = 10n ** 20n;
const BPS = 10_000n;

export interface CollateralScenario {
  /** Hedge size after the planned trade (perp size; Aave: -debt). */
  sizeAfterWei: bigint;
  /** Oracle price of the snapshot: the trade is assumed to fill there. */
  priceE8: bigint;
  /** Value the account at this price instead (what-if); defaults to priceE8. */
  atPriceE8?: bigint;
  /** USDC price (Aave values collateral with it); defaults to 1e8. */
  quotePriceE8?: bigint;
  /** USDC added to the collateral. */
  extraCollateralUnits?: bigint;
}

/** The hedge position as a signed base amount: perp size, or minus the Aave WETH debt. */
export function hedgeSizeWei(account: HedgeAccount): bigint {
  return account.venue === 'perp' ? account.sizeWei : -account.debtWei;
}

/** Ratio at which the venue liquidates: perp maintenance margin, Aave health factor 1.0. */
export function liquidationRatioE18(account: HedgeAccount): bigint {
  return account.venue === 'perp' ? account.maintenanceRatioE18 : E18;
}

/** Taker fee of a perp trade of |sizeDeltaWei| at priceE8, USDC units, rounded up (conservative). */
export function perpTradeFeeUnits(account: PerpAccount, sizeDeltaWei: bigint, priceE8: bigint): bigint {
  return ceilDiv(absBig(sizeDeltaWei) * priceE8 * account.takerFeeBps, WEI_E8_PER_UNIT * BPS);
}

/** Signed division rounded toward negative infinity (the exchange's PnL rounding). */
function floorDiv(x: bigint, d: bigint): bigint {
  const q = x / d;
  return x % d !== 0n && x < 0n ? q - 1n : q;
}

/**
 * Perp account value after trading to sizeAfter at priceE8 (the fee leaves the margin, realized
 * PnL only moves from unrealized to margin) and moving the price to atPriceE8. Pending funding is
 * already inside accountValueUnits and does not depend on the price, so it carries over.
 */
function perpAccountValueAfter(account: PerpAccount, s: CollateralScenario): bigint {
  const at = s.atPriceE8 ?? s.priceE8;
  const fee = perpTradeFeeUnits(account, s.sizeAfterWei - account.sizeWei, s.priceE8);
  const pnlMove = floorDiv(s.sizeAfterWei * (at - s.priceE8), WEI_E8_PER_UNIT);
  // A trade that grows the position re-averages the entry price in whole E8 steps, and the
  // exchange floors the PnL against that entry: up to one unit lost to rounding.
  const reaveraged = account.sizeWei !== 0n && account.entryPriceE8 !== s.priceE8 && absBig(s.sizeAfterWei) > absBig(account.sizeWei);
  const entryRounding = reaveraged ? 1n : 0n;
  return account.accountValueUnits - fee + (s.extraCollateralUnits ?? 0n) + pnlMove - entryRounding;
}

/** Same arithmetic as PerpMath.marginRatio: notional rounded up, ratio down, 0 when value <= 0. */
function perpRatioAfter(account: PerpAccount, s: CollateralScenario): bigint {
  if (s.sizeAfterWei === 0n) return MAX_UINT256;
  const value = perpAccountValueAfter(account, s);
  if (value <= 0n) return 0n;
  const notionalUnits = ceilDiv(absBig(s.sizeAfterWei) * (s.atPriceE8 ?? s.priceE8), WEI_E8_PER_UNIT);
  return notionalUnits === 0n ? MAX_UINT256 : (value * E18) / notionalUnits;
}

function aaveRatioAfter(account: AaveAccount, s: CollateralScenario): bigint {
  // A positive hedge is impossible on Aave (a debt cannot go negative): treat it as no debt.
  return aaveHealthFactorE18({
    collateralUnits: account.collateralUnits + (s.extraCollateralUnits ?? 0n),
    usdcPriceE8: account.aaveUsdcPriceE8 ?? s.quotePriceE8 ?? E8,
    debtWei: s.sizeAfterWei < 0n ? -s.sizeAfterWei : 0n,
    // A stress price (atPriceE8) is a what-if; otherwise value as Aave does, with its oracle.
    wethPriceE8: s.atPriceE8 ?? account.aaveWethPriceE8 ?? s.priceE8,
    liquidationThresholdBps: account.liquidationThresholdBps,
  });
}

/** Collateral ratio (perp margin ratio / Aave health factor) after a trade and a top-up, E18. */
export function ratioAfter(account: HedgeAccount, s: CollateralScenario): bigint {
  return account.venue === 'perp' ? perpRatioAfter(account, s) : aaveRatioAfter(account, s);
}

/** The current ratio at the oracle price (no trade, no top-up). */
export function currentRatioE18(account: HedgeAccount, priceE8: bigint, quotePriceE8: bigint = E8): bigint {
  return ratioAfter(account, { sizeAfterWei: hedgeSizeWei(account), priceE8, quotePriceE8 });
}

/**
 * Would the venue accept a trade that grows the hedge to sizeAfterWei? Perp: the margin ratio
 * after the trade must stay >= the initial ratio. Aave: the debt after the borrow must stay
 * within collateral * LTV. A trade that shrinks the hedge is always accepted.
 */
export function increaseAllowed(account: HedgeAccount, s: CollateralScenario): boolean {
  const before = hedgeSizeWei(account);
  if (absBig(s.sizeAfterWei) <= absBig(before) && (s.sizeAfterWei === 0n || (s.sizeAfterWei < 0n) === (before < 0n))) {
    return true;
  }
  if (account.venue === 'perp') return ratioAfter(account, s) >= account.initialRatioE18;
  const debtAfterWei = s.sizeAfterWei < 0n ? -s.sizeAfterWei : 0n;
  const collateralBaseE8 = aaveBaseValueE8(account.collateralUnits + (s.extraCollateralUnits ?? 0n), s.quotePriceE8 ?? E8, 6n);
  return (debtAfterWei * s.priceE8) / E18 <= (collateralBaseE8 * account.ltvBps) / BPS;
}

/**
 * USDC units to add so the ratio after trading to sizeAfterWei is >= targetRatioE18 (perp: after
 * the taker fee of that trade). Rounded up; 0 when the target is already met.
 */
export function topUpToReach(
  account: HedgeAccount,
  targetRatioE18: bigint,
  priceE8: bigint,
  sizeAfterWei: bigint,
  quotePriceE8: bigint = E8,
): bigint {
  // Sizing on no price would divide by it (Aave) or buy nothing real: a caller bug, said plainly.
  if (priceE8 <= 0n || quotePriceE8 <= 0n) {
    throw new RangeError(`topUpToReach: no usable price to size a top-up on (priceE8 ${priceE8}, quotePriceE8 ${quotePriceE8})`);
  }
  const scenario: CollateralScenario = { sizeAfterWei, priceE8, quotePriceE8 };
  if (ratioAfter(account, scenario) >= targetRatioE18) return 0n;
  let topUp = account.venue === 'perp'
    ? perpTopUpEstimate(account, targetRatioE18, scenario)
    : aaveTopUpEstimate(account, targetRatioE18, scenario);
  if (topUp < 0n) topUp = 0n;
  // The estimate is exact up to the venues' intermediate roundings; nudge up until it holds.
  for (let i = 0; i < 64; i++) {
    if (ratioAfter(account, { ...scenario, extraCollateralUnits: topUp }) >= targetRatioE18) return topUp;
    topUp += i < 8 ? 1n : topUp / 1000n + 1n;
  }
  throw new Error(`topUpToReach did not converge (target ${targetRatioE18}, size ${sizeAfterWei})`);
}

function perpTopUpEstimate(account: PerpAccount, targetE18: bigint, s: CollateralScenario): bigint {
  const requiredUnits = ceilDiv(targetE18 * absBig(s.sizeAfterWei) * s.priceE8, E18 * WEI_E8_PER_UNIT);
  return requiredUnits - perpAccountValueAfter(account, s);
}

function aaveTopUpEstimate(account: AaveAccount, targetE18: bigint, s: CollateralScenario): bigint {
  const debtAfterWei = s.sizeAfterWei < 0n ? -s.sizeAfterWei : 0n;
  const debtBaseE8 = (debtAfterWei * s.priceE8) / E18;
  const collateralBaseE8 = ceilDiv(targetE18 * debtBaseE8 * BPS, account.liquidationThresholdBps * E18);
  const units = ceilDiv(collateralBaseE8 * USDC_UNIT, s.quotePriceE8 ?? E8);
  return units - account.collateralUnits;
}

/**
 * Oracle price at which the ratio reaches the liquidation ratio, or null when there is no
 * position or no positive price liquidates it. Rounded toward the current price (conservative).
 *
 * Perp: value at price Q is AV0 + s * (Q - P0) (funding already in AV0), liquidation when it
 * equals mm * |s| * Q, so Q = (AV0 - s * P0) / (mm * |s| - s).
 * Aave: HF = 1 when collateral * LT = debt * Q, so Q = collateral * LT / debt.
 */
export function liquidationPriceE8(
  account: HedgeAccount,
  priceE8: bigint,
  quotePriceE8: bigint = E8,
): bigint | null {
  if (account.venue === 'aave') {
    if (account.debtWei <= 0n) return null;
    const collateralBaseE8 = aaveBaseValueE8(account.collateralUnits, quotePriceE8, 6n);
    return (collateralBaseE8 * account.liquidationThresholdBps * E18) / (BPS * account.debtWei);
  }
  const s = account.sizeWei;
  if (s === 0n) return null;
  const mm = account.maintenanceRatioE18;
  const numerator = (account.accountValueUnits * WEI_E8_PER_UNIT - s * priceE8) * E18;
  const denominator = mm * absBig(s) - s * E18;
  if (denominator === 0n) return null;
  if (s < 0n) {
    // Short: liquidated when the price rises; floor reports the price a hair early.
    return numerator <= 0n ? 0n : numerator / denominator;
  }
  // Long (mm < 1): liquidated when the price falls; null when even a zero price is safe.
  if (denominator >= 0n) return null;
  const q = ceilDiv(-numerator, -denominator);
  return q > 0n ? q : null;
}
