import type { Chain, PublicClient, Transport } from 'viem';
import { quoterV2Abi, swapRouterAbi } from '../../contracts-abi/index.js';
import type { Address, OracleReading } from '../core/types.js';
import { ceilDiv, fmtUsdc } from '../core/format.js';
import type { TxRequest } from './types.js';

/**
 * The Uniswap V3 legs of the Aave hedge: bounds from the oracle, QuoterV2 checks, and the
 * SwapRouter calls. The bounds are pure; the quotes are eth_calls pinned to the planning block.
 */

const BPS = 10_000n;
/** wei (1e18) * price (1e8) -> USDC units (1e6). */
const WEI_E8_PER_UNIT = 10n ** 20n;
const E8 = 10n ** 8n;

function checkInputs(amountWei: bigint, oracle: Pick<OracleReading, 'priceE8' | 'quotePriceE8'>, maxSlippageBps: number): void {
  if (amountWei < 0n) throw new RangeError(`swap amount ${amountWei} is negative`);
  if (oracle.priceE8 <= 0n || oracle.quotePriceE8 <= 0n) {
    throw new RangeError(`no usable oracle price (ETH ${oracle.priceE8}, USDC ${oracle.quotePriceE8})`);
  }
  if (!Number.isInteger(maxSlippageBps) || maxSlippageBps < 0 || maxSlippageBps >= 10_000) {
    throw new RangeError(`maxSlippageBps ${maxSlippageBps} is not an integer in [0, 10000)`);
  }
}

/**
 * Least USDC accepted for selling `amountInWei` WETH: its oracle value in USDC (ETH/USD over
 * USDC/USD, so a USDC depeg does not loosen the bound) less `maxSlippageBps`, rounded UP so the
 * bound is never looser than configured.
 */
export function minAmountOutUnits(
  amountInWei: bigint,
  oracle: Pick<OracleReading, 'priceE8' | 'quotePriceE8'>,
  maxSlippageBps: number,
): bigint {
  checkInputs(amountInWei, oracle, maxSlippageBps);
  const num = amountInWei * oracle.priceE8 * (BPS - BigInt(maxSlippageBps)) * E8;
  return ceilDiv(num, WEI_E8_PER_UNIT * BPS * oracle.quotePriceE8);
}

/**
 * Most USDC paid for buying exactly `amountOutWei` WETH: its oracle value in USDC plus
 * `maxSlippageBps`, rounded DOWN so the bound is never looser than configured.
 */
export function maxAmountInUnits(
  amountOutWei: bigint,
  oracle: Pick<OracleReading, 'priceE8' | 'quotePriceE8'>,
  maxSlippageBps: number,
): bigint {
  checkInputs(amountOutWei, oracle, maxSlippageBps);
  const num = amountOutWei * oracle.priceE8 * (BPS + BigInt(maxSlippageBps)) * E8;
  return num / (WEI_E8_PER_UNIT * BPS * oracle.quotePriceE8);
}

/** How far a fill is from the oracle value, bps (positive = worse for the keeper), for messages. */
export function slippageBps(fillUnits: bigint, oracleUnits: bigint, side: 'sell' | 'buy'): bigint {
  if (oracleUnits <= 0n) return 0n;
  const diff = side === 'sell' ? oracleUnits - fillUnits : fillUnits - oracleUnits;
  return (diff * BPS) / oracleUnits;
}

/** Refusal reason when QuoterV2's exact-input quote already breaks the minimum; null when it holds. */
export function checkSellQuote(quotedOutUnits: bigint, minOutUnits: bigint, maxSlippageBps: number): string | null {
  if (quotedOutUnits >= minOutUnits) return null;
  const oracleUnits = (minOutUnits * BPS) / (BPS - BigInt(maxSlippageBps));
  return (
    `quote ${fmtUsdc(quotedOutUnits)} is below the minimum ${fmtUsdc(minOutUnits)} ` +
    `(oracle value less ${maxSlippageBps} bps; the quote is ${slippageBps(quotedOutUnits, oracleUnits, 'sell')} bps off): not sent`
  );
}

/** Refusal reason when QuoterV2's exact-output quote already exceeds the maximum; null when it holds. */
export function checkBuyQuote(quotedInUnits: bigint, maxInUnits: bigint, maxSlippageBps: number): string | null {
  if (quotedInUnits <= maxInUnits) return null;
  const oracleUnits = (maxInUnits * BPS) / (BPS + BigInt(maxSlippageBps));
  return (
    `quote ${fmtUsdc(quotedInUnits)} exceeds the maximum ${fmtUsdc(maxInUnits)} ` +
    `(oracle value plus ${maxSlippageBps} bps; the quote is ${slippageBps(quotedInUnits, oracleUnits, 'buy')} bps off): not sent`
  );
}

export const SELL_WETH_LABEL = 'uniswap.exactInputSingle WETH->USDC';
export const BUY_WETH_LABEL = 'uniswap.exactOutputSingle USDC->WETH';

export interface SwapVenue {
  swapRouter: Address;
  quoter: Address;
  weth: Address;
  usdc: Address;
  /** Fee tier of the configured pool (read from it once). */
  fee: number;
}

type Client = PublicClient<Transport, Chain>;

/** QuoterV2 (it reverts internally and returns normally, so an eth_call gives the amount). */
export async function quoteSellWethUnits(client: Client, s: SwapVenue, amountInWei: bigint, blockNumber: bigint): Promise<bigint> {
  const { result } = await client.simulateContract({
    address: s.quoter,
    abi: quoterV2Abi,
    functionName: 'quoteExactInputSingle',
    args: [{ tokenIn: s.weth, tokenOut: s.usdc, amountIn: amountInWei, fee: s.fee, sqrtPriceLimitX96: 0n }],
    blockNumber,
  });
  return result[0];
}

export async function quoteBuyWethUnits(client: Client, s: SwapVenue, amountOutWei: bigint, blockNumber: bigint): Promise<bigint> {
  const { result } = await client.simulateContract({
    address: s.quoter,
    abi: quoterV2Abi,
    functionName: 'quoteExactOutputSingle',
    args: [{ tokenIn: s.usdc, tokenOut: s.weth, amount: amountOutWei, fee: s.fee, sqrtPriceLimitX96: 0n }],
    blockNumber,
  });
  return result[0];
}

/** The QuoterV2 quote the bound was checked against goes with the transaction, for the guard. */
export function sellWethTx(
  s: SwapVenue,
  p: { recipient: Address; deadlineSec: bigint; amountInWei: bigint; minOutUnits: bigint; quotedOutUnits: bigint },
): TxRequest {
  const params = {
    tokenIn: s.weth,
    tokenOut: s.usdc,
    fee: s.fee,
    recipient: p.recipient,
    deadline: p.deadlineSec,
    amountIn: p.amountInWei,
    amountOutMinimum: p.minOutUnits,
    sqrtPriceLimitX96: 0n,
  };
  const bound = { kind: 'quote', quotedAmount: p.quotedOutUnits, limitAmount: p.minOutUnits } as const;
  return { label: SELL_WETH_LABEL, address: s.swapRouter, abi: swapRouterAbi, functionName: 'exactInputSingle', args: [params], bound };
}

export function buyWethTx(
  s: SwapVenue,
  p: { recipient: Address; deadlineSec: bigint; amountOutWei: bigint; maxInUnits: bigint; quotedInUnits: bigint },
): TxRequest {
  const params = {
    tokenIn: s.usdc,
    tokenOut: s.weth,
    fee: s.fee,
    recipient: p.recipient,
    deadline: p.deadlineSec,
    amountOut: p.amountOutWei,
    amountInMaximum: p.maxInUnits,
    sqrtPriceLimitX96: 0n,
  };
  const bound = { kind: 'quote', quotedAmount: p.quotedInUnits, limitAmount: p.maxInUnits } as const;
  return { label: BUY_WETH_LABEL, address: s.swapRouter, abi: swapRouterAbi, functionName: 'exactOutputSingle', args: [params], bound };
}
