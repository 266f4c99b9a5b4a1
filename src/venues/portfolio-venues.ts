import type { Chain, PublicClient, Transport } from 'viem';
import type { Address } from '../core/types.js';
import type { CallAllowList } from '../core/guard.js';
import type { TokenPriceE8, TxBoundsContext } from '../core/guard-tx.js';
import {
  assertNever,
  type AssetId,
  type Portfolio,
  type PortfolioAction,
  type PortfolioSnapshot,
  type VenueId,
  type VenueSpec,
} from '../portfolio/model.js';
import { createAavePortfolioVenue } from './aave-portfolio.js';
import { createHyperliquidPortfolioVenue } from './hyperliquid-portfolio.js';
import { createMorphoPortfolioVenue } from './morpho-portfolio.js';
import { createPerpPortfolioVenue } from './perp-portfolio.js';
import type { BuiltTxs } from './types.js';

/**
 * The portfolio's venues behind one interface: each builds the transactions of the actions that
 * name it, and a `moveCollateral` between two venues is composed from the withdrawal of one and
 * the deposit of the other (buildPortfolioAction). Every amount is fixed at build time, from the
 * snapshot's prices and reads pinned to its block.
 */

type Client = PublicClient<Transport, Chain>;

/** What a venue needs to build the transactions of a portfolio action. */
export interface PortfolioBuildContext {
  account: Address;
  publicClient: Client;
  /** The snapshot the action was planned on: per-asset oracle prices, the quote's price. */
  snapshot: PortfolioSnapshot;
  portfolio: Portfolio;
  maxSlippageBps: number;
  /** Pin every read that builds the transactions (allowances, debt, quotes) to the planning block. */
  blockNumber: bigint;
}

export interface PortfolioVenue<S extends VenueSpec = VenueSpec> {
  readonly spec: S;
  /** adjustHedge and topUp naming this venue (a moveCollateral spans two buckets: buildPortfolioAction composes it). */
  buildTxs(action: PortfolioAction, ctx: PortfolioBuildContext): Promise<BuiltTxs>;
  /** Quote units from the wallet into `bucket` (a perp market's asset; null for a whole-account venue), approval included when short. */
  buildDeposit(amountUnits: bigint, bucket: AssetId | null, ctx: PortfolioBuildContext): Promise<BuiltTxs>;
  /** Quote units out of `bucket` into the wallet. */
  buildWithdraw(amountUnits: bigint, bucket: AssetId | null, ctx: PortfolioBuildContext): Promise<BuiltTxs>;
  /** The contracts and functions this venue may call (deny by default). */
  allowList(): CallAllowList;
}

export interface PortfolioVenueDeps {
  portfolio: Portfolio;
  /** Resolves what a venue reads once at start (Aave's pool and reserve tokens). */
  publicClient: Client;
}

export async function createPortfolioVenue(spec: VenueSpec, deps: PortfolioVenueDeps): Promise<PortfolioVenue> {
  switch (spec.kind) {
    case 'perp':
      return createPerpPortfolioVenue(spec, deps);
    case 'aave':
      return createAavePortfolioVenue(spec, deps);
    case 'morpho':
      return createMorphoPortfolioVenue(spec, deps);
    case 'hyperliquid':
      return createHyperliquidPortfolioVenue(spec, deps);
    default:
      return assertNever(spec, 'venue kind');
  }
}

/** Every venue of the portfolio, by id. */
export async function createPortfolioVenues(deps: PortfolioVenueDeps): Promise<Readonly<Record<VenueId, PortfolioVenue>>> {
  const venues = await Promise.all(deps.portfolio.venues.map((spec) => createPortfolioVenue(spec, deps)));
  return Object.fromEntries(venues.map((v) => [v.spec.id, v]));
}

/** The union of the venues' allow-lists: what the executor may call for this portfolio. */
export function portfolioAllowList(venues: Readonly<Record<VenueId, PortfolioVenue>>): CallAllowList {
  return Object.values(venues).flatMap((v) => v.allowList());
}

/** Withdraw from one bucket and deposit into another (two venues, or two markets of one). */
export async function buildMoveCollateral(
  action: Extract<PortfolioAction, { kind: 'moveCollateral' }>,
  from: PortfolioVenue,
  to: PortfolioVenue,
  ctx: PortfolioBuildContext,
): Promise<BuiltTxs> {
  if (action.amountUnits <= 0n) return { status: 'refused', label: 'moveCollateral', reason: `amount ${action.amountUnits} is not positive` };
  if (from.spec.id === to.spec.id && action.fromAsset === action.toAsset) {
    return { status: 'refused', label: 'moveCollateral', reason: `from and to are the same bucket (${from.spec.id} ${String(action.fromAsset)})` };
  }
  const withdrawn = await from.buildWithdraw(action.amountUnits, action.fromAsset, ctx);
  if (withdrawn.status !== 'ready') return withdrawn;
  // The deposit's approval is read at the planning block: the withdrawal does not change it.
  const deposited = await to.buildDeposit(action.amountUnits, action.toAsset, ctx);
  if (deposited.status !== 'ready') return deposited;
  return { status: 'ready', txs: [...withdrawn.txs, ...deposited.txs] };
}

/** The transactions of any portfolio action, routed to the venue(s) it names. */
export async function buildPortfolioAction(
  action: PortfolioAction,
  venues: Readonly<Record<VenueId, PortfolioVenue>>,
  ctx: PortfolioBuildContext,
): Promise<BuiltTxs> {
  const venue = (id: VenueId): PortfolioVenue | undefined => (Object.prototype.hasOwnProperty.call(venues, id) ? venues[id] : undefined);
  switch (action.kind) {
    case 'adjustHedge':
    case 'topUp': {
      const v = venue(action.venue);
      if (!v) return { status: 'refused', label: `${action.kind} ${action.venue}`, reason: `no venue ${action.venue} in the portfolio` };
      return v.buildTxs(action, ctx);
    }
    case 'moveCollateral': {
      const from = venue(action.from);
      const to = venue(action.to);
      if (!from || !to) return { status: 'refused', label: 'moveCollateral', reason: `no venue ${!from ? action.from : action.to} in the portfolio` };
      return buildMoveCollateral(action, from, to, ctx);
    }
    default:
      return assertNever(action, 'portfolio action');
  }
}

/**
 * The transaction guard's multi-asset context for a snapshot: every asset token and the quote
 * at the snapshot's oracle prices (an asset without a usable price stays in with price 0, so
 * anything that needs it is refused). The single-asset fields are unused in this mode: `priceE8`
 * is 0 so that, should `tokens` ever be dropped, everything is refused.
 */
export function portfolioTxBoundsContext(portfolio: Portfolio, snapshot: PortfolioSnapshot, maxSlippageBps: number): TxBoundsContext {
  const tokens: Record<string, TokenPriceE8> = {
    [portfolio.quote.token.toLowerCase()]: { priceE8: snapshot.quotePriceE8, decimals: portfolio.quote.decimals },
  };
  for (const a of portfolio.assets) {
    tokens[a.token.toLowerCase()] = { priceE8: snapshot.prices[a.id]?.priceE8 ?? 0n, decimals: a.decimals };
  }
  const native = portfolio.assets.find((a) => a.wrapsNative);
  const bridges = portfolio.venues.flatMap((v) => (v.kind === 'hyperliquid' && v.bridge ? [v.bridge.toLowerCase()] : []));
  return {
    bridges,
    priceE8: 0n,
    quotePriceE8: snapshot.quotePriceE8,
    maxSlippageBps,
    weth: native?.token ?? '0x0000000000000000000000000000000000000000',
    usdc: portfolio.quote.token,
    tokens,
  };
}
