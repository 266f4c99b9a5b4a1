import type { ContractFunctionParameters } from 'viem';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import type { Address } from '../core/types.js';
import type { AssetId, PerpMarketAccount, PerpVenueAccount, PerpVenueSpec } from '../portfolio/model.js';

/**
 * The perp exchange's reads for the portfolio snapshot: one `getAccount(account, marketId)` per
 * configured market, which carries every PerpMarketAccount field (the exchange values the
 * account with its own feed, so nothing else is needed). The calls ride in the snapshot's one
 * multicall; `parsePerpAccount` takes their results in the same order.
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

export function perpReadCalls(spec: PerpVenueSpec, account: Address): ContractFunctionParameters[] {
  return marketsOf(spec).map(([, marketId]) => ({
    address: spec.exchange,
    abi: perpExchangeAbi,
    functionName: 'getAccount',
    args: [account, marketId],
  }));
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
  if (results.length !== markets.length) {
    throw new Error(`perp venue ${spec.id}: ${results.length} results for ${markets.length} markets`);
  }
  const out: Record<AssetId, PerpMarketAccount> = {};
  markets.forEach(([asset, marketId], i) => {
    out[asset] = toMarketAccount(spec, asset, marketId, results[i]);
  });
  return { kind: 'perp', venue: spec.id, markets: out };
}
