import { ExchangeClient, HttpRequestError, HttpTransport } from '@nktkas/hyperliquid';
import { ApiRequestError } from '@nktkas/hyperliquid/api/exchange';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { AssetSpec, HyperliquidMarketAccount } from '../portfolio/model.js';
import { decimalToScaled, lotsToUnits, meetsMinNotional, roundPriceToTick, scaledToDecimal, unitsToLots } from './hyperliquid-rules.js';

/**
 * Hedge orders on Hyperliquid: an IOC limit at the oracle price ± maxSlippageBps, rounded onto the
 * venue's tick toward the worse side for us (a buy up, a sell down, so rounding never tightens the
 * slippage we allowed), the size truncated to the coin's lots, reduce-only when it only shrinks a
 * short, never sent under the venue's $10 minimum. Orders are signed API actions, not
 * transactions: an agent key signs for the user when one is configured, so the main key never
 * signs orders.
 */

const BPS = 10_000n;

export interface HyperliquidOrder {
  readonly asset: string;
  readonly coin: string;
  readonly assetIndex: number;
  readonly isBuy: boolean;
  readonly limitPriceE8: bigint;
  readonly lots: bigint;
  readonly szDecimals: number;
  readonly reduceOnly: boolean;
  /** The wire strings the venue receives. */
  readonly p: string;
  readonly s: string;
}

export type BuiltOrder = { readonly kind: 'order'; readonly order: HyperliquidOrder } | { readonly kind: 'skip'; readonly reason: string };

export function buildHedgeOrder(args: {
  asset: AssetSpec;
  market: HyperliquidMarketAccount;
  /** Signed hedge change, asset units: negative shorts more (sell). */
  sizeDeltaUnits: bigint;
  oraclePriceE8: bigint;
  maxSlippageBps: number;
}): BuiltOrder {
  const { asset, market, sizeDeltaUnits, oraclePriceE8 } = args;
  if (oraclePriceE8 <= 0n) return { kind: 'skip', reason: `no usable ${asset.id} price` };
  if (!Number.isInteger(args.maxSlippageBps) || args.maxSlippageBps < 0 || args.maxSlippageBps >= 10_000) {
    throw new RangeError(`maxSlippageBps ${args.maxSlippageBps} outside 0..9999`);
  }
  const isBuy = sizeDeltaUnits > 0n;
  const abs = isBuy ? sizeDeltaUnits : -sizeDeltaUnits;
  const lots = unitsToLots(abs, asset.decimals, market.szDecimals);
  if (lots === 0n) return { kind: 'skip', reason: `size ${abs} units is under one lot of ${market.coin} (szDecimals ${market.szDecimals})` };
  const bps = BigInt(args.maxSlippageBps);
  // E12 keeps the slippage exact before the tick decides the digits.
  const rawE12 = isBuy ? ceilDiv(oraclePriceE8 * (BPS + bps) * 10_000n, BPS) : (oraclePriceE8 * (BPS - bps) * 10_000n) / BPS;
  const limitE12 = roundPriceToTick(rawE12, 12, market.szDecimals, isBuy ? 'up' : 'down');
  const limitPriceE8 = isBuy ? ceilDiv(limitE12, 10_000n) : limitE12 / 10_000n;
  if (!meetsMinNotional(lots, limitPriceE8, market.szDecimals)) {
    return { kind: 'skip', reason: `order of ${scaledToDecimal(lots, market.szDecimals)} ${market.coin} is worth under $10 at ${scaledToDecimal(limitPriceE8, 8)}` };
  }
  const reduceOnly = isBuy && market.sizeUnits < 0n && abs <= -market.sizeUnits;
  return {
    kind: 'order',
    order: {
      asset: asset.id,
      coin: market.coin,
      assetIndex: market.assetIndex,
      isBuy,
      limitPriceE8,
      lots,
      szDecimals: market.szDecimals,
      reduceOnly,
      p: scaledToDecimal(limitE12, 12),
      s: scaledToDecimal(lots, market.szDecimals),
    },
  };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/**
 * What an order did. `filledUnits` is signed (a sell is negative) and is what the keeper books; the
 * rest of a partial fill is simply not there, and the next tick replans it. `unknown` means the
 * request may or may not have reached the venue (timeout, 5xx): the next read of the position
 * settles it, and the keeper must not resend on a guess.
 */
export type OrderOutcome =
  | { readonly status: 'filled' | 'partial'; readonly filledUnits: bigint; readonly avgPriceE8: bigint; readonly oid: number }
  | { readonly status: 'rejected'; readonly reason: string; readonly rateLimited: boolean }
  | { readonly status: 'unknown'; readonly reason: string };

export interface HyperliquidTrader {
  /** Address whose key signs (the agent, or the user itself). */
  readonly signer: Hex;
  /** `cloid` (0x + 32 hex): the client order id the venue keeps, so the order's fate can be asked later. */
  place(order: HyperliquidOrder, asset: AssetSpec, cloid?: Hex): Promise<OrderOutcome>;
}

export function createHyperliquidTrader(opts: { apiUrl: string; isTestnet?: boolean; signingKey: Hex; timeoutMs?: number }): HyperliquidTrader {
  const wallet = privateKeyToAccount(opts.signingKey);
  const transport = new HttpTransport({ apiUrl: opts.apiUrl, isTestnet: opts.isTestnet ?? false, ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}) });
  const client = new ExchangeClient({ transport, wallet });
  return {
    signer: wallet.address,
    async place(order, asset, cloid) {
      let res;
      try {
        res = await client.order({
          orders: [{ a: order.assetIndex, b: order.isBuy, p: order.p, s: order.s, r: order.reduceOnly, t: { limit: { tif: 'Ioc' } }, ...(cloid ? { c: cloid } : {}) }],
          grouping: 'na',
        });
      } catch (e) {
        return outcomeOfError(e, wallet.address);
      }
      const st = res.response.data.statuses[0];
      if (typeof st !== 'object' || !('filled' in st)) return { status: 'rejected', reason: `unexpected order status ${JSON.stringify(st)}`, rateLimited: false };
      const lots = decimalToScaled(st.filled.totalSz, order.szDecimals);
      const units = lotsToUnits(lots, asset.decimals, order.szDecimals);
      return {
        status: lots < order.lots ? 'partial' : 'filled',
        filledUnits: order.isBuy ? units : -units,
        avgPriceE8: decimalToScaled(st.filled.avgPx, 8),
        oid: st.filled.oid,
      };
    },
  };
}

function outcomeOfError(e: unknown, signer: Hex): OrderOutcome {
  if (e instanceof ApiRequestError) {
    const msg = e.message;
    if (/does not exist/.test(msg)) {
      return {
        status: 'rejected',
        reason: `hyperliquid refused the signature of ${signer}: neither the account nor an approved agent of it (venue said: ${msg})`,
        rateLimited: false,
      };
    }
    return { status: 'rejected', reason: `hyperliquid refused the order: ${msg}`, rateLimited: false };
  }
  if (e instanceof HttpRequestError && e.response?.status === 429) {
    return { status: 'rejected', reason: 'hyperliquid rate-limited the order (429): not placed, retry after back-off', rateLimited: true };
  }
  return { status: 'unknown', reason: `hyperliquid order fate unknown: ${e instanceof Error ? e.message : String(e)}` };
}
