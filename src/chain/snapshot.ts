import { erc20Abi, type Chain, type ContractFunctionParameters, type PublicClient, type Transport } from 'viem';
import { multicall3Abi, nonfungiblePositionManagerAbi, priceFeedAbi, uniswapV3PoolAbi } from '../../contracts-abi/index.js';
import type { Address, LpPosition, OracleReading, PoolReading, Snapshot } from '../core/types.js';
import { priceE8FromSqrtPriceX96, positionBaseQuote } from '../spot/uniswap-math.js';
import type { HedgeVenue } from '../venues/types.js';

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

type RawPosition = readonly [bigint, Address, Address, Address, number, number, number, bigint, bigint, bigint, bigint, bigint];

const USDC_ONE_E8 = 10n ** 8n;

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

  /** Resolved on the first read: is there a Multicall3 at the configured address? */
  let multicall3: Address | null | undefined;
  async function resolveMulticall3(): Promise<Address | null> {
    if (multicall3 !== undefined) return multicall3;
    const code = params.multicall3 ? await publicClient.getCode({ address: params.multicall3 }) : undefined;
    multicall3 = code && code !== '0x' ? (params.multicall3 as Address) : null;
    return multicall3;
  }

  const multicall = (contracts: readonly ContractFunctionParameters[], blockNumber: bigint) =>
    publicClient.multicall({
      contracts,
      allowFailure: false,
      blockNumber,
      // With a deployed Multicall3: one eth_call whatever the number of positions. The deployless
      // fallback sends its bytecode as initcode, which is size-capped: keep viem's chunking.
      ...(multicall3 ? { multicallAddress: multicall3, batchSize: 0 } : { deployless: true, batchSize: 8_192 }),
    }) as Promise<unknown[]>;

  const npm = (functionName: string, args: readonly unknown[]): ContractFunctionParameters => ({
    address: a.positionManager,
    abi: nonfungiblePositionManagerAbi,
    functionName,
    args,
  });

  const baseCalls = (): ContractFunctionParameters[] => [
    { address: a.oracleFeed, abi: priceFeedAbi, functionName: 'latestRoundData' },
    { address: a.usdcFeed ?? a.oracleFeed, abi: priceFeedAbi, functionName: 'latestRoundData' },
    { address: a.pool, abi: uniswapV3PoolAbi, functionName: 'slot0' },
    { address: a.pool, abi: uniswapV3PoolAbi, functionName: 'liquidity' },
    { address: a.weth, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
    { address: a.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
    npm('balanceOf', [account]),
  ];

  function toOracle(eth: unknown, usd: unknown): OracleReading {
    const [, answer, , updatedAt] = eth as readonly [bigint, bigint, bigint, bigint, bigint];
    if (answer <= 0n) throw new Error(`oracle ${a.oracleFeed} answered ${answer}: not a price`);
    const quote = a.usdcFeed ? (usd as readonly [bigint, bigint])[1] : USDC_ONE_E8;
    return { priceE8: answer, updatedAtSec: updatedAt, quotePriceE8: quote };
  }

  function toPool(slot0: unknown, liquidity: unknown): PoolReading {
    const [sqrtPriceX96, tick] = slot0 as readonly [bigint, number];
    return { sqrtPriceX96, tick, liquidity: liquidity as bigint, priceE8: priceE8FromSqrtPriceX96(sqrtPriceX96, baseIsToken0) };
  }

  function toLp(tokenId: bigint, raw: RawPosition, pool: PoolReading): LpPosition | null {
    const [, , t0, t1, , tickLower, tickUpper, liquidity, , , owed0, owed1] = raw;
    // Only positions in the hedged pair count; empty NFTs (closed positions) are skipped.
    if (t0.toLowerCase() !== token0.toLowerCase() || t1.toLowerCase() !== token1.toLowerCase()) return null;
    if (liquidity === 0n && owed0 === 0n && owed1 === 0n) return null;
    const amounts = positionBaseQuote({ liquidity, tickLower, tickUpper, sqrtPriceX96: pool.sqrtPriceX96, tick: pool.tick, baseIsToken0 });
    return {
      tokenId,
      liquidity,
      tickLower,
      tickUpper,
      amountBaseWei: amounts.amountBaseWei,
      amountQuoteUnits: amounts.amountQuoteUnits,
      feesBaseWei: baseIsToken0 ? owed0 : owed1,
      feesQuoteUnits: baseIsToken0 ? owed1 : owed0,
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
    const venueCalls = venue.readCalls(account);
    const head = [...baseCalls(), ...(mc ? chainCalls(mc) : [])];
    const [results, fallbackChain] = await Promise.all([
      multicall(
        [
          ...head,
          ...venueCalls,
          ...ids.map((_, i) => npm('tokenOfOwnerByIndex', [account, BigInt(i)])),
          ...ids.map((id) => npm('positions', [id])),
        ],
        at,
      ),
      mc
        ? null
        : Promise.all([publicClient.getBalance({ address: account, blockNumber: at }), publicClient.getBlock({ blockNumber: at })]),
    ]);
    const [ethRound, usdRound, slot0, liquidity, wethWei, usdcUnits, nftCount] = results;
    const ethWei = fallbackChain ? fallbackChain[0] : (results[7] as bigint);
    const timestampSec = fallbackChain ? fallbackChain[1].timestamp : (results[8] as bigint);
    const n = head.length;
    const venueResults = results.slice(n, n + venueCalls.length);
    const idsNow = results.slice(n + venueCalls.length, n + venueCalls.length + ids.length) as bigint[];
    let positions = results.slice(n + venueCalls.length + ids.length) as RawPosition[];
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

    const oracle = toOracle(ethRound, usdRound);
    const pool = toPool(slot0, liquidity);
    const lps = tokenIds.flatMap((id, i) => {
      const lp = toLp(id, positions[i] as RawPosition, pool);
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
      hedge: venue.parse(venueResults, oracle),
    };
  }

  return { read };
}
