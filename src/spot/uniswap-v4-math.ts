/**
 * Uniswap v4 position math. Pure. v4 prices a position exactly as v3 does (same TickMath and
 * SqrtPriceMath), so amounts come from `@uniswap/v3-sdk`'s SqrtPriceMath with v4's rounding;
 * what differs is how a pool and a position are named (a PoolKey hashed into a PoolId, a
 * PositionInfo packed into one word, a position salted with its token id) and how fees are
 * owed: v4 keeps no `tokensOwed`, every liquidity change pays the fees out (Position.update).
 */
import { encodeAbiParameters, keccak256, numberToHex, type Hex } from 'viem';
import type { Address } from '../core/types.js';
import { toBigint, toJsbi, v3Sdk } from './sdk.js';
import { Q128, subUint256 } from './uniswap-math.js';

/** v4-core's PoolKey: currencies in address order (0 = native), fee (0x800000 = dynamic), spacing, hooks. */
export interface V4PoolKey {
  readonly currency0: Address;
  readonly currency1: Address;
  readonly fee: number;
  readonly tickSpacing: number;
  readonly hooks: Address;
}

/** LPFeeLibrary.DYNAMIC_FEE_FLAG: the pool's fee is set by its hook, not by the key. */
export const V4_DYNAMIC_FEE = 0x800000;

/** PoolIdLibrary.toId: keccak256 of the abi-encoded key (five static words). */
export function v4PoolId(key: V4PoolKey): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'address' }, { type: 'address' }, { type: 'uint24' }, { type: 'int24' }, { type: 'address' }],
      [key.currency0, key.currency1, key.fee, key.tickSpacing, key.hooks],
    ),
  );
}

/** The PositionManager's positions live in the PoolManager under salt = bytes32(tokenId). */
export function v4PositionSalt(tokenId: bigint): Hex {
  return numberToHex(tokenId, { size: 32 });
}

const signed24 = (raw: bigint): number => {
  const v = Number(raw & 0xffffffn);
  return v >= 0x800000 ? v - 0x1000000 : v;
};

/** PositionInfoLibrary: 200 bits truncated pool id | 24 bits tickUpper | 24 bits tickLower | 8 bits hasSubscriber. */
export function decodeV4PositionInfo(info: bigint): { tickLower: number; tickUpper: number; hasSubscriber: boolean } {
  return { tickLower: signed24(info >> 8n), tickUpper: signed24(info >> 32n), hasSubscriber: (info & 0xffn) !== 0n };
}

/**
 * Principal a position's liquidity is worth at the pool's price: what Pool.modifyLiquidity pays
 * back when the liquidity is removed (SqrtPriceMath with a negative delta rounds down). `tick` is
 * slot0's tick, which the pool compares with (not one derived from the price).
 */
export function v4PositionAmounts(p: { liquidity: bigint; tickLower: number; tickUpper: number; sqrtPriceX96: bigint; tick: number }): { amount0: bigint; amount1: bigint } {
  if (p.liquidity === 0n) return { amount0: 0n, amount1: 0n };
  const { SqrtPriceMath, TickMath } = v3Sdk();
  const L = toJsbi(p.liquidity);
  const lower = TickMath.getSqrtRatioAtTick(p.tickLower);
  const upper = TickMath.getSqrtRatioAtTick(p.tickUpper);
  const price = toJsbi(p.sqrtPriceX96);
  if (p.tick < p.tickLower) return { amount0: toBigint(SqrtPriceMath.getAmount0Delta(lower, upper, L, false)), amount1: 0n };
  if (p.tick < p.tickUpper) {
    return { amount0: toBigint(SqrtPriceMath.getAmount0Delta(price, upper, L, false)), amount1: toBigint(SqrtPriceMath.getAmount1Delta(lower, price, L, false)) };
  }
  return { amount0: 0n, amount1: toBigint(SqrtPriceMath.getAmount1Delta(lower, upper, L, false)) };
}

/**
 * Position.update: fees owed since the position's checkpoint, mulDiv((inside - last) mod 2^256,
 * liquidity, 2^128), uint256 (the pool then casts to int128, reverting beyond: not our concern).
 */
export function v4FeesOwed(p: {
  liquidity: bigint;
  feeGrowthInside0X128: bigint;
  feeGrowthInside1X128: bigint;
  feeGrowthInside0LastX128: bigint;
  feeGrowthInside1LastX128: bigint;
}): { fees0: bigint; fees1: bigint } {
  return {
    fees0: (subUint256(p.feeGrowthInside0X128, p.feeGrowthInside0LastX128) * p.liquidity) / Q128,
    fees1: (subUint256(p.feeGrowthInside1X128, p.feeGrowthInside1LastX128) * p.liquidity) / Q128,
  };
}
