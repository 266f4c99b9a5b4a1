import type { ContractFunctionParameters } from 'viem';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import type { Address } from '../core/types.js';
import type { AssetId, PerpMarketAccount, PerpVenueAccount, PerpVenueSpec } from '../portfolio/model.js';
import { perpShortCostAprE18 } from './venue-rates.js';

/**
 * The perp exchange's reads for the portfolio snapshot: per configured market,
 * `getAccount(account, marketId)`, which carries every PerpMarketAccount field (the exchange
 * values the account with its own feed), and `getMarket(marketId)` for the market's funding rate
 * (the short's cost, src/venues/venue-rates.ts). The calls ride in the snapshot's one multicall;
 * `parsePerpAccount` takes their results in the same order.
 */

/** getAccount's AccountView as viem decodes it (only the fields the model keeps). */
interface AccountView {
  sizeWei: bigint;
  entryPriceE8: bigint;
  marginUnits: bigint;
  accountValueUnits: bigint;
  marginRatioE18: bigint;
  initialRatioE18: bigint;
  maintenanceRatioE18: bigint;
  takerFeeBps: bigint;
}

/** The spec's markets in a fixed order: the calls and the parse must agree on it. */
function marketsOf(spec: PerpVenueSpec): [AssetId, bigint][] {
  return Object.entries(spec.markets);
}

/** Two calls per market, in the spec's market order: getAccount, then getMarket. */
export function perpReadCalls(spec: PerpVenueSpec, account: Address): ContractFunctionParameters[] {
  return marketsOf(spec).flatMap(([, marketId]): ContractFunctionParameters[] => [
    { address: spec.exchange, abi: perpExchangeAbi, functionName: 'getAccount', args: [account, marketId] },
    { address: spec.exchange, abi: perpExchangeAbi, functionName: 'getMarket', args: [marketId] },
  ]);
}

/** getMarket's third output: the market's funding rate per second, E18 (positive = longs pay). */
function fundingRateOf(spec: PerpVenueSpec, asset: AssetId, marketId: bigint, raw: unknown): bigint {
  const rate = Array.isArray(raw) ? (raw as unknown[])[2] : undefined;
  if (typeof rate !== 'bigint') throw new Error(`perp venue ${spec.id}: getMarket(${marketId}, ${asset}) returned ${String(raw)}`);
  return rate;
}

function toMarketAccount(spec: PerpVenueSpec, asset: AssetId, marketId: bigint, raw: unknown): PerpMarketAccount {
  const v = raw as AccountView | undefined;
  if (!v || typeof v.sizeWei !== 'bigint') {
    throw new Error(`perp venue ${spec.id}: getAccount(market ${marketId}, ${asset}) returned ${String(raw)}`);
  }
  return {
    marketId,
    sizeE18: v.sizeWei,
    entryPriceE8: v.entryPriceE8,
    marginUnits: v.marginUnits,
    accountValueUnits: v.accountValueUnits,
    marginRatioE18: v.marginRatioE18,
    maintenanceRatioE18: v.maintenanceRatioE18,
    initialRatioE18: v.initialRatioE18,
    takerFeeBps: v.takerFeeBps,
  };
}

/** The account from the results of `perpReadCalls(spec, account)`, in their order. */
export function parsePerpAccount(spec: PerpVenueSpec, results: readonly unknown[]): PerpVenueAccount {
  const markets = marketsOf(spec);
  if (results.length !== 2 * markets.length) {
    throw new Error(`perp venue ${spec.id}: ${results.length} results for ${markets.length} markets (2 each)`);
  }
  const out: Record<AssetId, PerpMarketAccount> = {};
  const shortCostAprE18: Record<AssetId, bigint> = {};
  markets.forEach(([asset, marketId], i) => {
    out[asset] = toMarketAccount(spec, asset, marketId, results[2 * i]);
    shortCostAprE18[asset] = perpShortCostAprE18(fundingRateOf(spec, asset, marketId, results[2 * i + 1]));
  });
  return { kind: 'perp', venue: spec.id, markets: out, shortCostAprE18 };
}
