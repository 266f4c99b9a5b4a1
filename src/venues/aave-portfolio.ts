import { BaseError, erc20Abi, formatUnits } from 'viem';
import {
  aaveOracleAbi,
  aaveProtocolDataProviderAbi,
  poolAbi,
  poolAddressesProviderAbi,
  quoterV2Abi,
  swapRouterAbi,
  uniswapV3PoolAbi,
} from '../../contracts-abi/index.js';
import type { Address } from '../core/types.js';
import type { CallAllowList } from '../core/guard.js';
import { ceilDiv, minBig } from '../core/format.js';
import { assertNever, type AaveVenueSpec, type AssetId, type AssetSpec, type PortfolioAction } from '../portfolio/model.js';
import { AAVE_VARIABLE_RATE_MODE } from './aave-math.js';
import { aaveCollateralModel } from './aave-collateral.js';
import { priceContextOf } from '../core/portfolio/assess.js';
import { releaseLabel } from './release.js';
import { approvalIfShortAt } from './perp-portfolio.js';
import type { PortfolioBuildContext, PortfolioVenue, PortfolioVenueDeps } from './portfolio-venues.js';
import type { BuiltTxs, TxRequest } from './types.js';

/**
 * Aave V3 as a portfolio venue: the quote supplied as cross-margin collateral (one bucket, key
 * null), a variable-rate debt per hedged asset as its short, each borrowed asset sold for (and
 * bought back with) the quote on its own Uniswap V3 pool (spec.swapPools). Swaps are bounded by
 * the oracle prices and checked against a QuoterV2 quote before anything is sent, so a sale that
 * would break the bound refuses the whole sequence (no borrow left unsold).
 */

const BPS = 10_000n;
/** A swap not mined within this window of the planning block is void (SwapRouter deadline). */
const SWAP_DEADLINE_SEC = 600n;
const BASE_CURRENCY_UNIT = 10n ** 8n;
const ZERO = /^0x0{40}$/i;

/** A token as a swap leg sees it: where, how many decimals, its oracle price (USD E8). */
export interface PricedToken {
  symbol: string;
  token: Address;
  decimals: number;
  priceE8: bigint;
}

function checkSwapInputs(amount: bigint, a: PricedToken, b: PricedToken, maxSlippageBps: number): void {
  if (amount < 0n) throw new RangeError(`swap amount ${amount} is negative`);
  if (a.priceE8 <= 0n || b.priceE8 <= 0n) throw new RangeError(`no usable oracle price (${a.symbol} ${a.priceE8}, ${b.symbol} ${b.priceE8})`);
  if (!Number.isInteger(maxSlippageBps) || maxSlippageBps < 0 || maxSlippageBps >= 10_000) {
    throw new RangeError(`maxSlippageBps ${maxSlippageBps} is not an integer in [0, 10000)`);
  }
}

/** Least `tokenOut` accepted for `amountIn` of `tokenIn`: oracle value less the slippage, rounded UP (never looser). */
export function minOutUnitsAt(amountIn: bigint, tokenIn: PricedToken, tokenOut: PricedToken, maxSlippageBps: number): bigint {
  checkSwapInputs(amountIn, tokenIn, tokenOut, maxSlippageBps);
  const num = amountIn * tokenIn.priceE8 * (BPS - BigInt(maxSlippageBps)) * 10n ** BigInt(tokenOut.decimals);
  return ceilDiv(num, 10n ** BigInt(tokenIn.decimals) * BPS * tokenOut.priceE8);
}

/** Most `tokenIn` paid for exactly `amountOut` of `tokenOut`: oracle value plus the slippage, rounded DOWN. */
export function maxInUnitsAt(amountOut: bigint, tokenIn: PricedToken, tokenOut: PricedToken, maxSlippageBps: number): bigint {
  checkSwapInputs(amountOut, tokenIn, tokenOut, maxSlippageBps);
  const num = amountOut * tokenOut.priceE8 * (BPS + BigInt(maxSlippageBps)) * 10n ** BigInt(tokenIn.decimals);
  return num / (10n ** BigInt(tokenOut.decimals) * BPS * tokenIn.priceE8);
}

const fmt = (units: bigint, t: PricedToken) => `${formatUnits(units, t.decimals)} ${t.symbol}`;
const shortMessage = (err: unknown) => (err instanceof BaseError ? err.shortMessage : err instanceof Error ? err.message : String(err));

/** One Uniswap V3 pool's swap legs: QuoterV2 quotes pinned to the planning block, SwapRouter calls. */
export interface SwapRoute {
  swapRouter: Address;
  quoter: Address;
  fee: number;
}

type Leg = { route: SwapRoute; tokenIn: PricedToken; tokenOut: PricedToken };
type BuildRead = Pick<PortfolioBuildContext, 'publicClient' | 'blockNumber' | 'account' | 'maxSlippageBps'>;

/**
 * Sell exactly `amountIn` (exactInputSingle) with the oracle-derived minimum out; refused when
 * QuoterV2 cannot quote it or its quote is already below that minimum.
 */
export async function exactInLeg(leg: Leg, amountIn: bigint, deadlineSec: bigint, ctx: BuildRead): Promise<TxRequest | { refused: string; label: string }> {
  const { route, tokenIn, tokenOut } = leg;
  const label = `uniswap.exactInputSingle ${tokenIn.symbol}->${tokenOut.symbol}`;
  const minOut = minOutUnitsAt(amountIn, tokenIn, tokenOut, ctx.maxSlippageBps);
  let quoted: bigint;
  try {
    const { result } = await ctx.publicClient.simulateContract({
      address: route.quoter,
      abi: quoterV2Abi,
      functionName: 'quoteExactInputSingle',
      args: [{ tokenIn: tokenIn.token, tokenOut: tokenOut.token, amountIn, fee: route.fee, sqrtPriceLimitX96: 0n }],
      blockNumber: ctx.blockNumber,
    });
    quoted = result[0];
  } catch (err) {
    return { label, refused: `QuoterV2 cannot quote selling ${fmt(amountIn, tokenIn)}: ${shortMessage(err)}` };
  }
  if (quoted < minOut) {
    return { label, refused: `selling ${fmt(amountIn, tokenIn)}: quote ${fmt(quoted, tokenOut)} is below the minimum ${fmt(minOut, tokenOut)} (oracle value less ${ctx.maxSlippageBps} bps): not sent` };
  }
  const params = { tokenIn: tokenIn.token, tokenOut: tokenOut.token, fee: route.fee, recipient: ctx.account, deadline: deadlineSec, amountIn, amountOutMinimum: minOut, sqrtPriceLimitX96: 0n };
  return { label, address: route.swapRouter, abi: swapRouterAbi, functionName: 'exactInputSingle', args: [params], bound: { kind: 'quote', quotedAmount: quoted, limitAmount: minOut } };
}

/** Buy exactly `amountOut` (exactOutputSingle) with the oracle-derived maximum in; refused as exactInLeg. */
export async function exactOutLeg(leg: Leg, amountOut: bigint, deadlineSec: bigint, ctx: BuildRead): Promise<TxRequest | { refused: string; label: string }> {
  const { route, tokenIn, tokenOut } = leg;
  const label = `uniswap.exactOutputSingle ${tokenIn.symbol}->${tokenOut.symbol}`;
  const maxIn = maxInUnitsAt(amountOut, tokenIn, tokenOut, ctx.maxSlippageBps);
  let quoted: bigint;
  try {
    const { result } = await ctx.publicClient.simulateContract({
      address: route.quoter,
      abi: quoterV2Abi,
      functionName: 'quoteExactOutputSingle',
      args: [{ tokenIn: tokenIn.token, tokenOut: tokenOut.token, amount: amountOut, fee: route.fee, sqrtPriceLimitX96: 0n }],
      blockNumber: ctx.blockNumber,
    });
    quoted = result[0];
  } catch (err) {
    return { label, refused: `QuoterV2 cannot quote buying ${fmt(amountOut, tokenOut)}: ${shortMessage(err)}` };
  }
  if (quoted > maxIn) {
    return { label, refused: `buying ${fmt(amountOut, tokenOut)}: quote ${fmt(quoted, tokenIn)} exceeds the maximum ${fmt(maxIn, tokenIn)} (oracle value plus ${ctx.maxSlippageBps} bps): not sent` };
  }
  const params = { tokenIn: tokenIn.token, tokenOut: tokenOut.token, fee: route.fee, recipient: ctx.account, deadline: deadlineSec, amountOut, amountInMaximum: maxIn, sqrtPriceLimitX96: 0n };
  return { label, address: route.swapRouter, abi: swapRouterAbi, functionName: 'exactOutputSingle', args: [params], bound: { kind: 'quote', quotedAmount: quoted, limitAmount: maxIn } };
}

/** What the adapter resolves once: the pool, and per hedged asset its debt token and swap pool. */
interface Hedged {
  asset: AssetSpec;
  variableDebt: Address;
  route: SwapRoute;
}

async function resolveHedged(spec: AaveVenueSpec, deps: PortfolioVenueDeps, dataProvider: Address): Promise<Hedged[]> {
  const { portfolio, publicClient } = deps;
  return Promise.all(
    Object.entries(spec.swapPools).map(async ([assetId, poolId]) => {
      const asset = portfolio.assets.find((a) => a.id === assetId);
      const pool = portfolio.pools.find((p) => p.id === poolId);
      if (!asset || !pool) throw new Error(`aave venue ${spec.id}: swap pool ${poolId} of ${assetId}: unknown ${asset ? 'pool' : 'asset'}`);
      const ids = [pool.token0, pool.token1].sort();
      if (ids.join() !== [assetId, portfolio.quote.id].sort().join()) throw new Error(`aave venue ${spec.id}: pool ${poolId} is ${pool.token0}/${pool.token1}, not ${assetId}/${portfolio.quote.id}`);
      const p = { address: pool.address, abi: uniswapV3PoolAbi } as const;
      const [tokens, fee, token0, token1] = await Promise.all([
        publicClient.readContract({ address: dataProvider, abi: aaveProtocolDataProviderAbi, functionName: 'getReserveTokensAddresses', args: [asset.token] }),
        publicClient.readContract({ ...p, functionName: 'fee' }),
        publicClient.readContract({ ...p, functionName: 'token0' }),
        publicClient.readContract({ ...p, functionName: 'token1' }),
      ]);
      if (ZERO.test(tokens[2])) throw new Error(`aave venue ${spec.id}: ${assetId} (${asset.token}) is not a reserve of the market`);
      const onChain = [token0, token1].map((t) => t.toLowerCase()).sort().join();
      if (fee !== pool.fee || onChain !== [asset.token, portfolio.quote.token].map((t) => t.toLowerCase()).sort().join()) {
        throw new Error(`aave venue ${spec.id}: pool ${pool.address} is ${token0}/${token1} fee ${fee}, not the configured ${assetId}/${portfolio.quote.id} fee ${pool.fee}`);
      }
      return { asset, variableDebt: tokens[2], route: { swapRouter: spec.swapRouter, quoter: spec.quoter, fee } };
    }),
  );
}

export async function createAavePortfolioVenue(spec: AaveVenueSpec, deps: PortfolioVenueDeps): Promise<PortfolioVenue<AaveVenueSpec>> {
  const { portfolio, publicClient } = deps;
  const quote = portfolio.quote;
  const provider = { address: spec.addressesProvider, abi: poolAddressesProviderAbi } as const;
  const [pool, oracle, dataProvider] = await Promise.all([
    publicClient.readContract({ ...provider, functionName: 'getPool' }),
    publicClient.readContract({ ...provider, functionName: 'getPriceOracle' }),
    publicClient.readContract({ ...provider, functionName: 'getPoolDataProvider' }),
  ]);
  const [quoteTokens, unit, hedgedList] = await Promise.all([
    publicClient.readContract({ address: dataProvider, abi: aaveProtocolDataProviderAbi, functionName: 'getReserveTokensAddresses', args: [quote.token] }),
    publicClient.readContract({ address: oracle, abi: aaveOracleAbi, functionName: 'BASE_CURRENCY_UNIT' }),
    resolveHedged(spec, deps, dataProvider),
  ]);
  if (ZERO.test(quoteTokens[0])) throw new Error(`aave venue ${spec.id}: ${quote.id} (${quote.token}) is not a reserve of the market`);
  if (unit !== BASE_CURRENCY_UNIT) throw new Error(`aave venue ${spec.id}: oracle ${oracle} base currency unit ${unit}, expected 1e8 (USD)`);
  const hedged = new Map(hedgedList.map((h) => [h.asset.id, h]));

  const poolTx = (label: string, functionName: 'supply' | 'withdraw' | 'borrow' | 'repay', args: readonly unknown[]): TxRequest => ({
    label,
    address: pool,
    abi: poolAbi,
    functionName,
    args,
    bound: { kind: 'none', why: functionName === 'supply' || functionName === 'withdraw' ? 'collateral' : 'debt' },
  });

  async function deadline(ctx: PortfolioBuildContext): Promise<bigint> {
    const block = await ctx.publicClient.getBlock({ blockNumber: ctx.blockNumber });
    return block.timestamp + SWAP_DEADLINE_SEC;
  }

  /** The hedged asset and the quote at the snapshot's oracle prices, or why not. */
  function priced(assetId: AssetId, ctx: PortfolioBuildContext): { h: Hedged; asset: PricedToken; quote: PricedToken } | { reason: string } {
    const h = hedged.get(assetId);
    if (!h) return { reason: `venue ${spec.id} has no swap pool for ${assetId}` };
    const assetPrice = ctx.snapshot.prices[assetId]?.priceE8 ?? 0n;
    if (assetPrice <= 0n || ctx.snapshot.quotePriceE8 <= 0n) return { reason: `no usable oracle price (${assetId} ${assetPrice}, ${quote.id} ${ctx.snapshot.quotePriceE8})` };
    return {
      h,
      asset: { symbol: assetId, token: h.asset.token, decimals: h.asset.decimals, priceE8: assetPrice },
      quote: { symbol: quote.id, token: quote.token, decimals: quote.decimals, priceE8: ctx.snapshot.quotePriceE8 },
    };
  }

  /** Borrow `units` of the asset and sell them for the quote. */
  async function shortMore(assetId: AssetId, units: bigint, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const p = priced(assetId, ctx);
    if ('reason' in p) return { status: 'refused', label: `${spec.id}.borrow ${assetId}`, reason: p.reason };
    const deadlineSec = await deadline(ctx);
    const sell = await exactInLeg({ route: p.h.route, tokenIn: p.asset, tokenOut: p.quote }, units, deadlineSec, ctx);
    if ('refused' in sell) return { status: 'refused', label: sell.label, reason: sell.refused };
    const approval = await approvalIfShortAt(ctx, p.asset.token, spec.swapRouter, units, `approve ${assetId} for the swap router`);
    const borrow = poolTx(`${spec.id}.borrow ${assetId}`, 'borrow', [p.asset.token, units, AAVE_VARIABLE_RATE_MODE, 0, ctx.account]);
    return { status: 'ready', txs: [...approval, borrow, sell] };
  }

  /** Buy back up to `units` of the asset with the quote and repay (never more than the debt at the planning block). */
  async function shortLess(assetId: AssetId, units: bigint, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const label = `${spec.id}.repay ${assetId}`;
    const p = priced(assetId, ctx);
    if ('reason' in p) return { status: 'refused', label, reason: p.reason };
    const at = { blockNumber: ctx.blockNumber } as const;
    const [debt, wallet, deadlineSec] = await Promise.all([
      ctx.publicClient.readContract({ ...at, address: p.h.variableDebt, abi: erc20Abi, functionName: 'balanceOf', args: [ctx.account] }),
      ctx.publicClient.readContract({ ...at, address: quote.token, abi: erc20Abi, functionName: 'balanceOf', args: [ctx.account] }),
      deadline(ctx),
    ]);
    const repayUnits = minBig(units, debt);
    if (repayUnits <= 0n) return { status: 'refused', label, reason: `no ${assetId} debt to repay` };
    const buy = await exactOutLeg({ route: p.h.route, tokenIn: p.quote, tokenOut: p.asset }, repayUnits, deadlineSec, ctx);
    if ('refused' in buy) return { status: 'refused', label: buy.label, reason: buy.refused };
    const maxIn = buy.bound.kind === 'quote' ? buy.bound.limitAmount : 0n;
    // A wallet short of the buy-back's worst cost draws the rest from this account's own quote
    // collateral, first: only what keeps its ratio at or above the trigger even if the buy-back
    // then failed (and repaying that much debt raises the health factor again).
    const quotedIn = buy.bound.kind === 'quote' ? buy.bound.quotedAmount : 0n;
    const fromCollateral = quotedIn > wallet ? maxIn - wallet : 0n;
    const withdraw: TxRequest[] = [];
    if (fromCollateral > 0n) {
      const room = collateralRoom(ctx);
      if (fromCollateral > room) {
        return { status: 'refused', label: buy.label, reason: `buying ${fmt(repayUnits, p.asset)} needs up to ${fmt(maxIn, p.quote)}; the wallet holds ${fmt(wallet, p.quote)} and ${spec.id} can release ${fmt(room, p.quote)} above its trigger` };
      }
      withdraw.push(poolTx(releaseLabel(spec.id, fromCollateral, quote.id), 'withdraw', [quote.token, fromCollateral, ctx.account]));
    }
    const [approveQuote, approveAsset] = await Promise.all([
      approvalIfShortAt(ctx, quote.token, spec.swapRouter, maxIn, `approve ${quote.id} for the swap router`),
      approvalIfShortAt(ctx, p.asset.token, pool, repayUnits, `approve ${assetId} for the Aave pool`),
    ]);
    const repay = poolTx(label, 'repay', [p.asset.token, repayUnits, AAVE_VARIABLE_RATE_MODE, ctx.account]);
    return { status: 'ready', txs: [...withdraw, ...approveQuote, ...approveAsset, buy, repay] };
  }

  /** Quote units this account can release keeping its health factor >= its trigger, from the planning snapshot. */
  function collateralRoom(ctx: PortfolioBuildContext): bigint {
    const account = ctx.snapshot.venues[spec.id];
    if (account?.kind !== 'aave') return 0n;
    return aaveCollateralModel.withdrawableUnits(spec, account, priceContextOf(ctx.portfolio, ctx.snapshot), null, spec.collateral.triggerE18);
  }

  async function buildDeposit(amountUnits: bigint, _bucket: AssetId | null, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const label = `${spec.id}.supply ${quote.id}`;
    if (amountUnits <= 0n) return { status: 'refused', label, reason: `supply of ${amountUnits} is not positive` };
    const approval = await approvalIfShortAt(ctx, quote.token, pool, amountUnits, `approve ${quote.id} for the Aave pool`);
    return { status: 'ready', txs: [...approval, poolTx(label, 'supply', [quote.token, amountUnits, ctx.account, 0])] };
  }

  async function buildWithdraw(amountUnits: bigint, _bucket: AssetId | null, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    const label = `${spec.id}.withdraw ${quote.id}`;
    if (amountUnits <= 0n) return { status: 'refused', label, reason: `withdrawal of ${amountUnits} is not positive` };
    return { status: 'ready', txs: [poolTx(label, 'withdraw', [quote.token, amountUnits, ctx.account])] };
  }

  return {
    spec,
    async buildTxs(action: PortfolioAction, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
      switch (action.kind) {
        case 'adjustHedge': {
          if (action.venue !== spec.id) throw new Error(`aave venue ${spec.id} asked to build an action of ${action.venue}`);
          const size = action.sizeDeltaUnits;
          if (size === 0n) return { status: 'refused', label: `${spec.id}.hedge ${action.asset}`, reason: 'hedge trade of zero size' };
          return size < 0n ? shortMore(action.asset, -size, ctx) : shortLess(action.asset, size, ctx);
        }
        case 'topUp':
          if (action.venue !== spec.id) throw new Error(`aave venue ${spec.id} asked to build an action of ${action.venue}`);
          return buildDeposit(action.amountUnits, action.asset, ctx);
        case 'moveCollateral':
          throw new Error(`aave venue ${spec.id}: build a moveCollateral with buildPortfolioAction`);
        default:
          return assertNever(action, 'portfolio action');
      }
    },
    buildDeposit,
    buildWithdraw,
    allowList(): CallAllowList {
      return [
        { target: pool, functions: ['supply', 'withdraw', 'borrow', 'repay'] },
        { target: spec.swapRouter, functions: ['exactInputSingle', 'exactOutputSingle'] },
        { target: quote.token, functions: ['approve'] },
        ...hedgedList.map((h) => ({ target: h.asset.token, functions: ['approve'] })),
      ];
    },
  };
}
