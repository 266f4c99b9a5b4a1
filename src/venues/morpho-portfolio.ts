import { erc20Abi, formatUnits } from 'viem';
import { morphoAbi, uniswapV3PoolAbi } from '../../contracts-abi/index.js';
import type { CallAllowList } from '../core/guard.js';
import { assertNever, type AssetSpec, type MorphoMarketParams, type MorphoVenueAccount, type MorphoVenueSpec, type PortfolioAction } from '../portfolio/model.js';
import { exactInLeg, exactOutLeg, type PricedToken, type SwapRoute } from './aave-portfolio.js';
import { accrueInterest, borrowedAssets } from './morpho-math.js';
import { resolveMorpho } from './morpho-read.js';
import { approvalIfShortAt } from './perp-portfolio.js';
import type { PortfolioBuildContext, PortfolioVenue, PortfolioVenueDeps } from './portfolio-venues.js';
import type { BuiltTxs, TxRequest } from './types.js';

/**
 * Morpho Blue as a portfolio venue: one market whose collateral is the quote and whose loan token
 * is the hedged asset. Short more = borrow the asset and sell it for the quote; short less = buy
 * it back with the quote and repay; top-up = supplyCollateral; withdraw = withdrawCollateral.
 * Swaps go through one Uniswap V3 pool, bounded by the oracle prices and checked against a
 * QuoterV2 quote before anything is sent (no borrow is left unsold), as for Aave.
 */

/** A swap not mined within this window of the planning block is void (SwapRouter deadline). */
const SWAP_DEADLINE_SEC = 600n;

/** The MarketParams struct as Morpho's functions take it. */
const paramsArg = (p: MorphoMarketParams) => ({ loanToken: p.loanToken, collateralToken: p.collateralToken, oracle: p.oracle, irm: p.irm, lltv: p.lltv });

async function checkedPool(spec: MorphoVenueSpec, deps: PortfolioVenueDeps, loan: AssetSpec): Promise<SwapRoute> {
  const { portfolio, publicClient } = deps;
  const pool = portfolio.pools.find((p) => p.id === spec.swapPool);
  if (!pool) throw new Error(`morpho venue ${spec.id}: unknown swap pool ${spec.swapPool}`);
  const p = { address: pool.address, abi: uniswapV3PoolAbi } as const;
  const [fee, token0, token1] = await Promise.all([
    publicClient.readContract({ ...p, functionName: 'fee' }),
    publicClient.readContract({ ...p, functionName: 'token0' }),
    publicClient.readContract({ ...p, functionName: 'token1' }),
  ]);
  const onChain = [token0, token1].map((t) => t.toLowerCase()).sort().join();
  if (fee !== pool.fee || onChain !== [loan.token, portfolio.quote.token].map((t) => t.toLowerCase()).sort().join()) {
    throw new Error(`morpho venue ${spec.id}: pool ${pool.address} is ${token0}/${token1} fee ${fee}, not the configured ${loan.id}/${portfolio.quote.id} fee ${pool.fee}`);
  }
  return { swapRouter: spec.swapRouter, quoter: spec.quoter, fee };
}

export async function createMorphoPortfolioVenue(spec: MorphoVenueSpec, deps: PortfolioVenueDeps): Promise<PortfolioVenue<MorphoVenueSpec>> {
  const { portfolio } = deps;
  const quote = portfolio.quote;
  const found = portfolio.assets.find((a) => a.id === spec.loanAsset);
  if (!found) throw new Error(`morpho venue ${spec.id}: unknown loan asset ${spec.loanAsset}`);
  const loan: AssetSpec = found;
  const { params } = await resolveMorpho(deps.publicClient, spec);
  if (params.loanToken.toLowerCase() !== loan.token.toLowerCase()) throw new Error(`morpho venue ${spec.id}: market ${spec.marketId} lends ${params.loanToken}, not ${loan.id} (${loan.token})`);
  if (params.collateralToken.toLowerCase() !== quote.token.toLowerCase()) {
    throw new Error(`morpho venue ${spec.id}: market ${spec.marketId} takes ${params.collateralToken} as collateral, not ${quote.id} (${quote.token})`);
  }
  const route = await checkedPool(spec, deps, loan);
  const mp = paramsArg(params);

  const morphoTx = (label: string, functionName: 'supplyCollateral' | 'withdrawCollateral' | 'borrow' | 'repay', args: readonly unknown[]): TxRequest => ({
    label,
    address: spec.morpho,
    abi: morphoAbi,
    functionName,
    args,
    bound: { kind: 'none', why: functionName === 'borrow' || functionName === 'repay' ? 'debt' : 'collateral' },
  });

  /** The loan asset and the quote at the snapshot's oracle prices, or why not. */
  function priced(ctx: PortfolioBuildContext): { asset: PricedToken; quote: PricedToken } | { reason: string } {
    const assetPrice = ctx.snapshot.prices[loan.id]?.priceE8 ?? 0n;
    if (assetPrice <= 0n || ctx.snapshot.quotePriceE8 <= 0n) return { reason: `no usable oracle price (${loan.id} ${assetPrice}, ${quote.id} ${ctx.snapshot.quotePriceE8})` };
    return {
      asset: { symbol: loan.id, token: loan.token, decimals: loan.decimals, priceE8: assetPrice },
      quote: { symbol: quote.id, token: quote.token, decimals: quote.decimals, priceE8: ctx.snapshot.quotePriceE8 },
    };
  }

  function accountOf(ctx: PortfolioBuildContext): MorphoVenueAccount | null {
    const a = ctx.snapshot.venues[spec.id];
    return a?.kind === 'morpho' ? a : null;
  }

  async function deadline(ctx: PortfolioBuildContext): Promise<bigint> {
    const block = await ctx.publicClient.getBlock({ blockNumber: ctx.blockNumber });
    return block.timestamp + SWAP_DEADLINE_SEC;
  }

  async function shortMore(units: bigint, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const p = priced(ctx);
    if ('reason' in p) return { status: 'refused', label: `${spec.id}.borrow ${loan.id}`, reason: p.reason };
    const sell = await exactInLeg({ route, tokenIn: p.asset, tokenOut: p.quote }, units, await deadline(ctx), ctx);
    if ('refused' in sell) return { status: 'refused', label: sell.label, reason: sell.refused };
    const approval = await approvalIfShortAt(ctx, loan.token, spec.swapRouter, units, `approve ${loan.id} for the swap router`);
    const borrow = morphoTx(`${spec.id}.borrow ${loan.id}`, 'borrow', [mp, units, 0n, ctx.account, ctx.account]);
    return { status: 'ready', txs: [...approval, borrow, sell] };
  }

  /**
   * Buy back and repay `units`; at or above the whole debt, repay every borrow share (a repay by
   * assets cannot clear the shares' rounding) and buy what they will owe by the swap deadline.
   */
  async function shortLess(units: bigint, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const label = `${spec.id}.repay ${loan.id}`;
    const p = priced(ctx);
    if ('reason' in p) return { status: 'refused', label, reason: p.reason };
    const account = accountOf(ctx);
    if (!account) return { status: 'refused', label, reason: `the snapshot has no account of venue ${spec.id}` };
    const deadlineSec = await deadline(ctx);
    const now = accrueInterest(account.market, account.borrowRatePerSecE18, account.blockTimestampSec);
    const debt = borrowedAssets(account.borrowShares, now);
    if (debt <= 0n) return { status: 'refused', label, reason: `no ${loan.id} debt to repay` };
    const all = units >= debt;
    const buyUnits = all ? borrowedAssets(account.borrowShares, accrueInterest(account.market, account.borrowRatePerSecE18, deadlineSec)) : units;
    const buy = await exactOutLeg({ route, tokenIn: p.quote, tokenOut: p.asset }, buyUnits, deadlineSec, ctx);
    if ('refused' in buy) return { status: 'refused', label: buy.label, reason: buy.refused };
    const wallet = await ctx.publicClient.readContract({ address: quote.token, abi: erc20Abi, functionName: 'balanceOf', args: [ctx.account], blockNumber: ctx.blockNumber });
    const { quotedAmount, limitAmount } = buy.bound.kind === 'quote' ? buy.bound : { quotedAmount: 0n, limitAmount: 0n };
    if (wallet < quotedAmount) {
      return { status: 'refused', label: buy.label, reason: `buying ${formatUnits(buyUnits, loan.decimals)} ${loan.id} needs ${formatUnits(quotedAmount, quote.decimals)} ${quote.id}, the wallet holds ${formatUnits(wallet, quote.decimals)}` };
    }
    const [approveQuote, approveLoan] = await Promise.all([
      approvalIfShortAt(ctx, quote.token, spec.swapRouter, limitAmount, `approve ${quote.id} for the swap router`),
      approvalIfShortAt(ctx, loan.token, spec.morpho, buyUnits, `approve ${loan.id} for Morpho`),
    ]);
    const args = all ? [mp, 0n, account.borrowShares, ctx.account, '0x'] : [mp, units, 0n, ctx.account, '0x'];
    return { status: 'ready', txs: [...approveQuote, ...approveLoan, buy, morphoTx(label, 'repay', args)] };
  }

  async function buildDeposit(amountUnits: bigint, _bucket: string | null, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const label = `${spec.id}.supplyCollateral ${quote.id}`;
    if (amountUnits <= 0n) return { status: 'refused', label, reason: `collateral supply of ${amountUnits} is not positive` };
    const approval = await approvalIfShortAt(ctx, quote.token, spec.morpho, amountUnits, `approve ${quote.id} for Morpho`);
    return { status: 'ready', txs: [...approval, morphoTx(label, 'supplyCollateral', [mp, amountUnits, ctx.account, '0x'])] };
  }

  async function buildWithdraw(amountUnits: bigint, _bucket: string | null, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const label = `${spec.id}.withdrawCollateral ${quote.id}`;
    if (amountUnits <= 0n) return { status: 'refused', label, reason: `collateral withdrawal of ${amountUnits} is not positive` };
    return { status: 'ready', txs: [morphoTx(label, 'withdrawCollateral', [mp, amountUnits, ctx.account, ctx.account])] };
  }

  return {
    spec,
    async buildTxs(action: PortfolioAction, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
      switch (action.kind) {
        case 'adjustHedge': {
          if (action.venue !== spec.id) throw new Error(`morpho venue ${spec.id} asked to build an action of ${action.venue}`);
          const label = `${spec.id}.hedge ${action.asset}`;
          if (action.asset !== loan.id) return { status: 'refused', label, reason: `venue ${spec.id} lends ${loan.id}, not ${action.asset}` };
          const size = action.sizeDeltaUnits;
          if (size === 0n) return { status: 'refused', label, reason: 'hedge trade of zero size' };
          return size < 0n ? shortMore(-size, ctx) : shortLess(size, ctx);
        }
        case 'topUp':
          if (action.venue !== spec.id) throw new Error(`morpho venue ${spec.id} asked to build an action of ${action.venue}`);
          return buildDeposit(action.amountUnits, action.asset, ctx);
        case 'moveCollateral':
          throw new Error(`morpho venue ${spec.id}: build a moveCollateral with buildPortfolioAction`);
        default:
          return assertNever(action, 'portfolio action');
      }
    },
    buildDeposit,
    buildWithdraw,
    allowList(): CallAllowList {
      return [
        { target: spec.morpho, functions: ['supplyCollateral', 'withdrawCollateral', 'borrow', 'repay'] },
        { target: spec.swapRouter, functions: ['exactInputSingle', 'exactOutputSingle'] },
        { target: quote.token, functions: ['approve'] },
        { target: loan.token, functions: ['approve'] },
      ];
    },
  };
}
