/**
 * Quote released from a lending venue's collateral to pay a buy-back (aave-portfolio.ts), inside an
 * adjustHedge: a flow between the venue and the wallet, not P&L. Its transaction's label carries
 * the amount, so the attribution (runner/portfolio-pnl.ts) counts it as the flow it is.
 */

export function releaseLabel(venue: string, units: bigint, quoteId: string): string {
  return `${venue}.release ${units} ${quoteId} for the buy-back`;
}

/** The venue and quote units of a release label; null for any other label. */
export function parseReleaseLabel(label: string): { venue: string; units: bigint } | null {
  const m = /^(\S+)\.release (\d+) \S+ for the buy-back$/.exec(label);
  return m ? { venue: m[1]!, units: BigInt(m[2]!) } : null;
}
