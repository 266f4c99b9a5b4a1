import { erc20Abi } from 'viem';
import type { CallAllowList } from '../core/guard.js';
import type { HyperliquidVenueSpec, Portfolio } from '../portfolio/model.js';
import type { PortfolioBuildContext, PortfolioVenue } from './portfolio-venues.js';
import type { BuiltTxs, TxRequest } from './types.js';

/**
 * Hyperliquid in the on-chain executor's terms. Its hedges are signed API orders placed by the
 * venue's desk (hyperliquid-desk.ts), never transactions, so an adjustHedge built here is refused.
 * Its top-up is a deposit: a quote (USDC) `transfer` to the venue's bridge, which the venue
 * credits to the sender, sent and journaled by the executor like any transaction. The guard lets
 * that `transfer` pay only a configured bridge (the `bridge` bound), and only when the keeper's
 * account is the venue account (a deposit credits its sender). Withdrawals are signed user
 * actions on the venue (the main key, minutes to settle): refused here.
 */

const refused = (spec: HyperliquidVenueSpec, what: string, why: string): BuiltTxs => ({
  status: 'refused',
  label: `${spec.id}.${what}`,
  reason: `venue ${spec.id} (hyperliquid): ${why}`,
});

export function createHyperliquidPortfolioVenue(spec: HyperliquidVenueSpec, deps: { portfolio: Portfolio }): PortfolioVenue<HyperliquidVenueSpec> {
  const quote = deps.portfolio.quote;

  async function buildDeposit(amountUnits: bigint, bucket: string | null, ctx: PortfolioBuildContext): Promise<BuiltTxs> {
    if (!spec.bridge) return refused(spec, 'deposit', 'no `bridge` configured: deposits are not possible from this chain');
    if (bucket !== null) return refused(spec, 'deposit', `one cross-margin account (bucket null), not ${bucket}`);
    if (ctx.account.toLowerCase() !== spec.user.toLowerCase()) {
      return refused(spec, 'deposit', `the bridge credits the sender, and the keeper's account ${ctx.account} is not the venue account ${spec.user}`);
    }
    if (amountUnits <= 0n) return refused(spec, 'deposit', `deposit of ${amountUnits} is not positive`);
    const tx: TxRequest = {
      label: `${spec.id}.deposit`,
      address: quote.token,
      abi: erc20Abi,
      functionName: 'transfer',
      args: [spec.bridge, amountUnits],
      bound: { kind: 'bridge', recipient: spec.bridge },
    };
    return { status: 'ready', txs: [tx] };
  }

  return {
    spec,
    async buildTxs(action, ctx) {
      if (action.kind === 'topUp') return buildDeposit(action.amountUnits, action.asset, ctx);
      return refused(spec, action.kind, `${action.kind} is not an on-chain transaction here (orders are signed API actions placed by the venue's desk)`);
    },
    buildDeposit,
    buildWithdraw: async () => refused(spec, 'withdraw', 'a withdrawal is a signed user action on the venue, not sent by the keeper'),
    allowList: (): CallAllowList => (spec.bridge ? [{ target: quote.token, functions: ['transfer'] }] : []),
  };
}
