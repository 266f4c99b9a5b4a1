import { BaseError, erc20Abi, type Chain, type ContractFunctionParameters, type PublicClient, type Transport } from 'viem';
import {
  aaveOracleAbi,
  aaveProtocolDataProviderAbi,
  poolAbi,
  poolAddressesProviderAbi,
  uniswapV3PoolAbi,
} from '../../contracts-abi/index.js';
import type { ChainAddresses } from '../config.js';
import type { AaveAccount, Action, Address } from '../core/types.js';
import type { CallAllowList } from '../core/guard.js';
import { fmtEth, fmtUsdc, minBig } from '../core/format.js';
import { AAVE_VARIABLE_RATE_MODE } from './aave-math.js';
import {
  BUY_WETH_LABEL,
  SELL_WETH_LABEL,
  buyWethTx,
  checkBuyQuote,
  checkSellQuote,
  maxAmountInUnits,
  minAmountOutUnits,
  quoteBuyWethUnits,
  quoteSellWethUnits,
  sellWethTx,
  type SwapVenue,
} from './aave-swap.js';
import { approvalIfShort } from './perp.js';
import type { BuildContext, BuiltTxs, HedgeVenue, TxRequest } from './types.js';

/** Aave's prices are in its base currency; every V3 market we target uses USD with 8 decimals. */
const BASE_CURRENCY_UNIT = 10n ** 8n;
/** A swap not mined within this window of the planning block is void (SwapRouter deadline). */
const SWAP_DEADLINE_SEC = 600n;

/** The Aave account as the adapter reads it, plus the prices Aave itself valued it with. */
export interface AaveVenueAccount extends AaveAccount {
  /** AaveOracle.getAssetPrice(WETH / USDC), base currency USD, 8 decimals. */
  aaveWethPriceE8: bigint;
  aaveUsdcPriceE8: bigint;
}

/** Everything resolved once at start from the PoolAddressesProvider (nothing hard-coded per chain). */
export interface AaveMarket {
  pool: Address;
  oracle: Address;
  dataProvider: Address;
  aUsdc: Address;
  variableDebtWeth: Address;
}

type Client = PublicClient<Transport, Chain>;
type AccountData = readonly [bigint, bigint, bigint, bigint, bigint, bigint];
type ReserveConfig = readonly [bigint, bigint, bigint, bigint, bigint, boolean, boolean, boolean, boolean, boolean];

/** Resolve the market's contracts from the provider, and check it lists both assets in USD E8. */
export async function resolveAaveMarket(client: Client, provider: Address, weth: Address, usdc: Address): Promise<AaveMarket> {
  const p = { address: provider, abi: poolAddressesProviderAbi } as const;
  const [pool, oracle, dataProvider] = await Promise.all([
    client.readContract({ ...p, functionName: 'getPool' }),
    client.readContract({ ...p, functionName: 'getPriceOracle' }),
    client.readContract({ ...p, functionName: 'getPoolDataProvider' }),
  ]);
  const dp = { address: dataProvider, abi: aaveProtocolDataProviderAbi, functionName: 'getReserveTokensAddresses' } as const;
  const [usdcTokens, wethTokens, unit] = await Promise.all([
    client.readContract({ ...dp, args: [usdc] }),
    client.readContract({ ...dp, args: [weth] }),
    client.readContract({ address: oracle, abi: aaveOracleAbi, functionName: 'BASE_CURRENCY_UNIT' }),
  ]);
  const zero = /^0x0{40}$/i;
  if (zero.test(usdcTokens[0]) || zero.test(wethTokens[2])) {
    throw new Error(`Aave market ${pool}: USDC ${usdc} or WETH ${weth} is not a reserve (aUSDC ${usdcTokens[0]}, variable debt WETH ${wethTokens[2]})`);
  }
  if (unit !== BASE_CURRENCY_UNIT) throw new Error(`Aave oracle ${oracle}: base currency unit ${unit}, expected 1e8 (USD)`);
  return { pool, oracle, dataProvider, aUsdc: usdcTokens[0], variableDebtWeth: wethTokens[2] };
}

/** The calls `parse` expects, in its order. Exported for tests and the fork suite. */
export function aaveReadCalls(m: AaveMarket, weth: Address, usdc: Address, account: Address): ContractFunctionParameters[] {
  return [
    { address: m.aUsdc, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
    { address: m.variableDebtWeth, abi: erc20Abi, functionName: 'balanceOf', args: [account] },
    { address: m.pool, abi: poolAbi, functionName: 'getUserAccountData', args: [account] },
    { address: m.dataProvider, abi: aaveProtocolDataProviderAbi, functionName: 'getReserveConfigurationData', args: [usdc] },
    { address: m.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [weth] },
    { address: m.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [usdc] },
  ];
}

/**
 * The account from those calls' results. The liquidation threshold and LTV are Aave's own
 * weighted figures for the account (getUserAccountData; equal to the USDC reserve's with USDC as
 * the only collateral, and right under e-mode too); without collateral they are the reserve's,
 * which is what a first supply of USDC will get.
 */
export function parseAaveAccount(results: readonly unknown[]): AaveVenueAccount {
  const [collateralUnits, debtWei, data, config, wethPriceE8, usdcPriceE8] = results as [bigint, bigint, AccountData, ReserveConfig, bigint, bigint];
  if (typeof collateralUnits !== 'bigint' || typeof debtWei !== 'bigint' || !Array.isArray(data) || !Array.isArray(config)) {
    throw new Error(`aave venue: unexpected read results ${String(results)}`);
  }
  const [totalCollateralBaseE8, totalDebtBaseE8, , accountLtBps, accountLtvBps, healthFactorE18] = data;
  const withCollateral = totalCollateralBaseE8 > 0n;
  return {
    venue: 'aave',
    debtWei,
    collateralUnits,
    totalCollateralBaseE8,
    totalDebtBaseE8,
    liquidationThresholdBps: withCollateral ? accountLtBps : config[2],
    ltvBps: withCollateral ? accountLtvBps : config[1],
    healthFactorE18,
    aaveWethPriceE8: wethPriceE8,
    aaveUsdcPriceE8: usdcPriceE8,
  };
}

function shortMessage(err: unknown): string {
  return err instanceof BaseError ? err.shortMessage : err instanceof Error ? err.message : String(err);
}

/**
 * Aave V3 as the hedge: USDC collateral, variable WETH debt as the short, swaps on the configured
 * Uniswap V3 pool. Addresses come from configuration (the provider, tokens, router, quoter and
 * pool), so the same adapter runs on the devnet and on a real chain.
 */
export async function createAaveVenue(params: { addresses: ChainAddresses; publicClient: Client }): Promise<HedgeVenue> {
  const { addresses: a, publicClient } = params;
  if (!a.aavePoolAddressesProvider) throw new Error('aave venue: AAVE_POOL_ADDRESSES_PROVIDER is not set');
  if (!a.uniswapSwapRouter) throw new Error('aave venue: UNISWAP_SWAP_ROUTER is not set (it sells the borrowed WETH)');
  if (!a.uniswapQuoter) throw new Error('aave venue: UNISWAP_QUOTER is not set (swaps are checked against a QuoterV2 quote before anything is sent)');
  const [market, fee] = await Promise.all([
    resolveAaveMarket(publicClient, a.aavePoolAddressesProvider, a.weth, a.usdc),
    publicClient.readContract({ address: a.uniswapPool, abi: uniswapV3PoolAbi, functionName: 'fee' }),
  ]);
  const swap: SwapVenue = { swapRouter: a.uniswapSwapRouter, quoter: a.uniswapQuoter, weth: a.weth, usdc: a.usdc, fee };
  const { pool } = market;

  const poolTx = (label: string, functionName: 'supply' | 'borrow' | 'repay', args: readonly unknown[]): TxRequest => ({
    label,
    address: pool,
    abi: poolAbi,
    functionName,
    args,
    bound: { kind: 'none', why: functionName === 'supply' ? 'collateral' : 'debt' },
  });

  async function deadline(ctx: BuildContext): Promise<bigint> {
    const block = await ctx.publicClient.getBlock({ blockNumber: ctx.blockNumber });
    return block.timestamp + SWAP_DEADLINE_SEC;
  }

  /** Borrow |size| WETH and sell it: refused before anything is sent when the quote breaks the bound. */
  async function shortMore(sizeWei: bigint, ctx: BuildContext): Promise<BuiltTxs> {
    const minOutUnits = minAmountOutUnits(sizeWei, ctx.oracle, ctx.maxSlippageBps);
    let quotedUnits: bigint;
    try {
      quotedUnits = await quoteSellWethUnits(ctx.publicClient, swap, sizeWei, ctx.blockNumber);
    } catch (err) {
      return { status: 'refused', label: SELL_WETH_LABEL, reason: `QuoterV2 cannot quote selling ${fmtEth(sizeWei)}: ${shortMessage(err)}` };
    }
    const bad = checkSellQuote(quotedUnits, minOutUnits, ctx.maxSlippageBps);
    if (bad) return { status: 'refused', label: SELL_WETH_LABEL, reason: `selling ${fmtEth(sizeWei)}: ${bad}` };
    const [approval, deadlineSec] = await Promise.all([
      approvalIfShort(ctx, swap.weth, swap.swapRouter, sizeWei, 'approve WETH for the swap router'),
      deadline(ctx),
    ]);
    return {
      status: 'ready',
      txs: [
        ...approval,
        poolTx('aave.borrow WETH', 'borrow', [swap.weth, sizeWei, AAVE_VARIABLE_RATE_MODE, 0, ctx.account]),
        sellWethTx(swap, { recipient: ctx.account, deadlineSec, amountInWei: sizeWei, minOutUnits, quotedOutUnits: quotedUnits }),
      ],
    };
  }

  /** Buy WETH with USDC and repay (never more than the debt at the planning block). */
  async function shortLess(sizeWei: bigint, ctx: BuildContext): Promise<BuiltTxs> {
    const at = { blockNumber: ctx.blockNumber } as const;
    const [debtWei, walletUnits] = await Promise.all([
      ctx.publicClient.readContract({ ...at, address: market.variableDebtWeth, abi: erc20Abi, functionName: 'balanceOf', args: [ctx.account] }),
      ctx.publicClient.readContract({ ...at, address: swap.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [ctx.account] }),
    ]);
    const repayWei = minBig(sizeWei, debtWei);
    if (repayWei <= 0n) return { status: 'refused', label: 'aave.repay WETH', reason: 'no WETH debt to repay' };
    const maxInUnits = maxAmountInUnits(repayWei, ctx.oracle, ctx.maxSlippageBps);
    let quotedUnits: bigint;
    try {
      quotedUnits = await quoteBuyWethUnits(ctx.publicClient, swap, repayWei, ctx.blockNumber);
    } catch (err) {
      return { status: 'refused', label: BUY_WETH_LABEL, reason: `QuoterV2 cannot quote buying ${fmtEth(repayWei)}: ${shortMessage(err)}` };
    }
    const bad = checkBuyQuote(quotedUnits, maxInUnits, ctx.maxSlippageBps);
    if (bad) return { status: 'refused', label: BUY_WETH_LABEL, reason: `buying ${fmtEth(repayWei)}: ${bad}` };
    if (walletUnits < quotedUnits) {
      return { status: 'refused', label: BUY_WETH_LABEL, reason: `buying ${fmtEth(repayWei)} needs ${fmtUsdc(quotedUnits)}, the wallet holds ${fmtUsdc(walletUnits)}` };
    }
    const [approveUsdc, approveWeth, deadlineSec] = await Promise.all([
      approvalIfShort(ctx, swap.usdc, swap.swapRouter, maxInUnits, 'approve USDC for the swap router'),
      approvalIfShort(ctx, swap.weth, pool, repayWei, 'approve WETH for the Aave pool'),
      deadline(ctx),
    ]);
    return {
      status: 'ready',
      txs: [
        ...approveUsdc,
        ...approveWeth,
        buyWethTx(swap, { recipient: ctx.account, deadlineSec, amountOutWei: repayWei, maxInUnits, quotedInUnits: quotedUnits }),
        poolTx('aave.repay WETH', 'repay', [swap.weth, repayWei, AAVE_VARIABLE_RATE_MODE, ctx.account]),
      ],
    };
  }

  return {
    kind: 'aave',
    readCalls: (account) => aaveReadCalls(market, a.weth, a.usdc, account),
    parse: (results) => parseAaveAccount(results),
    async buildTxs(action: Action, ctx: BuildContext): Promise<BuiltTxs> {
      if (action.kind === 'topUp') {
        const txs: TxRequest[] = [
          ...(await approvalIfShort(ctx, a.usdc, pool, action.amountUnits, 'approve USDC for the Aave pool')),
          poolTx('aave.supply USDC', 'supply', [a.usdc, action.amountUnits, ctx.account, 0]),
        ];
        return { status: 'ready', txs };
      }
      const { sizeDeltaWei } = action;
      if (sizeDeltaWei === 0n) return { status: 'refused', label: 'aave.hedge', reason: 'hedge trade of zero size' };
      return sizeDeltaWei < 0n ? shortMore(-sizeDeltaWei, ctx) : shortLess(sizeDeltaWei, ctx);
    },
    allowList(): CallAllowList {
      return [
        { target: pool, functions: ['supply', 'borrow', 'repay'] },
        { target: swap.swapRouter, functions: ['exactInputSingle', 'exactOutputSingle'] },
        { target: a.usdc, functions: ['approve'] },
        { target: a.weth, functions: ['approve'] },
      ];
    },
  };
}
