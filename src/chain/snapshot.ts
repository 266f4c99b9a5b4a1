import { erc20Abi, type Chain, type ContractFunctionParameters, type PublicClient, type Transport } from 'viem';
import { multicall3Abi, nonfungiblePositionManagerAbi, priceFeedAbi, uniswapV3PoolAbi } from '../../contracts-abi/index.js';
import type { Address, HedgeAccount, LpPosition, OracleReading, OracleRound, PoolReading, Snapshot } from '../core/types.js';
import { priceE8FromSqrtPriceX96, positionBaseQuote } from '../spot/uniswap-math.js';
import type { HedgeVenue } from '../venues/types.js';
import { addTicks, parsePoolFeeGrowth, poolFeeCalls, positionFeesOwed, tickCalls, ticksNeeded, type PoolFeeGrowth, type RawPosition } from './lp-fee-reads.js';

export interface SnapshotAddresses {
  oracleFeed: Address;
  usdcFeed: Address | null;
  weth: Address;
  usdc: Address;
  positionManager: Address;
  pool: Address;
}

export interface SnapshotReader {
  /** Read everything at one block (the latest when omitted). */
  read(blockNumber?: bigint): Promise<Snapshot>;
}

const USDC_ONE_E8 = 10n ** 8n;

type Settled = { status: 'success'; result: unknown } | { status: 'failure'; error: Error };

function unwrap(r: Settled): unknown {
  if (r.status === 'failure') throw r.error;
  return r.result;
}

function toRound(feed: Address, raw: unknown, decimals: unknown): OracleRound {
  const [roundId, answer, startedAt, updatedAt, answeredInRound] = raw as readonly [bigint, bigint, bigint, bigint, bigint];
  return { feed, roundId, answer, startedAt, updatedAt, answeredInRound, decimals: Number(decimals) };
}

/**
 * One consistent read per tick, pinned to one block. With Multicall3 deployed a steady tick is
 * ONE eth_call whatever the number of LP positions (plus eth_blockNumber when the caller does
 * not pass the block): the native balance and block time come from Multicall3 itself, and the
 * LP token ids of the previous tick are re-read and checked inside the same call; only when
 * they changed does a second round fetch the new ones.
 */
export function createSnapshotReader(params: {
  publicClient: PublicClient<Transport, Chain>;
  account: Address;
  addresses: SnapshotAddresses;
  venue: HedgeVenue;
  /** Multicall3 address; without code there (or omitted): viem's deployless multicall. */
  multicall3?: Address;
}): SnapshotReader {
  const { publicClient, account, addresses: a, venue } = params;
  // Uniswap orders a pool's tokens by address.
  const baseIsToken0 = a.weth.toLowerCase() < a.usdc.toLowerCase();
  const [token0, token1] = baseIsToken0 ? [a.weth, a.usdc] : [a.usdc, a.weth];
  let knownIds: bigint[] = [];
  /** The LP ticks whose fee growth the last read needed: read again in the same call. */
  let knownTicks: number[] = [];
  /** The last hedge read in full: what a tick holds on to while the venue cannot be read. */
  let lastHedge: { hedge: HedgeAccount; block: bigint } | null = null;

  /** Resolved on the first read: is there a Multicall3 at the configured address? */
  let multicall3: Address | null | undefined;
  async function resolveMulticall3(): Promise<Address | null> {
    if (multicall3 !== undefined) return multicall3;
    const code = params.multicall3 ? await publicClient.getCode({ address: params.multicall3 }) : undefined;
    multicall3 = code && code !== '0x' ? (params.multicall3 as Address) : null;
    return multicall3;
  }

  /**
   * Each call's own result or failure: a venue that reverts without a usable price must not take
   * the feeds' answers down with it (they say why). A failed eth_call fails every call.
   */
  const multicallSettled = (contracts: readonly ContractFunctionParameters[], blockNumber: bigint) =>
    publicClient.multicall({
      contracts,
      allowFailure: true,
      blockNumber,
      // With a deployed Multicall3: one eth_call whatever the number of positions. The deployless
      // fallback sends its bytecode as initcode, which is size-capped: keep viem's chunking.
      ...(multicall3 ? { multicallAddress: multicall3, batchSize: 0 } : { deployless: true, batchSize: 8_192 }),
    }) as Promise<Settled[]>;
  const multicall = async (contracts: readonly ContractFunctionParameters[], blockNumber: bigint) =>
    (await multicallSettled(contracts, blockNumber)).map(unwrap);

  const npm = (functionName: string, args: readonly unknown[]): ContractFunctionParameters => ({
    address: a.positionManager,
    abi: nonfungiblePositionManagerAbi,
    functionName,
    args,
  });

  // Without a USDC feed its two slots re-read the ETH feed: the indexes stay fixed.
  const quoteFeed = a.usdcFeed ?? a.oracleFeed;
  const baseCalls = (): ContractFunctionParameters[] => [
    { address: a.oracleFeed, abi: priceFeedAbi, functionName: 'latestRoundData' },
    { address: quoteFeed, abi: priceFeedAbi, functionName: 'latestRoundData' },
    { address: a.oracleFeed, abi: priceFeedAbi, functionName: 'decimals' },
    { address: quoteFeed, abi: priceFeedAbi, functionName: 'decimals' },
    { address: a.pool, abi: uniswapV3PoolAbi, functionName: 'slot0' },
    { address: a.pool, abi: uniswapV3PoolAbi, functionName: 'liquidity' },
    { address: a.weth, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
    { address: a.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
    npm('balanceOf', [account]),
  ];

  /**
   * The rounds go into the reading whole, so the sanity check can refuse them (core/oracle-check).
   * An answer <= 0 is no price: 0, which nothing in the core values a position or sizes an action on.
   */
  function toOracle(eth: unknown, usd: unknown, ethDecimals: unknown, usdDecimals: unknown): OracleReading {
    const round = toRound(a.oracleFeed, eth, ethDecimals);
    const quoteRound = a.usdcFeed ? toRound(a.usdcFeed, usd, usdDecimals) : null;
    const quote = quoteRound ? quoteRound.answer : USDC_ONE_E8;
    return {
      priceE8: round.answer > 0n ? round.answer : 0n,
      updatedAtSec: round.updatedAt,
      quotePriceE8: quote > 0n ? quote : 0n,
      round,
      quoteRound,
    };
  }

  function toPool(slot0: unknown, liquidity: unknown): PoolReading {
    const [sqrtPriceX96, tick] = slot0 as readonly [bigint, number];
    return { sqrtPriceX96, tick, liquidity: liquidity as bigint, priceE8: priceE8FromSqrtPriceX96(sqrtPriceX96, baseIsToken0) };
  }

  /** The pair and the fee tier: another tier is another pool, with its own price and fee growth. */
  const inHedgedPool = (raw: RawPosition, poolFee: number): boolean =>
    raw[2].toLowerCase() === token0.toLowerCase() && raw[3].toLowerCase() === token1.toLowerCase() && raw[4] === poolFee;

  function toLp(tokenId: bigint, raw: RawPosition, pool: PoolReading, growth: PoolFeeGrowth): LpPosition | null {
    const [, , , , , tickLower, tickUpper, liquidity, , , owed0, owed1] = raw;
    // Only positions in the hedged pool count; empty NFTs (closed positions) are skipped.
    if (!inHedgedPool(raw, growth.fee)) return null;
    if (liquidity === 0n && owed0 === 0n && owed1 === 0n) return null;
    // What collect would pay now: tokensOwed alone stays 0 until the position is touched.
    const fees = positionFeesOwed(raw, growth, pool.tick);
    const amounts = positionBaseQuote({ liquidity, tickLower, tickUpper, sqrtPriceX96: pool.sqrtPriceX96, tick: pool.tick, baseIsToken0 });
    return {
      tokenId,
      liquidity,
      tickLower,
      tickUpper,
      amountBaseWei: amounts.amountBaseWei,
      amountQuoteUnits: amounts.amountQuoteUnits,
      feesBaseWei: baseIsToken0 ? fees.amount0 : fees.amount1,
      feesQuoteUnits: baseIsToken0 ? fees.amount1 : fees.amount0,
      inRange: amounts.inRange,
      baseIsToken0,
    };
  }

  /** Native balance and block time: inside the multicall when Multicall3 is deployed. */
  function chainCalls(mc: Address): ContractFunctionParameters[] {
    return [
      { address: mc, abi: multicall3Abi, functionName: 'getEthBalance', args: [account] },
      { address: mc, abi: multicall3Abi, functionName: 'getCurrentBlockTimestamp' },
    ];
  }

  async function read(blockNumber?: bigint): Promise<Snapshot> {
    const mc = await resolveMulticall3();
    const at = blockNumber ?? (await publicClient.getBlockNumber({ cacheTime: 0 }));
    const ids = knownIds;
    const ticks = knownTicks;
    const venueCalls = venue.readCalls(account);
    const head = [...baseCalls(), ...(mc ? chainCalls(mc) : [])];
    const [results, fallbackChain] = await Promise.all([
      multicallSettled(
        [
          ...head,
          ...venueCalls,
          ...ids.map((_, i) => npm('tokenOfOwnerByIndex', [account, BigInt(i)])),
          ...ids.map((id) => npm('positions', [id])),
          ...poolFeeCalls(a.pool, ticks),
        ],
        at,
      ),
      mc
        ? null
        : Promise.all([publicClient.getBalance({ address: account, blockNumber: at }), publicClient.getBlock({ blockNumber: at })]),
    ]);
    const n = head.length;
    const settledVenue = results.slice(n, n + venueCalls.length);
    const values = [...results.slice(0, n), ...results.slice(n + venueCalls.length)].map(unwrap);
    const [ethRound, usdRound, ethDecimals, usdDecimals, slot0, liquidity, wethWei, usdcUnits, nftCount] = values;
    const nBase = baseCalls().length;
    const ethWei = fallbackChain ? fallbackChain[0] : (values[nBase] as bigint);
    const timestampSec = fallbackChain ? fallbackChain[1].timestamp : (values[nBase + 1] as bigint);
    const idsNow = values.slice(n, n + ids.length) as bigint[];
    let positions = values.slice(n + ids.length, n + 2 * ids.length) as RawPosition[];
    const growth = parsePoolFeeGrowth(values.slice(n + 2 * ids.length), ticks);
    let tokenIds = ids;

    const unchanged = BigInt(ids.length) === nftCount && idsNow.every((id, i) => id === ids[i]);
    if (!unchanged) {
      const count = Number(nftCount as bigint);
      tokenIds = (await multicall(
        Array.from({ length: count }, (_, i) => npm('tokenOfOwnerByIndex', [account, BigInt(i)])),
        at,
      )) as bigint[];
      positions = (await multicall(tokenIds.map((id) => npm('positions', [id])), at)) as RawPosition[];
      knownIds = tokenIds;
    }
    // A new position, or one refilled since the last read, costs one more round for its ticks.
    const needed = ticksNeeded(positions.filter((p) => inHedgedPool(p, growth.fee)));
    const missing = needed.filter((t) => !growth.ticks.has(t));
    if (missing.length > 0) addTicks(growth.ticks, missing, await multicall(tickCalls(a.pool, missing), at));
    knownTicks = needed;

    const oracle = toOracle(ethRound, usdRound, ethDecimals, usdDecimals);
    const { hedge, hedgeFromBlock } = readHedge(settledVenue, oracle, at);
    const pool = toPool(slot0, liquidity);
    const lps = tokenIds.flatMap((id, i) => {
      const lp = toLp(id, positions[i] as RawPosition, pool, growth);
      return lp ? [lp] : [];
    });
    return {
      chainId: publicClient.chain.id,
      blockNumber: at,
      blockTimestampSec: timestampSec,
      account,
      oracle,
      pool,
      wallet: { ethWei, wethWei: wethWei as bigint, usdcUnits: usdcUnits as bigint },
      lps,
      hedge,
      ...(hedgeFromBlock === undefined ? {} : { hedgeFromBlock }),
    };
  }

  /**
   * Venues value the account with the feed and revert on an answer <= 0 (PerpExchange
   * InvalidPrice, Aave's oracle without a fallback). The tick must still reach its sanity check
   * and enter safe mode, so the hedge of the last full read stands in, marked with its block.
   * Any other venue failure is an error as before.
   */
  function readHedge(settled: readonly Settled[], oracle: OracleReading, at: bigint): { hedge: HedgeAccount; hedgeFromBlock?: bigint } {
    const failed = settled.find((r) => r.status === 'failure');
    if (!failed) {
      const hedge = venue.parse(settled.map(unwrap), oracle);
      lastHedge = { hedge, block: at };
      return { hedge };
    }
    const noPrice = oracle.priceE8 <= 0n || oracle.quotePriceE8 <= 0n;
    if (!noPrice) throw failed.error;
    const answers = `${a.oracleFeed} answered ${oracle.round?.answer}` + (oracle.quoteRound ? `, ${a.usdcFeed} answered ${oracle.quoteRound.answer}` : '');
    if (!lastHedge) {
      throw new Error(`the ${venue.kind} account cannot be read while the feeds give no price (${answers}) and no earlier reading exists`, { cause: failed.error });
    }
    return { hedge: lastHedge.hedge, hedgeFromBlock: lastHedge.block };
  }

  return { read };
}
