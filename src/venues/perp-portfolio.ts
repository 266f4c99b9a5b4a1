import { erc20Abi, maxUint256 } from 'viem';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import type { Address } from '../core/types.js';
import type { CallAllowList } from '../core/guard.js';
import { assertNever, type AssetId, type AssetSpec, type PerpVenueSpec, type Portfolio, type PortfolioAction } from '../portfolio/model.js';
import { acceptablePriceE8 } from './perp.js';
import type { PortfolioBuildContext, PortfolioVenue, PortfolioVenueDeps } from './portfolio-venues.js';
import type { BuiltTxs, TxRequest } from './types.js';

/**
 * The reference perp exchange as a portfolio venue: one isolated-margin market per hedged asset
 * (spec.markets), quote margin per market. Sizes travel in the exchange's 1e18 units whatever the
 * asset's decimals; every trade is bounded by its own asset's oracle price.
 */

/** The exchange's size units per whole asset. */
const SIZE_DECIMALS = 18;

/** Asset units (the token's decimals) -> the exchange's 1e18 size units; exact. */
export function perpSizeE18(units: bigint, decimals: number): bigint {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > SIZE_DECIMALS) {
    throw new RangeError(`asset decimals ${decimals} do not fit the exchange's ${SIZE_DECIMALS}-decimal sizes`);
  }
  return units * 10n ** BigInt(SIZE_DECIMALS - decimals);
}

/** Approve the spender for good once the allowance at the planning block is short. */
export async function approvalIfShortAt(
  ctx: Pick<PortfolioBuildContext, 'account' | 'publicClient' | 'blockNumber'>,
  token: Address,
  spender: Address,
  amount: bigint,
  label: string,
): Promise<TxRequest[]> {
  const allowance = await ctx.publicClient.readContract({
    address: token,
    abi: erc20Abi,
    functionName: 'allowance',
    args: [ctx.account, spender],
    blockNumber: ctx.blockNumber,
  });
  if (allowance >= amount) return [];
  return [{ label, address: token, abi: erc20Abi, functionName: 'approve', args: [spender, maxUint256], bound: { kind: 'none', why: 'approve' } }];
}

export function findAsset(portfolio: Portfolio, id: AssetId): AssetSpec | undefined {
  return portfolio.assets.find((a) => a.id === id);
}

export function createPerpPortfolioVenue(spec: PerpVenueSpec, deps: Pick<PortfolioVenueDeps, 'portfolio'>): PortfolioVenue<PerpVenueSpec> {
  const { exchange } = spec;
  const quote = deps.portfolio.quote;
  for (const id of Object.keys(spec.markets)) {
    const asset = findAsset(deps.portfolio, id);
    if (!asset) throw new Error(`perp venue ${spec.id}: market of ${id}, which is not an asset of the portfolio`);
    perpSizeE18(0n, asset.decimals);
  }

  /** The market of a bucket, or why there is none. */
  function marketOf(bucket: AssetId | null): { marketId: bigint } | { reason: string } {
    if (bucket === null) return { reason: `venue ${spec.id} has isolated margin: name the market's asset` };
    if (!Object.prototype.hasOwnProperty.call(spec.markets, bucket)) return { reason: `venue ${spec.id} has no market for ${bucket}` };
    return { marketId: spec.markets[bucket] as bigint };
  }

  async function buildDeposit(amountUnits: bigint, bucket: AssetId | null, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const label = `${spec.id}.deposit ${String(bucket)}`;
    const m = marketOf(bucket);
    if ('reason' in m) return { status: 'refused', label, reason: m.reason };
    if (amountUnits <= 0n) return { status: 'refused', label, reason: `deposit of ${amountUnits} is not positive` };
    const approval = await approvalIfShortAt(ctx, quote.token, exchange, amountUnits, `approve ${quote.id} for ${spec.id}`);
    const deposit: TxRequest = {
      label,
      address: exchange,
      abi: perpExchangeAbi,
      functionName: 'deposit',
      args: [m.marketId, amountUnits],
      bound: { kind: 'none', why: 'collateral' },
    };
    return { status: 'ready', txs: [...approval, deposit] };
  }

  async function buildWithdraw(amountUnits: bigint, bucket: AssetId | null): Promise<BuiltTxs> {
    const label = `${spec.id}.withdraw ${String(bucket)}`;
    const m = marketOf(bucket);
    if ('reason' in m) return { status: 'refused', label, reason: m.reason };
    if (amountUnits <= 0n) return { status: 'refused', label, reason: `withdrawal of ${amountUnits} is not positive` };
    const withdraw: TxRequest = {
      label,
      address: exchange,
      abi: perpExchangeAbi,
      functionName: 'withdraw',
      args: [m.marketId, amountUnits],
      bound: { kind: 'none', why: 'collateral' },
    };
    return { status: 'ready', txs: [withdraw] };
  }

  function buildTrade(assetId: AssetId, sizeDeltaUnits: bigint, ctx: PortfolioBuildContext): BuiltTxs {
    const label = `${spec.id}.trade ${assetId}`;
    const m = marketOf(assetId);
    if ('reason' in m) return { status: 'refused', label, reason: m.reason };
    const asset = findAsset(ctx.portfolio, assetId);
    if (!asset) return { status: 'refused', label, reason: `${assetId} is not an asset of the portfolio` };
    if (sizeDeltaUnits === 0n) return { status: 'refused', label, reason: 'hedge trade of zero size' };
    const priceE8 = ctx.snapshot.prices[assetId]?.priceE8 ?? 0n;
    if (priceE8 <= 0n) return { status: 'refused', label, reason: `no usable oracle price for ${assetId}` };
    const sizeE18 = perpSizeE18(sizeDeltaUnits, asset.decimals);
    const acceptable = acceptablePriceE8(priceE8, sizeE18, ctx.maxSlippageBps);
    const trade: TxRequest = {
      label,
      address: exchange,
      abi: perpExchangeAbi,
      functionName: 'trade',
      args: [m.marketId, sizeE18, acceptable],
      bound: { kind: 'oracle-price', acceptablePriceE8: acceptable, asset: asset.token },
    };
    return { status: 'ready', txs: [trade] };
  }

  return {
    spec,
    async buildTxs(action: PortfolioAction, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
      switch (action.kind) {
        case 'adjustHedge':
          if (action.venue !== spec.id) throw new Error(`perp venue ${spec.id} asked to build an action of ${action.venue}`);
          return buildTrade(action.asset, action.sizeDeltaUnits, ctx);
        case 'topUp':
          if (action.venue !== spec.id) throw new Error(`perp venue ${spec.id} asked to build an action of ${action.venue}`);
          return buildDeposit(action.amountUnits, action.asset, ctx);
        case 'moveCollateral':
          // A move spans two buckets (two venues, or two markets here): buildPortfolioAction composes it.
          throw new Error(`perp venue ${spec.id}: build a moveCollateral with buildPortfolioAction`);
        default:
          return assertNever(action, 'portfolio action');
      }
    },
    buildDeposit,
    buildWithdraw: (amountUnits, bucket) => buildWithdraw(amountUnits, bucket),
    allowList(): CallAllowList {
      return [
        { target: exchange, functions: ['deposit', 'withdraw', 'trade'] },
        { target: quote.token, functions: ['approve'] },
      ];
    },
  };
}
