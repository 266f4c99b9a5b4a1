import { zeroAddress, type Chain, type ContractFunctionParameters, type PublicClient, type Transport } from 'viem';
import { irmMockAbi, morphoAbi, morphoFeedOracleAbi } from '../../contracts-abi/index.js';
import type { Address } from '../core/types.js';
import type { MorphoMarketParams, MorphoMarketState, MorphoVenueAccount, MorphoVenueSpec } from '../portfolio/model.js';
import { morphoBorrowAprE18 } from './venue-rates.js';

/**
 * Morpho Blue's reads for the portfolio snapshot, in the tick's one multicall: the market's
 * params (`idToMarketParams`), the user's `position`, the `market` totals, the market oracle's
 * `price()` and the IRM's `borrowRateView(params, market)`. The rate call needs the market state
 * as an argument, which the same multicall is reading: it is built with the state of the last
 * read, and when the market moved since (someone borrowed, repaid, accrued) the reader asks the
 * IRM again with the state just read (one more round, only then), as for Aave's reserve list.
 *
 * ABIs: `price()` is IOracle's (our devnet adapter implements exactly it), `borrowRateView` is
 * IIrm's (IrmMock's ABI carries it).
 */

type Client = PublicClient<Transport, Chain>;

/** What the reader resolves once and carries from tick to tick. */
export interface MorphoMarketRef {
  readonly spec: MorphoVenueSpec;
  readonly params: MorphoMarketParams;
  /** The market state the IRM call is built with: the last one read. */
  readonly market: MorphoMarketState;
}

type RawParams = readonly [Address, Address, Address, Address, bigint];
type RawPosition = readonly [bigint, bigint, bigint];
type RawMarket = readonly [bigint, bigint, bigint, bigint, bigint, bigint];

const toParams = (r: RawParams): MorphoMarketParams => ({ loanToken: r[0], collateralToken: r[1], oracle: r[2], irm: r[3], lltv: r[4] });

const toMarket = (r: RawMarket): MorphoMarketState => ({
  totalSupplyAssets: r[0],
  totalSupplyShares: r[1],
  totalBorrowAssets: r[2],
  totalBorrowShares: r[3],
  lastUpdate: r[4],
  fee: r[5],
});

const hasIrm = (p: MorphoMarketParams): boolean => p.irm.toLowerCase() !== zeroAddress;

/** The market's params and state; throws when the id names no market (Morpho returns zeros then). */
export async function resolveMorpho(client: Client, spec: MorphoVenueSpec, blockNumber?: bigint): Promise<MorphoMarketRef> {
  const at = blockNumber === undefined ? {} : { blockNumber };
  const m = { address: spec.morpho, abi: morphoAbi, ...at } as const;
  const [params, market] = await Promise.all([
    client.readContract({ ...m, functionName: 'idToMarketParams', args: [spec.marketId] }),
    client.readContract({ ...m, functionName: 'market', args: [spec.marketId] }),
  ]);
  const p = toParams(params as RawParams);
  if (p.loanToken.toLowerCase() === zeroAddress) throw new Error(`morpho venue ${spec.id}: no market ${spec.marketId} on ${spec.morpho}`);
  return { spec, params: p, market: toMarket(market as RawMarket) };
}

const rateCall = (ref: MorphoMarketRef, market: MorphoMarketState): ContractFunctionParameters => ({
  address: ref.params.irm,
  abi: irmMockAbi,
  functionName: 'borrowRateView',
  args: [ref.params, market],
});

/** params, position, market, oracle price, then (with an IRM) the borrow rate at the last market read. */
export function morphoReadCalls(ref: MorphoMarketRef, account: Address): ContractFunctionParameters[] {
  const { morpho, marketId } = ref.spec;
  return [
    { address: morpho, abi: morphoAbi, functionName: 'idToMarketParams', args: [marketId] },
    { address: morpho, abi: morphoAbi, functionName: 'position', args: [marketId, account] },
    { address: morpho, abi: morphoAbi, functionName: 'market', args: [marketId] },
    { address: ref.params.oracle, abi: morphoFeedOracleAbi, functionName: 'price' },
    ...(hasIrm(ref.params) ? [rateCall(ref, ref.market)] : []),
  ];
}

const sameMarket = (a: MorphoMarketState, b: MorphoMarketState): boolean =>
  (Object.keys(a) as (keyof MorphoMarketState)[]).every((k) => a[k] === b[k]);

/**
 * The ref updated with the market in these results, and whether the rate read in them was asked
 * with another state (then `rateCallFor(next)` must be read again at the same block).
 */
export function morphoMarketMoved(ref: MorphoMarketRef, results: readonly unknown[]): { next: MorphoMarketRef; moved: boolean } {
  const market = toMarket(results[2] as RawMarket);
  return { next: { ...ref, market }, moved: hasIrm(ref.params) && !sameMarket(market, ref.market) };
}

/** The IRM call alone, with the ref's market (the re-read after a move). */
export function morphoRateCalls(ref: MorphoMarketRef): ContractFunctionParameters[] {
  return hasIrm(ref.params) ? [rateCall(ref, ref.market)] : [];
}

/**
 * The account from the results of `morphoReadCalls(ref, account)`; `rateE18` overrides the rate
 * in them (the re-read after the market moved). `blockTimestampSec` is the block's time.
 */
export function parseMorphoAccount(ref: MorphoMarketRef, results: readonly unknown[], blockTimestampSec: bigint, rateE18?: bigint): MorphoVenueAccount {
  const { spec } = ref;
  const expected = hasIrm(ref.params) ? 5 : 4;
  if (results.length !== expected) throw new Error(`morpho venue ${spec.id}: ${results.length} results, expected ${expected}`);
  const params = toParams(results[0] as RawParams);
  if (params.loanToken.toLowerCase() === zeroAddress) throw new Error(`morpho venue ${spec.id}: no market ${spec.marketId} on ${spec.morpho}`);
  const [supplyShares, borrowShares, collateralUnits] = results[1] as RawPosition;
  const borrowRatePerSecE18 = rateE18 ?? (hasIrm(params) ? (results[4] as bigint) : 0n);
  return {
    kind: 'morpho',
    venue: spec.id,
    marketParams: params,
    supplyShares,
    borrowShares,
    collateralUnits,
    market: toMarket(results[2] as RawMarket),
    oraclePriceE36: results[3] as bigint,
    borrowRatePerSecE18,
    blockTimestampSec,
    // Without an IRM the market charges no interest: the short costs nothing.
    shortCostAprE18: { [spec.loanAsset]: morphoBorrowAprE18(borrowRatePerSecE18) },
  };
}
