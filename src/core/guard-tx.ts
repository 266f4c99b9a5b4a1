import type { GuardVerdict } from './types.js';

/**
 * Deny-by-default price bounds on the transactions themselves, checked before signing, from
 * the oracle alone: whatever a venue adapter computed, a trade or swap whose worst accepted price
 * is further from the oracle than MAX_SLIPPAGE_BPS (or unbounded) is refused.
 *
 * Every transaction declares what bounds it (`TxBound`), and the guard knows which declaration
 * each function needs: a function it does not know, a missing or unknown declaration, or one that
 * does not fit the function (an approve passed off as a trade, a trade declaring no bound) is
 * refused, as is a declaration that differs from the calldata it describes.
 *
 * Two contexts: the single-asset one (one ETH price, the WETH/USDC pair) and, with `tokens`, the
 * portfolio's multi-asset one (any two priced tokens, a trade checked at its own asset's price).
 */

/** What bounds a transaction, declared by the venue that builds it (TxRequest.bound). */
export type TxBound =
  /**
   * A trade filled at the venue's price: the worst price accepted, in the calldata. `asset` is
   * the token of the traded market's asset: it picks the price the bound is checked against in a
   * multi-asset context (where a trade that names none is refused); without it the single-asset
   * context's ETH price applies.
   */
  | { kind: 'oracle-price'; acceptablePriceE8: bigint; asset?: string }
  /**
   * A swap: the quote it was built from and the limit sent with it, in the token the limit is in
   * (exact input: the output quoted and amountOutMinimum; exact output: the input quoted and
   * amountInMaximum).
   */
  | { kind: 'quote'; quotedAmount: bigint; limitAmount: bigint }
  /**
   * No price in it: an allowance, collateral moved in or out, debt taken or repaid (the borrowed
   * asset is sold by a quote-bounded swap, and the venue's own checks stop an unsafe borrow).
   */
  | { kind: 'none'; why: 'approve' | 'collateral' | 'debt' }
  /**
   * A token `transfer` that is a deposit into an off-chain venue through its bridge (Hyperliquid's
   * USDC bridge credits the sender): the recipient must be a bridge the portfolio configured
   * (`TxBoundsContext.bridges`), so an allow-listed `transfer` can never pay anyone else.
   */
  | { kind: 'bridge'; recipient: string };

type BoundSpec = 'oracle-price' | 'quote' | 'none:approve' | 'none:collateral' | 'none:debt' | 'bridge';

/** The functions the guard knows and the declaration each must carry. Anything else is refused. */
const KNOWN_FUNCTIONS: ReadonlyMap<string, BoundSpec> = new Map<string, BoundSpec>([
  ['trade', 'oracle-price'],
  ['exactInputSingle', 'quote'],
  ['exactOutputSingle', 'quote'],
  ['approve', 'none:approve'],
  ['deposit', 'none:collateral'],
  ['supply', 'none:collateral'],
  ['borrow', 'none:debt'],
  ['repay', 'none:debt'],
]);

/**
 * Known only to a multi-asset context (`tokens` given): the portfolio venues move collateral out
 * of a venue; the single-asset venues never withdraw, so their context keeps refusing it. Morpho
 * Blue (a portfolio venue only) moves its collateral with its own two functions; its `borrow` and
 * `repay` are the known debt functions.
 */
const PORTFOLIO_FUNCTIONS: ReadonlyMap<string, BoundSpec> = new Map<string, BoundSpec>([
  ['withdraw', 'none:collateral'],
  ['supplyCollateral', 'none:collateral'],
  ['withdrawCollateral', 'none:collateral'],
  ['transfer', 'bridge'],
]);

function neededBound(fn: string, ctx: TxBoundsContext | undefined): BoundSpec | undefined {
  return KNOWN_FUNCTIONS.get(fn) ?? (ctx?.tokens ? PORTFOLIO_FUNCTIONS.get(fn) : undefined);
}

/** The functions checkTxBounds knows in `ctx` (the single-asset set without one), for messages and tests. */
export function knownTxFunctions(ctx?: TxBoundsContext): string[] {
  return [...KNOWN_FUNCTIONS.keys(), ...(ctx?.tokens ? PORTFOLIO_FUNCTIONS.keys() : [])];
}

/** A token's oracle price (USD per whole token, 8 decimals) and its decimals. */
export interface TokenPriceE8 {
  priceE8: bigint;
  decimals: number;
}

export interface TxBoundsContext {
  /** ETH/USD and USDC/USD from the feeds, 8 decimals. */
  priceE8: bigint;
  quotePriceE8: bigint;
  maxSlippageBps: number;
  weth: string;
  usdc: string;
  /**
   * Multi-asset context: every token the keeper prices, by lowercase address, the quote included.
   * With it, swaps are checked between any two of these tokens (a swap touching another token is
   * refused), a trade is checked against the price of the asset its bound names, `withdraw` is
   * known, and `priceE8`/`weth` are not used (a price of 0 makes only that token unusable).
   */
  tokens?: Readonly<Record<string, TokenPriceE8>>;
  /** Multi-asset context: the venue bridges a `transfer` may pay (lowercase); none = every transfer refused. */
  bridges?: readonly string[];
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

function checkTrade(args: readonly unknown[], bound: { acceptablePriceE8: bigint; asset?: string }, ctx: TxBoundsContext, slip: bigint): GuardVerdict {
  const [, sizeDeltaWei, acceptablePriceE8] = args as [bigint, bigint, bigint];
  if (acceptablePriceE8 !== bound.acceptablePriceE8) {
    return refuse(`trade calldata accepts price ${String(acceptablePriceE8)}, its declared bound is ${bound.acceptablePriceE8}`);
  }
  const oracle = tradePriceE8(bound, ctx);
  if ('refused' in oracle) return refuse(oracle.refused);
  const { priceE8 } = oracle;
  if (sizeDeltaWei < 0n && acceptablePriceE8 < worse(priceE8, slip)) {
    return refuse(`sell with acceptable price ${acceptablePriceE8} below the oracle ${priceE8} minus ${slip} bps`);
  }
  if (sizeDeltaWei > 0n && acceptablePriceE8 > better(priceE8, slip)) {
    return refuse(`buy with acceptable price ${acceptablePriceE8} above the oracle ${priceE8} plus ${slip} bps`);
  }
  return { ok: true };
}

/** The swap's limit is the one declared, and the quote it was built from already meets it. */
function checkQuote(fn: string, p: SwapParams, bound: { quotedAmount: bigint; limitAmount: bigint }): GuardVerdict {
  const exactIn = fn === 'exactInputSingle';
  const limit = exactIn ? p.amountOutMinimum : p.amountInMaximum;
  const name = exactIn ? 'amountOutMinimum' : 'amountInMaximum';
  if (limit !== bound.limitAmount) return refuse(`${fn} calldata ${name} ${String(limit)} differs from its declared limit ${bound.limitAmount}`);
  if (exactIn ? bound.quotedAmount < bound.limitAmount : bound.quotedAmount > bound.limitAmount) {
    return refuse(`${fn} quote ${bound.quotedAmount} does not meet its own ${name} ${bound.limitAmount}`);
  }
  return { ok: true };
}

function checkSwap(fn: string, p: SwapParams, bound: { quotedAmount: bigint; limitAmount: bigint }, ctx: TxBoundsContext, slip: bigint): GuardVerdict {
  if (typeof p !== 'object' || p === null) return refuse(`${fn} without its parameters struct`);
  const quoted = checkQuote(fn, p, bound);
  if (!quoted.ok) return quoted;
  if (ctx.tokens) return checkSwapTokens(fn, p, ctx, slip);
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

/** A token of the multi-asset context with a usable price, or null. */
function pricedToken(ctx: TxBoundsContext, token: unknown): TokenPriceE8 | null {
  if (typeof token !== 'string' || !ctx.tokens) return null;
  const key = token.toLowerCase();
  if (!Object.prototype.hasOwnProperty.call(ctx.tokens, key)) return null;
  const t = ctx.tokens[key];
  return t && t.priceE8 > 0n && Number.isInteger(t.decimals) && t.decimals >= 0 ? t : null;
}

/** Oracle value of `amount` of `from` in units of `to` (floor, one division). */
function fairIn(amount: bigint, from: TokenPriceE8, to: TokenPriceE8): bigint {
  return (amount * from.priceE8 * 10n ** BigInt(to.decimals)) / (to.priceE8 * 10n ** BigInt(from.decimals));
}

/** A trade whose bound names its asset: checked against that asset's price (multi-asset, or WETH in the single-asset context). */
function tradePriceE8(bound: { asset?: string }, ctx: TxBoundsContext): { priceE8: bigint } | { refused: string } {
  if (ctx.tokens) {
    if (bound.asset === undefined) return { refused: 'trade bound names no asset: a multi-asset context cannot tell which price bounds it' };
    const t = pricedToken(ctx, bound.asset);
    return t ? { priceE8: t.priceE8 } : { refused: `trade of asset ${String(bound.asset)}, a token without a usable oracle price` };
  }
  if (bound.asset !== undefined && !(typeof bound.asset === 'string' && eq(bound.asset, ctx.weth))) {
    return { refused: `trade of asset ${String(bound.asset)}: the single-asset context prices only WETH` };
  }
  return { priceE8: ctx.priceE8 };
}

function checkSwapTokens(fn: string, p: SwapParams, ctx: TxBoundsContext, slip: bigint): GuardVerdict {
  const tin = pricedToken(ctx, p.tokenIn);
  const tout = pricedToken(ctx, p.tokenOut);
  if (!tin || !tout || eq(p.tokenIn, p.tokenOut)) {
    return refuse(`${fn} of ${String(p.tokenIn)} -> ${String(p.tokenOut)} is not a swap between two priced tokens of the portfolio`);
  }
  if (fn === 'exactInputSingle') {
    const fair = fairIn(p.amountIn ?? 0n, tin, tout);
    const min = p.amountOutMinimum ?? 0n;
    if (min + 1n < worse(fair, slip)) return refuse(`${fn} minimum out ${min} is below the oracle value ${fair} minus ${slip} bps`);
    return { ok: true };
  }
  const fair = fairIn(p.amountOut ?? 0n, tout, tin);
  const max = p.amountInMaximum ?? 0n;
  if (max > better(fair, slip) + 1n) return refuse(`${fn} maximum in ${max} is above the oracle value ${fair} plus ${slip} bps`);
  return { ok: true };
}

function declared(bound: unknown): BoundSpec | null {
  if (typeof bound !== 'object' || bound === null) return null;
  const b = bound as { kind?: unknown; why?: unknown };
  if (b.kind === 'oracle-price' || b.kind === 'quote') return b.kind;
  if (b.kind === 'bridge') return typeof (b as { recipient?: unknown }).recipient === 'string' ? 'bridge' : null;
  if (b.kind === 'none' && (b.why === 'approve' || b.why === 'collateral' || b.why === 'debt')) return `none:${b.why}`;
  return null;
}

const describeBound = (spec: BoundSpec) => (spec.startsWith('none:') ? `none (${spec.slice(5)})` : spec);

export function checkTxBounds(tx: { functionName: string; args: readonly unknown[]; bound?: TxBound }, ctx: TxBoundsContext): GuardVerdict {
  const fn = tx.functionName;
  const needed = neededBound(fn, ctx);
  if (!needed) return refuse(`${fn} is not a function the transaction guard knows (deny by default; it knows ${knownTxFunctions(ctx).join(', ')})`);
  const spec = declared(tx.bound);
  if (!spec) {
    const shown = JSON.stringify(tx.bound, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'missing';
    return refuse(`${fn} declares no bound the transaction guard knows (bound ${shown})`);
  }
  if (spec !== needed) return refuse(`${fn} declares a ${describeBound(spec)} bound; the guard requires ${describeBound(needed)} for it`);
  // Nothing is sent on a price the keeper does not believe, not even an approval. A multi-asset
  // context needs the quote's price here; a trade or swap also needs its own tokens' prices.
  if ((!ctx.tokens && ctx.priceE8 <= 0n) || ctx.quotePriceE8 <= 0n) return refuse('no usable oracle price to bound the transaction');
  const slip = BigInt(ctx.maxSlippageBps);
  const bound = tx.bound as TxBound;
  switch (bound.kind) {
    case 'oracle-price':
      return checkTrade(tx.args, bound, ctx, slip);
    case 'quote':
      return checkSwap(fn, tx.args[0] as SwapParams, bound, ctx, slip);
    case 'none':
      return { ok: true };
    case 'bridge': {
      const to = typeof tx.args[0] === 'string' ? tx.args[0].toLowerCase() : '';
      if (to !== bound.recipient.toLowerCase()) return refuse(`transfer to ${String(tx.args[0])} differs from its declared bridge ${bound.recipient}`);
      if (!(ctx.bridges ?? []).includes(to)) return refuse(`transfer to ${String(tx.args[0])}: not a venue bridge of this portfolio`);
      return { ok: true };
    }
    default: {
      const never: never = bound;
      return refuse(`unknown bound ${String(never)}`);
    }
  }
}
