import type { CallAllowList } from '../core/guard.js';
import type { HyperliquidVenueSpec } from '../portfolio/model.js';
import type { PortfolioVenue } from './portfolio-venues.js';
import type { BuiltTxs } from './types.js';

/**
 * Hyperliquid in the on-chain executor's terms: nothing. Its hedges are signed API orders
 * (src/venues/hyperliquid-orders.ts), not transactions, and its top-up is a USDC deposit through
 * the venue's bridge on its own chain, which this chain's executor cannot send. So every build
 * is a refusal that says where the action belongs, and the allow-list is empty: the executor can
 * never be talked into calling anything on this venue's behalf.
 */

const refused = (spec: HyperliquidVenueSpec, what: string): BuiltTxs => ({
  status: 'refused',
  label: `hyperliquid.${what}`,
  reason: `venue ${spec.id} (hyperliquid): ${what} is not an on-chain transaction here (orders are signed API actions; deposits cross the venue's bridge)`,
});

export function createHyperliquidPortfolioVenue(spec: HyperliquidVenueSpec): PortfolioVenue<HyperliquidVenueSpec> {
  return {
    spec,
    buildTxs: async (action) => refused(spec, action.kind),
    buildDeposit: async () => refused(spec, 'deposit'),
    buildWithdraw: async () => refused(spec, 'withdraw'),
    allowList: (): CallAllowList => [],
  };
}
