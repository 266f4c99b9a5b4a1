import { erc20Abi, maxUint256, type ContractFunctionParameters } from 'viem';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import type { Action, Address, PerpAccount } from '../core/types.js';
import type { CallAllowList } from '../core/guard.js';
import type { BuildContext, BuiltTxs, HedgeVenue, TxRequest } from './types.js';

const BPS = 10_000n;

interface PerpAccountView {
  sizeWei: bigint;
  entryPriceE8: bigint;
  marginUnits: bigint;
  accountValueUnits: bigint;
  marginRatioE18: bigint;
  initialRatioE18: bigint;
  maintenanceRatioE18: bigint;
  takerFeeBps: bigint;
}

/**
 * Worst fill the keeper accepts: below the oracle for a sell, above it for a buy, rounded
 * against the keeper so the bound is never looser than `maxSlippageBps`.
 */
export function acceptablePriceE8(priceE8: bigint, sizeDeltaWei: bigint, maxSlippageBps: number): bigint {
  const slip = BigInt(maxSlippageBps);
  return sizeDeltaWei < 0n ? (priceE8 * (BPS - slip)) / BPS : (priceE8 * (BPS + slip) + BPS - 1n) / BPS;
}

/** Approve the spender for good once the allowance is short (one approval, then none). */
export async function approvalIfShort(
  ctx: BuildContext,
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

/** The reference perp exchange: USDC isolated margin, one market per hedge. */
export function createPerpVenue(params: { exchange: Address; marketId: bigint; usdc: Address }): HedgeVenue {
  const { exchange, marketId, usdc } = params;
  return {
    kind: 'perp',
    readCalls(account: Address): readonly ContractFunctionParameters[] {
      return [{ address: exchange, abi: perpExchangeAbi, functionName: 'getAccount', args: [account, marketId] }];
    },
    parse(results): PerpAccount {
      const v = results[0] as PerpAccountView | undefined;
      if (!v || typeof v.sizeWei !== 'bigint') throw new Error(`perp venue: getAccount returned ${String(v)}`);
      return {
        venue: 'perp',
        sizeWei: v.sizeWei,
        entryPriceE8: v.entryPriceE8,
        marginUnits: v.marginUnits,
        accountValueUnits: v.accountValueUnits,
        marginRatioE18: v.marginRatioE18,
        maintenanceRatioE18: v.maintenanceRatioE18,
        initialRatioE18: v.initialRatioE18,
        takerFeeBps: v.takerFeeBps,
      };
    },
    async buildTxs(action: Action, ctx: BuildContext): Promise<BuiltTxs> {
      if (action.kind === 'topUp') {
        const txs: TxRequest[] = [
          ...(await approvalIfShort(ctx, usdc, exchange, action.amountUnits, 'approve USDC for the perp exchange')),
          {
            label: 'perp.deposit',
            address: exchange,
            abi: perpExchangeAbi,
            functionName: 'deposit',
            args: [marketId, action.amountUnits],
            bound: { kind: 'none', why: 'collateral' },
          },
        ];
        return { status: 'ready', txs };
      }
      const acceptable = acceptablePriceE8(ctx.oracle.priceE8, action.sizeDeltaWei, ctx.maxSlippageBps);
      const trade: TxRequest = {
        label: 'perp.trade',
        address: exchange,
        abi: perpExchangeAbi,
        functionName: 'trade',
        args: [marketId, action.sizeDeltaWei, acceptable],
        bound: { kind: 'oracle-price', acceptablePriceE8: acceptable },
      };
      return { status: 'ready', txs: [trade] };
    },
    allowList(): CallAllowList {
      return [
        { target: exchange, functions: ['deposit', 'trade'] },
        { target: usdc, functions: ['approve'] },
      ];
    },
  };
}
