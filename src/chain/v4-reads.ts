import { zeroAddress, type Chain, type ContractFunctionParameters, type PublicClient, type Transport } from 'viem';
import type { Address } from '../core/types.js';
import type { LpHolding, PoolSpec, PoolState, UniswapV4Spec } from '../portfolio/model.js';
import { decodeV4PositionInfo, v4FeesOwed, v4PoolId, v4PositionAmounts, v4PositionSalt, type V4PoolKey } from '../spot/uniswap-v4-math.js';
import { v4PositionManagerAbi, v4StateViewAbi, v4TransferEvent } from './v4-abi.js';

/**
 * Uniswap v4 LP positions of the account, as calls for the portfolio snapshot's one multicall
 * (src/chain/portfolio-snapshot.ts appends `tick().segments` to its own and hands the results
 * back). A steady tick reads, in that same call: the PositionManager's and StateView's pool
 * manager (a misdeclared address is caught every tick), the account's NFT count and the owner of
 * each position it held last time, each declared pool's slot0 and liquidity, and per position its
 * liquidity and fee checkpoint (getPositionInfo) and the pool's fee growth inside its range.
 *
 * v4's PositionManager does not enumerate an owner's tokens: when the NFT count is not the number
 * of known positions still owned, the account's incoming Transfer logs are searched (from
 * `fromBlock` the first time, then from the last block searched), and the new positions cost two
 * more rounds (their pool key and range, then their state). A token id's key and range never
 * change, so they are read once.
 */

type Client = PublicClient<Transport, Chain>;
/** The snapshot's segment: calls that belong together, named for the error when one fails. */
export interface V4Segment {
  label: string;
  calls: readonly ContractFunctionParameters[];
  /** A failed call is `undefined` instead of an error (ownerOf of a burned token reverts). */
  allowFailure?: boolean;
}
export type RunSegments = (segments: readonly V4Segment[]) => Promise<unknown[][]>;

/** Blocks per eth_getLogs request when searching for the account's position NFTs. */
const LOG_RANGE_BLOCKS = 50_000n;

interface KnownPosition {
  tokenId: bigint;
  /** The declared pool it is in; null = a pool the portfolio does not declare (ignored). */
  spec: PoolSpec | null;
  poolId: `0x${string}`;
  tickLower: number;
  tickUpper: number;
}

interface DeclaredPool {
  spec: PoolSpec;
  key: V4PoolKey;
  poolId: `0x${string}`;
}

export interface V4Tick {
  segments: V4Segment[];
  /** This tick's results of `segments`, in order; new positions are read with `run` at `at`. */
  parse(results: readonly unknown[][], at: bigint, run: RunSegments): Promise<{ pools: Record<string, PoolState>; lps: LpHolding[] }>;
}

export interface V4Reader {
  tick(): V4Tick;
}

export function createV4Reader(params: {
  publicClient: Client;
  account: Address;
  v4: UniswapV4Spec;
  /** The portfolio's v4 pools. */
  pools: readonly PoolSpec[];
  /** Token address of an asset or quote id. */
  token: (id: string) => Address;
}): V4Reader {
  const { publicClient, account, v4 } = params;
  const declared: DeclaredPool[] = params.pools.map((spec) => {
    const key: V4PoolKey = { currency0: params.token(spec.token0), currency1: params.token(spec.token1), fee: spec.fee, tickSpacing: spec.tickSpacing ?? 0, hooks: spec.hooks ?? zeroAddress };
    return { spec, key, poolId: v4PoolId(key) };
  });
  const byPoolId = new Map(declared.map((d) => [d.poolId, d]));
  /** Every token id ever seen arriving at the account, with its pool and range (never changes). */
  const seen = new Map<bigint, KnownPosition>();
  /** Ids owned at the last read, in discovery order. */
  let owned: KnownPosition[] = [];
  let searchedTo = v4.fromBlock - 1n;

  const pm = (functionName: string, args: readonly unknown[] = []): ContractFunctionParameters => ({ address: v4.positionManager, abi: v4PositionManagerAbi, functionName, args });
  const sv = (functionName: string, args: readonly unknown[] = []): ContractFunctionParameters => ({ address: v4.stateView, abi: v4StateViewAbi, functionName, args });
  const positionCalls = (p: KnownPosition): ContractFunctionParameters[] => [
    sv('getPositionInfo', [p.poolId, v4.positionManager, p.tickLower, p.tickUpper, v4PositionSalt(p.tokenId)]),
    sv('getFeeGrowthInside', [p.poolId, p.tickLower, p.tickUpper]),
  ];
  const pmLabel = `uniswap v4 position manager ${v4.positionManager}`;

  function toLp(p: KnownPosition, pool: PoolState, raw: readonly unknown[]): LpHolding | null {
    const [info, inside] = raw as [readonly [bigint, bigint, bigint], readonly [bigint, bigint]];
    const [liquidity, last0, last1] = info;
    // v4 pays fees out on every liquidity change: no liquidity, nothing owed, no holding.
    if (liquidity === 0n || p.spec === null) return null;
    const { amount0, amount1 } = v4PositionAmounts({ liquidity, tickLower: p.tickLower, tickUpper: p.tickUpper, sqrtPriceX96: pool.sqrtPriceX96, tick: pool.tick });
    const { fees0, fees1 } = v4FeesOwed({ liquidity, feeGrowthInside0X128: inside[0], feeGrowthInside1X128: inside[1], feeGrowthInside0LastX128: last0, feeGrowthInside1LastX128: last1 });
    const inRange = p.tickLower <= pool.tick && pool.tick < p.tickUpper;
    return { pool: p.spec.id, tokenId: p.tokenId, liquidity, tickLower: p.tickLower, tickUpper: p.tickUpper, inRange, amount0, amount1, fees0, fees1 };
  }

  /** Token ids that arrived at the account since the last search, from the PositionManager's Transfer logs. */
  async function searchTransfers(at: bigint): Promise<bigint[]> {
    const ids: bigint[] = [];
    for (let from = searchedTo + 1n; from <= at; from += LOG_RANGE_BLOCKS) {
      const to = from + LOG_RANGE_BLOCKS - 1n < at ? from + LOG_RANGE_BLOCKS - 1n : at;
      const logs = await publicClient
        .getLogs({ address: v4.positionManager, event: v4TransferEvent, args: { to: account }, fromBlock: from, toBlock: to })
        .catch((err: unknown) => {
          throw new Error(`${pmLabel}: searching Transfer logs to ${account} in blocks ${from}-${to} failed`, { cause: err });
        });
      for (const l of logs) if (l.args.id !== undefined) ids.push(l.args.id);
    }
    if (at > searchedTo) searchedTo = at;
    return ids;
  }

  /** The account's positions now: every id ever seen, re-checked with ownerOf; new ones get their key and range. */
  async function discover(at: bigint, run: RunSegments): Promise<KnownPosition[]> {
    for (const id of await searchTransfers(at)) if (!seen.has(id)) seen.set(id, { tokenId: id, spec: null, poolId: '0x', tickLower: 0, tickUpper: 0 });
    const ids = [...seen.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const fresh = ids.filter((id) => (seen.get(id) as KnownPosition).poolId === '0x');
    const [owners, infos] = await run([
      { label: `${pmLabel} (owners)`, calls: ids.map((id) => pm('ownerOf', [id])), allowFailure: true },
      { label: pmLabel, calls: fresh.map((id) => pm('getPoolAndPositionInfo', [id])) },
    ]);
    fresh.forEach((id, i) => {
      const [key, info] = (infos as unknown[])[i] as [V4PoolKey, bigint];
      const poolId = v4PoolId(key);
      seen.set(id, { tokenId: id, spec: byPoolId.get(poolId)?.spec ?? null, poolId, ...decodeV4PositionInfo(info) });
    });
    return ids.flatMap((id, i) => ((owners as unknown[])[i] as Address | undefined)?.toLowerCase() === account.toLowerCase() ? [seen.get(id) as KnownPosition] : []);
  }

  function tick(): V4Tick {
    const then = owned;
    const tracked = then.filter((p) => p.spec !== null);
    const segments: V4Segment[] = [
      { label: 'uniswap v4 pool managers', calls: [pm('poolManager'), sv('poolManager')] },
      { label: pmLabel, calls: [pm('balanceOf', [account])] },
      { label: `${pmLabel} (owners)`, calls: then.map((p) => pm('ownerOf', [p.tokenId])), allowFailure: true },
      ...declared.map((d) => ({ label: `v4 pool ${d.spec.id} (${d.poolId})`, calls: [sv('getSlot0', [d.poolId]), sv('getLiquidity', [d.poolId])] })),
      { label: `uniswap v4 state view ${v4.stateView} (positions)`, calls: tracked.flatMap(positionCalls) },
    ];

    async function parse(results: readonly unknown[][], at: bigint, run: RunSegments) {
      const [managers, [count], owners, ...rest] = results as [unknown[], [bigint], (Address | undefined)[], ...unknown[][]];
      for (const m of managers) {
        if ((m as Address).toLowerCase() !== v4.poolManager.toLowerCase()) throw new Error(`uniswap v4: the position manager or state view reads pool manager ${String(m)}, declared ${v4.poolManager}`);
      }
      const pools: Record<string, PoolState> = {};
      declared.forEach((d, i) => {
        const [slot0, liquidity] = rest[i] as [readonly [bigint, number, number, number], bigint];
        if (slot0[0] === 0n) throw new Error(`v4 pool ${d.spec.id}: pool ${d.poolId} is not initialized (check currencies, fee, tickSpacing and hooks)`);
        pools[d.spec.id] = { sqrtPriceX96: slot0[0], tick: slot0[1], liquidity };
      });
      const stateThen = rest[declared.length] as unknown[];
      const raw = new Map<bigint, unknown[]>(tracked.map((p, i) => [p.tokenId, stateThen.slice(2 * i, 2 * i + 2)]));
      const stillOwned = then.filter((_, i) => owners[i]?.toLowerCase() === account.toLowerCase());
      let now = stillOwned;
      if (BigInt(stillOwned.length) !== count) {
        now = await discover(at, run);
        const missing = now.filter((p) => p.spec !== null && !raw.has(p.tokenId));
        if (missing.length > 0) {
          const [state] = await run([{ label: `uniswap v4 state view ${v4.stateView} (new positions)`, calls: missing.flatMap(positionCalls) }]);
          missing.forEach((p, i) => raw.set(p.tokenId, (state as unknown[]).slice(2 * i, 2 * i + 2)));
        }
      }
      owned = now;
      const lps = now.flatMap((p) => {
        const lp = p.spec ? toLp(p, pools[p.spec.id] as PoolState, raw.get(p.tokenId) as unknown[]) : null;
        return lp ? [lp] : [];
      });
      return { pools, lps };
    }
    return { segments, parse };
  }

  return { tick };
}
