import type { ContractFunctionParameters } from 'viem';
import { uniswapV3PoolAbi } from '../../contracts-abi/index.js';
import type { Address } from '../core/types.js';
import { feeGrowthInsideX128, feesOwed, type TickFeeGrowth } from '../spot/uniswap-math.js';

/**
 * The pool reads that price an LP's uncollected fees (what `collect` would pay), as calls for the
 * snapshot's one multicall. The ticks to read come from the previous read (a token id's range
 * never changes); a position whose ticks were not in the call costs one more round, once.
 */

/** positions(tokenId) of the NonfungiblePositionManager, as viem decodes it. */
export type RawPosition = readonly [bigint, Address, Address, Address, number, number, number, bigint, bigint, bigint, bigint, bigint];

export interface PoolFeeGrowth {
  /** The pool's fee tier: positions in another tier are in another pool. */
  fee: number;
  feeGrowthGlobal0X128: bigint;
  feeGrowthGlobal1X128: bigint;
  /** By tick number, the ticks read so far at this block. */
  ticks: Map<number, TickFeeGrowth>;
}

const poolCall = (pool: Address, functionName: string, args?: readonly unknown[]): ContractFunctionParameters => ({
  address: pool,
  abi: uniswapV3PoolAbi,
  functionName,
  ...(args ? { args } : {}),
});

export function tickCalls(pool: Address, ticks: readonly number[]): ContractFunctionParameters[] {
  return ticks.map((t) => poolCall(pool, 'ticks', [t]));
}

/** fee, feeGrowthGlobal0X128, feeGrowthGlobal1X128, then ticks(t) for each tick, in that order. */
export function poolFeeCalls(pool: Address, ticks: readonly number[]): ContractFunctionParameters[] {
  return [poolCall(pool, 'fee'), poolCall(pool, 'feeGrowthGlobal0X128'), poolCall(pool, 'feeGrowthGlobal1X128'), ...tickCalls(pool, ticks)];
}

/** Add the results of `tickCalls(pool, ticks)` to `into`. */
export function addTicks(into: Map<number, TickFeeGrowth>, ticks: readonly number[], results: readonly unknown[]): void {
  ticks.forEach((t, i) => {
    const raw = results[i] as readonly [bigint, bigint, bigint, bigint, ...unknown[]];
    into.set(t, { feeGrowthOutside0X128: raw[2], feeGrowthOutside1X128: raw[3] });
  });
}

export function parsePoolFeeGrowth(results: readonly unknown[], ticks: readonly number[]): PoolFeeGrowth {
  const [fee, g0, g1] = results as [number, bigint, bigint];
  const out: PoolFeeGrowth = { fee: Number(fee), feeGrowthGlobal0X128: g0, feeGrowthGlobal1X128: g1, ticks: new Map() };
  addTicks(out.ticks, ticks, results.slice(3));
  return out;
}

/** The distinct ticks whose fee growth the given positions need (those with liquidity). */
export function ticksNeeded(positions: readonly RawPosition[]): number[] {
  const set = new Set<number>();
  for (const p of positions) {
    if (p[7] === 0n) continue;
    set.add(p[5]);
    set.add(p[6]);
  }
  return [...set].sort((x, y) => x - y);
}

/** What collect would pay for the position now, token0 and token1 (tokensOwed included). */
export function positionFeesOwed(raw: RawPosition, growth: PoolFeeGrowth, tickCurrent: number): { amount0: bigint; amount1: bigint } {
  const [, , , , , tickLower, tickUpper, liquidity, last0, last1, owed0, owed1] = raw;
  // Without liquidity the position manager adds nothing to tokensOwed (and the ticks may be gone).
  if (liquidity === 0n) return { amount0: owed0, amount1: owed1 };
  const lower = growth.ticks.get(tickLower);
  const upper = growth.ticks.get(tickUpper);
  if (!lower || !upper) throw new Error(`LP fees: ticks ${tickLower}/${tickUpper} of the position were not read`);
  const inside = feeGrowthInsideX128({
    tickLower,
    tickUpper,
    tickCurrent,
    feeGrowthGlobal0X128: growth.feeGrowthGlobal0X128,
    feeGrowthGlobal1X128: growth.feeGrowthGlobal1X128,
    lower,
    upper,
  });
  return feesOwed({
    liquidity,
    feeGrowthInside0LastX128: last0,
    feeGrowthInside1LastX128: last1,
    tokensOwed0: owed0,
    tokensOwed1: owed1,
    ...inside,
  });
}
