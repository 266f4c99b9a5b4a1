import { erc20Abi, type Chain, type ContractFunctionParameters, type PublicClient, type Transport } from 'viem';
import { nonfungiblePositionManagerAbi, priceFeedAbi, uniswapV3PoolAbi } from '../../contracts-abi/index.js';
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
 * One consistent read per tick, pinned to one block. Steady state costs three requests
 * whatever the number of LP positions: the block, the native balance and one multicall
 * (the LP token ids of the previous tick are re-read and checked inside it; only when they
 * changed does a second round fetch the new ones).
 */
export function createSnapshotReader(params: {
  publicClient: PublicClient<Transport, Chain>;
  account: Address;
  addresses: SnapshotAddresses;
  venue: HedgeVenue;
  /** Multicall3 address; omitted = viem's deployless multicall (any chain, no deployment). */
  multicall3?: Address;
}): SnapshotReader {
  const { publicClient, account, addresses: a, venue } = params;
  // Uniswap orders a pool's tokens by address.
  const baseIsToken0 = a.weth.toLowerCase() < a.usdc.toLowerCase();
  const [token0, token1] = baseIsToken0 ? [a.weth, a.usdc] : [a.usdc, a.weth];
  let knownIds: bigint[] = [];

  const multicall = (contracts: readonly ContractFunctionParameters[], blockNumber: bigint) =>
    publicClient.multicall({
      contracts,
      allowFailure: false,
      blockNumber,
      // One eth_call whatever the number of positions (viem chunks calldata at 1 KiB by default).
      batchSize: 0,
      ...(params.multicall3 ? { multicallAddress: params.multicall3 } : { deployless: true }),
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

  async function read(blockNumber?: bigint): Promise<Snapshot> {
    const block = await publicClient.getBlock(blockNumber === undefined ? { blockTag: 'latest' } : { blockNumber });
    const at = block.number;
    const ids = knownIds;
    const venueCalls = venue.readCalls(account);
    const [results, ethWei] = await Promise.all([
      multicall(
        [
          ...baseCalls(),
          ...venueCalls,
          ...ids.map((_, i) => npm('tokenOfOwnerByIndex', [account, BigInt(i)])),
          ...ids.map((id) => npm('positions', [id])),
        ],
        at,
      ),
      publicClient.getBalance({ address: account, blockNumber: at }),
    ]);
    const [ethRound, usdRound, slot0, liquidity, wethWei, usdcUnits, nftCount] = results;
    const venueResults = results.slice(7, 7 + venueCalls.length);
    const idsNow = results.slice(7 + venueCalls.length, 7 + venueCalls.length + ids.length) as bigint[];
    let positions = results.slice(7 + venueCalls.length + ids.length) as RawPosition[];
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
      blockTimestampSec: block.timestamp,
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
