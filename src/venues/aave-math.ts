/**
 * Aave V3 (3.0.2) arithmetic, reproduced to the wei: `PercentageMath`, `WadRayMath` and the health factor of
 * `GenericLogic.calculateUserAccountData`. Pure; amounts are bigint base units.
 */

/** `interestRateMode` for variable-rate borrow/repay (1 = stable, which our devnet leaves disabled). */
export const AAVE_VARIABLE_RATE_MODE = 2n;

export const WAD = 10n ** 18n;
export const RAY = 10n ** 27n;
/** 100.00% in Aave's basis points. */
export const PERCENTAGE_FACTOR = 10_000n;
/** A health factor below this (1.0) is liquidatable. */
export const HEALTH_FACTOR_LIQUIDATION_THRESHOLD_E18 = WAD;
/** At or below HF 0.95 a liquidator may repay all of the debt; above it, half (`CLOSE_FACTOR_HF_THRESHOLD`). */
export const CLOSE_FACTOR_HF_THRESHOLD_E18 = 95n * 10n ** 16n;
/** `getUserAccountData().healthFactor` of an account without debt. */
export const MAX_UINT256 = 2n ** 256n - 1n;

const USDC_DECIMALS = 6n;
const WETH_DECIMALS = 18n;

function assertNonNegative(name: string, value: bigint): void {
  if (value < 0n) throw new RangeError(`${name} must be >= 0, got ${value}`);
}

/** `PercentageMath.percentMul`: value × bps / 10000, rounded half up. */
export function percentMul(value: bigint, percentageBps: bigint): bigint {
  assertNonNegative('value', value);
  assertNonNegative('percentageBps', percentageBps);
  return (value * percentageBps + PERCENTAGE_FACTOR / 2n) / PERCENTAGE_FACTOR;
}

/** `PercentageMath.percentDiv`: value × 10000 / bps, rounded half up. */
export function percentDiv(value: bigint, percentageBps: bigint): bigint {
  assertNonNegative('value', value);
  if (percentageBps <= 0n) throw new RangeError(`percentDiv by ${percentageBps}`);
  return (value * PERCENTAGE_FACTOR + percentageBps / 2n) / percentageBps;
}

/** `WadRayMath.wadDiv`: a / b in wad, rounded half up. Aave reverts on b = 0; so do we. */
export function wadDiv(a: bigint, b: bigint): bigint {
  assertNonNegative('a', a);
  if (b <= 0n) throw new RangeError(`wadDiv by ${b}`);
  return (a * WAD + b / 2n) / b;
}

/** `WadRayMath.rayMul`: a × b / 1e27, rounded half up (scaled balance × index). */
export function rayMul(a: bigint, b: bigint): bigint {
  assertNonNegative('a', a);
  assertNonNegative('b', b);
  return (a * b + RAY / 2n) / RAY;
}

/**
 * Value of `amount` base units in the oracle's base currency (USD, 8 decimals), truncated as
 * `GenericLogic._getUserBalanceInBaseCurrency` / `_getUserDebtInBaseCurrency` do.
 */
export function aaveBaseValueE8(amount: bigint, priceE8: bigint, decimals: bigint): bigint {
  assertNonNegative('amount', amount);
  assertNonNegative('priceE8', priceE8);
  return (amount * priceE8) / 10n ** decimals;
}

export interface AaveHealthFactorInput {
  /** aUSDC balance (`balanceOf`, interest included), USDC units. */
  collateralUnits: bigint;
  usdcPriceE8: bigint;
  /** Variable WETH debt (`balanceOf` of the variable debt token), wei. */
  debtWei: bigint;
  wethPriceE8: bigint;
  /** Liquidation threshold of the USDC reserve, bps (8000 = 80%). */
  liquidationThresholdBps: bigint;
}

/**
 * Aave's health factor (1e18 = 1.0) of a USDC-collateral / WETH-variable-debt account, to the wei.
 * With a single collateral the weighted threshold `Σ(value×LT)/Σvalue` is exactly LT, so
 * HF = percentMul(collateralBase, LT).wadDiv(debtBase); a debt worth 0 in base units gives maxUint256.
 */
export function aaveHealthFactorE18(input: AaveHealthFactorInput): bigint {
  const collateralBaseE8 = aaveBaseValueE8(input.collateralUnits, input.usdcPriceE8, USDC_DECIMALS);
  const debtBaseE8 = aaveBaseValueE8(input.debtWei, input.wethPriceE8, WETH_DECIMALS);
  if (debtBaseE8 === 0n) return MAX_UINT256;
  return wadDiv(percentMul(collateralBaseE8, input.liquidationThresholdBps), debtBaseE8);
}
