import { erc20Abi, type Chain, type ContractFunctionParameters, type PublicClient, type Transport } from 'viem';
import { multicall3Abi, nonfungiblePositionManagerAbi, priceFeedAbi, uniswapV3PoolAbi } from '../../contracts-abi/index.js';
import type { Address, OracleRound } from '../core/types.js';
import {
  assertNever,
  type AssetPrice,
  type LpHolding,
  type PoolSpec,
  type PoolState,
  type Portfolio,
  type PortfolioSnapshot,
  type VenueAccount,
  type VenueSpec,
} from '../portfolio/model.js';
import { positionAmounts } from '../spot/uniswap-math.js';
import { aaveRateAssets, aaveReadCalls, aaveReservesChanged, parseAaveAccount, resolveAave, type AaveMarket } from '../venues/aave-read.js';
import { parsePerpAccount, perpReadCalls } from '../venues/perp-read.js';
import { readHyperliquidAccount } from '../venues/hyperliquid-read.js';
import { morphoMarketMoved, morphoRateCalls, morphoReadCalls, parseMorphoAccount, resolveMorpho, type MorphoMarketRef } from '../venues/morpho-read.js';
import { createV4Reader } from './v4-reads.js';
import { addTicks, parsePoolFeeGrowth, poolFeeCalls, positionFeesOwed, tickCalls, ticksNeeded, type PoolFeeGrowth, type RawPosition } from './lp-fee-reads.js';

export interface PortfolioSnapshotReader {
  /** Read the whole portfolio at one block (the latest when omitted). */
  read(blockNumber?: bigint): Promise<PortfolioSnapshot>;
}

type Client = PublicClient<Transport, Chain>;
type Settled = { status: 'success'; result: unknown } | { status: 'failure'; error: Error };
/** Calls that belong together, named for the error when one of them fails. */
interface Segment {
  label: string;
  calls: readonly ContractFunctionParameters[];
  /** A failed call reads as `undefined` instead of failing the snapshot. */
  allowFailure?: boolean;
  /**
   * A venue's reads: a call that reverts (a venue refusing to value an account on a price it
   * rejects, e.g. a feed answering 0) leaves that venue unread with the reason, instead of failing
   * the whole snapshot; the keeper then holds what that venue carries and says why.
   */
  venue?: string;
}

/** What a venue segment gives back when one of its calls reverted. */
class UnreadVenue {
  constructor(readonly reason: string) {}
}

const E8_DECIMALS = 8n;
const ONE_E8 = 10n ** E8_DECIMALS;

/** A feed answer in USD E8: exact when the feed has <= 8 decimals, floored beyond. <= 0 is no price. */
export function answerToE8(answer: bigint, decimals: number): bigint {
  if (answer <= 0n) return 0n;
  const d = BigInt(decimals);
  return d >= E8_DECIMALS ? answer / 10n ** (d - E8_DECIMALS) : answer * 10n ** (E8_DECIMALS - d);
}

function toRound(feed: Address, raw: unknown, decimals: unknown): OracleRound {
  const [roundId, answer, startedAt, updatedAt, answeredInRound] = raw as readonly [bigint, bigint, bigint, bigint, bigint];
  return { feed, roundId, answer, startedAt, updatedAt, answeredInRound, decimals: Number(decimals) };
}

const describe = (c: ContractFunctionParameters): string =>
  `${c.functionName}(${(c.args ?? []).map((a) => String(a)).join(', ')}) at ${c.address}`;

const poolKey = (token0: string, token1: string, fee: number): string => `${token0.toLowerCase()}/${token1.toLowerCase()}/${fee}`;

/**
 * The portfolio (every asset, pool and venue of `portfolio`) read at one block. As in the
 * single-asset reader (src/chain/snapshot.ts), a steady tick is ONE eth_call with Multicall3
 * deployed (plus eth_blockNumber when no block is passed): block time and native balance come
 * from Multicall3 itself, and the LP token ids, fee-growth ticks and Aave reserves list of the
 * previous read are re-read and checked inside the same call; only a change costs more rounds.
 * Any failed read throws, naming the feed, pool, wallet token or venue it belongs to.
 */
export function createPortfolioSnapshotReader(params: {
  publicClient: Client;
  account: Address;
  portfolio: Portfolio;
  /** Multicall3 address; without code there (or omitted): viem's deployless multicall. */
  multicall3?: Address;
  positionManager: Address;
}): PortfolioSnapshotReader {
  const { publicClient, account, portfolio: pf, positionManager } = params;
  const tokenOf = new Map<string, Address>([[pf.quote.id, pf.quote.token], ...pf.assets.map((a): [string, Address] => [a.id, a.token])]);
  const token = (id: string): Address => {
    const t = tokenOf.get(id);
    if (!t) throw new Error(`portfolio: pool token ${id} is neither an asset nor the quote`);
    return t;
  };
  // v4 pools are read by src/chain/v4-reads.ts: everything else here is v3.
  const v3Pools = pf.pools.filter((p) => (p.version ?? 'v3') === 'v3');
  const v4Pools = pf.pools.filter((p) => p.version === 'v4');
  const v4 = pf.uniswapV4 && v4Pools.length > 0 ? createV4Reader({ publicClient, account, v4: pf.uniswapV4, pools: v4Pools, token }) : null;
  const poolByKey = new Map(v3Pools.map((p) => [poolKey(token(p.token0), token(p.token1), p.fee), p]));
  const poolOf = (raw: RawPosition): PoolSpec | undefined => poolByKey.get(poolKey(raw[2], raw[3], raw[4]));

  let knownIds: bigint[] = [];
  /** Per Morpho venue: its market's params and the market state of the last read (for the IRM call). */
  const morphoRefs = new Map<string, MorphoMarketRef>();
  /** Per pool id: the ticks the last read's positions needed, read again in the same call. */
  let knownTicks = new Map<string, number[]>();
  let started: Promise<{ mc: Address | null; aave: Map<string, AaveMarket> }> | undefined;

  const npm = (functionName: string, args: readonly unknown[]): ContractFunctionParameters => ({
    address: positionManager,
    abi: nonfungiblePositionManagerAbi,
    functionName,
    args,
  });

  async function multicallSettled(contracts: readonly ContractFunctionParameters[], mc: Address | null, at: bigint): Promise<Settled[]> {
    if (contracts.length === 0) return [];
    return (await publicClient.multicall({
      contracts,
      allowFailure: true,
      blockNumber: at,
      // With Multicall3: one eth_call. The deployless fallback's initcode is size-capped: chunk it.
      ...(mc ? { multicallAddress: mc, batchSize: 0 } : { deployless: true, batchSize: 8_192 }),
    })) as Settled[];
  }

  /** One multicall of the segments; each segment's results, or a throw naming the failed call. */
  async function run(segments: readonly Segment[], mc: Address | null, at: bigint): Promise<unknown[][]> {
    const settled = await multicallSettled(segments.flatMap((s) => s.calls), mc, at);
    let i = 0;
    return segments.map((s) => {
      let unread: UnreadVenue | null = null;
      const out = s.calls.map((c) => {
        const r = settled[i++] as Settled;
        if (r.status === 'failure' && s.allowFailure) return undefined;
        if (r.status === 'failure' && s.venue !== undefined) {
          unread ??= new UnreadVenue(`${describe(c)} reverted at block ${at}: ${(r.error as { shortMessage?: string }).shortMessage ?? r.error.message.split('\n')[0]}`);
          return undefined;
        }
        if (r.status === 'failure') throw new Error(`portfolio snapshot at block ${at}: ${s.label}: ${describe(c)} failed`, { cause: r.error });
        return r.result;
      });
      return unread ? [unread] : out;
    });
  }

  /** Once: Multicall3 present?, the Aave markets, and every pool's pair and fee as declared. */
  async function start(at: bigint): Promise<{ mc: Address | null; aave: Map<string, AaveMarket> }> {
    const code = params.multicall3 ? await publicClient.getCode({ address: params.multicall3 }) : undefined;
    const mc = code && code !== '0x' ? (params.multicall3 as Address) : null;
    const aave = new Map<string, AaveMarket>();
    for (const v of pf.venues) if (v.kind === 'aave') aave.set(v.id, await resolveAave(publicClient, v, at));
    for (const v of pf.venues) if (v.kind === 'morpho') morphoRefs.set(v.id, await resolveMorpho(publicClient, v, at));
    const poolSegments = v3Pools.map((p) => ({
      label: `pool ${p.id}`,
      calls: (['token0', 'token1', 'fee'] as const).map((functionName) => ({ address: p.address, abi: uniswapV3PoolAbi, functionName })),
    }));
    const found = await run(poolSegments, mc, at);
    v3Pools.forEach((p, i) => {
      const [t0, t1, fee] = found[i] as [Address, Address, number];
      if (poolKey(t0, t1, fee) !== poolKey(token(p.token0), token(p.token1), p.fee)) {
        throw new Error(`pool ${p.id} at ${p.address} is ${t0}/${t1} fee ${fee}, declared ${p.token0} ${token(p.token0)}/${p.token1} ${token(p.token1)} fee ${p.fee}`);
      }
    });
    return { mc, aave };
  }

  function venueCalls(v: VenueSpec, aave: Map<string, AaveMarket>): ContractFunctionParameters[] {
    switch (v.kind) {
      case 'perp':
        return perpReadCalls(v, account);
      case 'aave': {
        const m = aave.get(v.id) as AaveMarket;
        return aaveReadCalls(m, account, aaveRateAssets(v, m, pf.assets));
      }
      case 'morpho':
        return morphoReadCalls(morphoRefs.get(v.id) as MorphoMarketRef, account);
      case 'hyperliquid':
        return []; // read over the venue's HTTP API, not this chain (venueAccount)
      default:
        return assertNever(v, 'venue kind');
    }
  }

  /** The venue's account; an Aave market whose reserves list changed is resolved again and re-read. */
  async function venueAccount(v: VenueSpec, results: unknown[], ctx: { mc: Address | null; aave: Map<string, AaveMarket> }, at: bigint, timeSec: bigint): Promise<VenueAccount> {
    switch (v.kind) {
      case 'perp':
        return parsePerpAccount(v, results);
      case 'aave': {
        let market = ctx.aave.get(v.id) as AaveMarket;
        if (aaveReservesChanged(market, results)) {
          market = await resolveAave(publicClient, v, at);
          ctx.aave.set(v.id, market);
          [results] = (await run([{ label: `venue ${v.id} (aave)`, calls: aaveReadCalls(market, account, aaveRateAssets(v, market, pf.assets)) }], ctx.mc, at)) as [unknown[]];
        }
        return parseAaveAccount(v, market, results, aaveRateAssets(v, market, pf.assets));
      }
      case 'morpho': {
        // The IRM's rate was asked with the last read's market state: ask again if it moved.
        const { next, moved } = morphoMarketMoved(morphoRefs.get(v.id) as MorphoMarketRef, results);
        morphoRefs.set(v.id, next);
        const again = moved ? await run([{ label: `venue ${v.id} (morpho rate)`, calls: morphoRateCalls(next) }], ctx.mc, at) : null;
        return parseMorphoAccount(next, results, timeSec, again ? ((again[0] as unknown[])[0] as bigint) : undefined);
      }
      case 'hyperliquid':
        return readHyperliquidAccount(v, pf);
      default:
        return assertNever(v, 'venue kind');
    }
  }

  function toPrice(feed: Address, raw: unknown, decimals: unknown): AssetPrice {
    const round = toRound(feed, raw, decimals);
    return { priceE8: answerToE8(round.answer, round.decimals), updatedAtSec: round.updatedAt, round };
  }

  function toLp(tokenId: bigint, raw: RawPosition, spec: PoolSpec, pool: PoolState, growth: PoolFeeGrowth): LpHolding | null {
    const [, , , , , tickLower, tickUpper, liquidity, , , owed0, owed1] = raw;
    // A closed position (no liquidity, nothing to collect) is no holding.
    if (liquidity === 0n && owed0 === 0n && owed1 === 0n) return null;
    const fees = positionFeesOwed(raw, growth, pool.tick);
    const { amount0, amount1 } = positionAmounts({ liquidity, tickLower, tickUpper, sqrtPriceX96: pool.sqrtPriceX96, tick: pool.tick, fee: spec.fee });
    const inRange = tickLower <= pool.tick && pool.tick < tickUpper;
    return { pool: spec.id, tokenId, liquidity, tickLower, tickUpper, inRange, amount0, amount1, fees0: fees.amount0, fees1: fees.amount1 };
  }

  /** The account's position NFTs: those of the last read when unchanged, else read again (two rounds). */
  async function positionsNow(ids: bigint[], nftCount: bigint, idsNow: bigint[], positions: RawPosition[], mc: Address | null, at: bigint) {
    if (BigInt(ids.length) === nftCount && idsNow.every((id, i) => id === ids[i])) return { tokenIds: ids, positions };
    const label = `position manager ${positionManager}`;
    const count = Number(nftCount);
    const [tokenIds] = (await run([{ label, calls: Array.from({ length: count }, (_, i) => npm('tokenOfOwnerByIndex', [account, BigInt(i)])) }], mc, at)) as [bigint[]];
    const [fresh] = (await run([{ label, calls: tokenIds.map((id) => npm('positions', [id])) }], mc, at)) as [RawPosition[]];
    knownIds = tokenIds;
    return { tokenIds, positions: fresh };
  }

  const holders = [...pf.assets.map((a) => ({ id: a.id, token: a.token })), { id: pf.quote.id, token: pf.quote.token }];
  const feedCalls = (feed: Address | null): ContractFunctionParameters[] =>
    feed
      ? [
          { address: feed, abi: priceFeedAbi, functionName: 'latestRoundData' },
          { address: feed, abi: priceFeedAbi, functionName: 'decimals' },
        ]
      : [];

  /** Everything of one tick, in the order `read` parses it; the ids and ticks of the last read are re-read. */
  function tickSegments(ids: readonly bigint[], ticks: ReadonlyMap<string, number[]>, mc: Address | null, aave: Map<string, AaveMarket>, last: readonly Segment[]): Segment[] {
    return [
      ...pf.assets.map((a) => ({ label: `feed ${a.id}`, calls: feedCalls(a.feed) })),
      { label: `quote feed ${pf.quote.id}`, calls: feedCalls(pf.quote.feed) },
      ...holders.map((h) => ({ label: `wallet ${h.id}`, calls: [{ address: h.token, abi: erc20Abi, functionName: 'balanceOf', args: [account] }] })),
      {
        label: 'Multicall3 (native balance, block time)',
        calls: mc
          ? [
              { address: mc, abi: multicall3Abi, functionName: 'getEthBalance', args: [account] },
              { address: mc, abi: multicall3Abi, functionName: 'getCurrentBlockTimestamp' },
            ]
          : [],
      },
      {
        label: `position manager ${positionManager}`,
        calls: [npm('balanceOf', [account]), ...ids.map((_, i) => npm('tokenOfOwnerByIndex', [account, BigInt(i)])), ...ids.map((id) => npm('positions', [id]))],
      },
      ...v3Pools.map((p) => ({
        label: `pool ${p.id}`,
        calls: [
          { address: p.address, abi: uniswapV3PoolAbi, functionName: 'slot0' },
          { address: p.address, abi: uniswapV3PoolAbi, functionName: 'liquidity' },
          ...poolFeeCalls(p.address, ticks.get(p.id) ?? []),
        ],
      })),
      ...pf.venues.map((v) => ({ label: `venue ${v.id} (${v.kind})`, calls: venueCalls(v, aave), venue: v.id })),
      ...last,
    ];
  }

  async function read(blockNumber?: bigint): Promise<PortfolioSnapshot> {
    const at = blockNumber ?? (await publicClient.getBlockNumber({ cacheTime: 0 }));
    started ??= start(at).catch((err: unknown) => {
      started = undefined;
      throw err;
    });
    const ctx = await started;
    const { mc } = ctx;
    const ids = knownIds;
    const ticks = knownTicks;
    const v4Tick = v4?.tick();
    const [chainFallback, results] = await Promise.all([
      mc ? null : Promise.all([publicClient.getBalance({ address: account, blockNumber: at }), publicClient.getBlock({ blockNumber: at })]),
      run(tickSegments(ids, ticks, mc, ctx.aave, v4Tick?.segments ?? []), mc, at),
    ]);
    let k = 0;
    const next = (): unknown[] => results[k++] as unknown[];

    const prices: Record<string, AssetPrice> = {};
    for (const a of pf.assets) prices[a.id] = toPrice(a.feed, ...(next() as [unknown, unknown]));
    const quoteRaw = next();
    const quotePriceE8 = pf.quote.feed ? toPrice(pf.quote.feed, quoteRaw[0], quoteRaw[1]).priceE8 : ONE_E8;
    const balances: Record<string, bigint> = {};
    for (const h of holders) balances[h.id] = next()[0] as bigint;
    const chainValues = next();
    const nativeWei = chainFallback ? chainFallback[0] : (chainValues[0] as bigint);
    const blockTimestampSec = chainFallback ? chainFallback[1].timestamp : (chainValues[1] as bigint);
    const npmValues = next();
    const idsNow = npmValues.slice(1, 1 + ids.length) as bigint[];
    const positionsThen = npmValues.slice(1 + ids.length) as RawPosition[];

    const pools: Record<string, PoolState> = {};
    const growth = new Map<string, PoolFeeGrowth>();
    for (const p of v3Pools) {
      const [slot0, liquidity, ...fee] = next();
      const [sqrtPriceX96, tick] = slot0 as readonly [bigint, number];
      pools[p.id] = { sqrtPriceX96, tick, liquidity: liquidity as bigint };
      growth.set(p.id, parsePoolFeeGrowth(fee, ticks.get(p.id) ?? []));
    }
    const venueResults = pf.venues.map(() => next());
    const v4Read = v4Tick ? await v4Tick.parse(results.slice(k) as unknown[][], at, (segments) => run(segments, mc, at)) : null;

    const { tokenIds, positions } = await positionsNow(ids, npmValues[0] as bigint, idsNow, positionsThen, mc, at);
    await readMissingTicks(positions, growth, mc, at);
    const lps = tokenIds.flatMap((id, i) => {
      const raw = positions[i] as RawPosition;
      const spec = poolOf(raw);
      const lp = spec ? toLp(id, raw, spec, pools[spec.id] as PoolState, growth.get(spec.id) as PoolFeeGrowth) : null;
      return lp ? [lp] : [];
    });
    const venues: Record<string, VenueAccount> = {};
    const unreadVenues: Record<string, string> = {};
    for (const [i, v] of pf.venues.entries()) {
      const r = venueResults[i] as unknown[];
      if (r[0] instanceof UnreadVenue) unreadVenues[v.id] = r[0].reason;
      else venues[v.id] = await venueAccount(v, r, ctx, at, blockTimestampSec);
    }
    if (v4Read) {
      Object.assign(pools, v4Read.pools);
      lps.push(...v4Read.lps);
    }
    return {
      chainId: publicClient.chain.id, blockNumber: at, blockTimestampSec, account, prices, quotePriceE8, wallet: { nativeWei, balances }, pools, lps, venues,
      ...(Object.keys(unreadVenues).length ? { unreadVenues } : {}),
    };
  }

  /** A new position, or one refilled since the last read, costs one more round for its ticks (all pools at once). */
  async function readMissingTicks(positions: readonly RawPosition[], growth: Map<string, PoolFeeGrowth>, mc: Address | null, at: bigint): Promise<void> {
    const needed = new Map<string, number[]>();
    const segments: Segment[] = [];
    const missingByPool: [PoolSpec, number[]][] = [];
    for (const p of v3Pools) {
      const want = ticksNeeded(positions.filter((raw) => poolOf(raw)?.id === p.id));
      needed.set(p.id, want);
      const missing = want.filter((t) => !growth.get(p.id)?.ticks.has(t));
      if (missing.length === 0) continue;
      missingByPool.push([p, missing]);
      segments.push({ label: `pool ${p.id} ticks`, calls: tickCalls(p.address, missing) });
    }
    if (segments.length > 0) {
      const results = await run(segments, mc, at);
      missingByPool.forEach(([p, missing], i) => addTicks((growth.get(p.id) as PoolFeeGrowth).ticks, missing, results[i] as unknown[]));
    }
    knownTicks = needed;
  }

  return { read };
}
