import type { GuardVerdict } from './types.js';

/**
 * Deny-by-default price bounds on the transactions themselves, checked before signing, from
 * the oracle alone: whatever a venue adapter computed, a trade or swap whose worst accepted price
 * is further from the oracle than MAX_SLIPPAGE_BPS (or unbounded) is refused.
 */

export interface TxBoundsContext {
  /** ETH/USD and USDC/USD from the feeds, 8 decimals. */
  priceE8: bigint;
  quotePriceE8: bigint;
  maxSlippageBps: number;
  weth: string;
  usdc: string;
}

interface SwapParams {
  tokenIn: string;
  tokenOut: string;
  amountIn?: bigint;
  amountOut?: bigint;
  amountOutMinimum?: bigint;
  amountInMaximum?: bigint;
}

const BPS = 10_000n;
/** wei * (USDC per ETH, E8) / 1e20 = USDC units. */
const WEI_E8_PER_UNIT = 10n ** 20n;

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Fair USDC units for `wei` at the oracle's ETH price in USDC (ETH/USD over USDC/USD). */
function fairUnits(wei: bigint, ctx: TxBoundsContext): bigint {
  return (wei * ctx.priceE8) / ctx.quotePriceE8 / (WEI_E8_PER_UNIT / 10n ** 8n);
}

function fairWei(units: bigint, ctx: TxBoundsContext): bigint {
  return (units * ctx.quotePriceE8 * (WEI_E8_PER_UNIT / 10n ** 8n)) / ctx.priceE8;
}

const worse = (fair: bigint, slip: bigint) => (fair * (BPS - slip)) / BPS;
const better = (fair: bigint, slip: bigint) => (fair * (BPS + slip) + BPS - 1n) / BPS;

function refuse(reason: string): GuardVerdict {
  return { ok: false, reason };
}

function checkTrade(args: readonly unknown[], ctx: TxBoundsContext, slip: bigint): GuardVerdict {
  const [, sizeDeltaWei, acceptablePriceE8] = args as [bigint, bigint, bigint];
  if (sizeDeltaWei < 0n && acceptablePriceE8 < worse(ctx.priceE8, slip)) {
    return refuse(`sell with acceptable price ${acceptablePriceE8} below the oracle ${ctx.priceE8} minus ${slip} bps`);
  }
  if (sizeDeltaWei > 0n && acceptablePriceE8 > better(ctx.priceE8, slip)) {
    return refuse(`buy with acceptable price ${acceptablePriceE8} above the oracle ${ctx.priceE8} plus ${slip} bps`);
  }
  return { ok: true };
}

function checkSwap(fn: string, p: SwapParams, ctx: TxBoundsContext, slip: bigint): GuardVerdict {
  const pair = (eq(p.tokenIn, ctx.weth) && eq(p.tokenOut, ctx.usdc)) || (eq(p.tokenIn, ctx.usdc) && eq(p.tokenOut, ctx.weth));
  if (!pair) return refuse(`${fn} of ${p.tokenIn} -> ${p.tokenOut} is not the hedged WETH/USDC pair`);
  const sellsWeth = eq(p.tokenIn, ctx.weth);
  if (fn === 'exactInputSingle') {
    const fair = sellsWeth ? fairUnits(p.amountIn ?? 0n, ctx) : fairWei(p.amountIn ?? 0n, ctx);
    const min = p.amountOutMinimum ?? 0n;
    // Rounding of the two computations may differ by a unit.
    if (min + 1n < worse(fair, slip)) return refuse(`${fn} minimum out ${min} is below the oracle value ${fair} minus ${slip} bps`);
    return { ok: true };
  }
  const fair = sellsWeth ? fairWei(p.amountOut ?? 0n, ctx) : fairUnits(p.amountOut ?? 0n, ctx);
  const max = p.amountInMaximum ?? 0n;
  if (max > better(fair, slip) + 1n) return refuse(`${fn} maximum in ${max} is above the oracle value ${fair} plus ${slip} bps`);
  return { ok: true };
}

export function checkTxBounds(tx: { functionName: string; args: readonly unknown[] }, ctx: TxBoundsContext): GuardVerdict {
  const slip = BigInt(ctx.maxSlippageBps);
  if (ctx.priceE8 <= 0n || ctx.quotePriceE8 <= 0n) return refuse('no usable oracle price to bound the transaction');
  switch (tx.functionName) {
    case 'trade':
      return checkTrade(tx.args, ctx, slip);
    case 'exactInputSingle':
    case 'exactOutputSingle':
      return checkSwap(tx.functionName, tx.args[0] as SwapParams, ctx, slip);
    default:
      return { ok: true }; // no price in it (approve, deposit, supply, borrow, repay)
  }
}
