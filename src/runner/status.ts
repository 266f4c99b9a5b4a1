import type { OrderRow } from '../journal/orders.js';
import { fmtEth, fmtPriceE8, fmtRatioE18, fmtUsdc } from '../core/format.js';
import type { Assessment, Snapshot } from '../core/types.js';

function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/**
 * `keeper status` without RPC_URLS reads a new embedded devnet: say so, or a newcomer takes the
 * deployed demo for the state their `npm start` left.
 */
export const EMBEDDED_STATUS_NOTE =
  'RPC_URLS is empty: this is a fresh copy of the embedded devnet (the demo portfolio as deployed,\n' +
  'before any market move), not the chain of a past `npm start`: the demo\'s chain is discarded when\n' +
  'it exits. Set RPC_URLS (e.g. to `npm run devnet`) to read a chain that persists.';

/** `keeper history` found no journal file: why, for a live keeper and for the embedded demo. */
export function noJournalText(journalPath: string, embedded: boolean): string {
  if (!embedded) return `no journal at ${journalPath} yet (JOURNAL_PATH / DATA_DIR): the keeper has not acted`;
  return [
    `no journal at ${journalPath} (JOURNAL_PATH / DATA_DIR).`,
    'RPC_URLS is empty, so `npm start` runs the demo on an embedded devnet: its journal is kept in',
    'memory and its chain is discarded when it exits, so nothing of a past demo run is left to show',
    '(its log printed each action as it happened: tx.sent, tx.mined). For a history that persists,',
    'run `npm run devnet` and point the keeper at it (RPC_URLS, ADDRESSES_FILE=devnet.addresses.json,',
    `PRIVATE_KEY of a demo account it prints); the journal is then ${journalPath}.`,
  ].join('\n');
}

/** The `keeper status` screen: one snapshot, readable. */
export function formatStatus(s: Snapshot, a: Assessment, opts: { embedded?: boolean } = {}): string {
  const c = a.collateral;
  const hedgeRows: Array<readonly [string, string]> =
    s.hedge.venue === 'perp'
      ? [
          ['venue', 'perp exchange (isolated margin)'],
          ['position', `${fmtEth(s.hedge.sizeWei)} @ ${fmtPriceE8(s.hedge.entryPriceE8)}`],
          ['margin', `${fmtUsdc(s.hedge.marginUnits)} (account value ${fmtUsdc(s.hedge.accountValueUnits)})`],
        ]
      : [
          ['venue', 'Aave V3 (USDC collateral, WETH debt)'],
          ['debt', `${fmtEth(s.hedge.debtWei).replace(/ ETH$/, ' WETH')}`],
          ['collateral', `${fmtUsdc(s.hedge.collateralUnits).replace(/ USDC$/, ' aUSDC')}`],
        ];
  const ratioName = s.hedge.venue === 'perp' ? 'margin ratio' : 'health factor';
  const ratio = c.ratio.isFinite() ? c.ratio.toFixed(4) : 'no position';
  const lps = s.lps.map(
    (lp) =>
      [
        `LP #${lp.tokenId}`,
        `${fmtEth(lp.amountBaseWei)} + ${fmtUsdc(lp.amountQuoteUnits)}, ticks [${lp.tickLower}, ${lp.tickUpper}) ${lp.inRange ? 'in range' : 'OUT OF RANGE'}`,
      ] as const,
  );
  return [
    ...(opts.embedded ? [EMBEDDED_STATUS_NOTE, ''] : []),
    `block ${s.blockNumber} (chain ${s.chainId}), account ${s.account}`,
    '',
    'prices',
    table([
      ['oracle ETH/USD', `${fmtPriceE8(s.oracle.priceE8)} (age ${a.oracleAgeSec}s)`],
      ['Uniswap pool', `${fmtPriceE8(s.pool.priceE8)} (${a.poolOracleDivergenceBps} bps from the oracle)`],
    ]),
    '',
    'spot',
    table([
      ['wallet', `${fmtEth(s.wallet.wethWei).replace(/ ETH$/, ' WETH')}, ${fmtUsdc(s.wallet.usdcUnits)}, ${fmtEth(s.wallet.ethWei)} (gas)`],
      ...(lps.length ? lps : [['LP', 'none'] as const]),
    ]),
    '',
    'hedge',
    table(hedgeRows),
    '',
    'risk',
    table([
      ['spot delta', `${fmtEth(a.spotDeltaWei)} (wallet ${fmtEth(a.walletDeltaWei)}, LP ${fmtEth(a.lpDeltaWei)})`],
      ['hedge delta', `${fmtEth(a.hedgeDeltaWei)} (target ${fmtEth(a.targetHedgeWei)})`],
      ['net delta', `${fmtEth(a.netDeltaWei)} = ${a.netDeltaUsd.toFixed(2)} USD`],
      ['band', `±${fmtEth(a.bandWei)} around the target: ${a.inBand ? 'inside' : 'OUTSIDE'}`],
      [ratioName, `${ratio} (trigger ${fmtRatioE18(c.triggerRatioE18)}, target ${fmtRatioE18(c.targetRatioE18)}, liquidation ${fmtRatioE18(c.liquidationRatioE18)})`],
      [
        'liquidation price',
        c.liquidationPriceE8 === null ? 'none' : `${fmtPriceE8(c.liquidationPriceE8)} (${c.distancePct?.toFixed(2)}% from the oracle)`,
      ],
    ]),
  ].join('\n');
}

interface HistoryRow {
  id: number;
  createdAtMs: number;
  block: string | null;
  kind: string;
  reason: string;
  status: string;
  detail: string | null;
  txs: Array<{ label: string; nonce: number; hash: string; status: string; block: string | null; gasUsed: string | null }>;
  orders?: ReadonlyArray<Pick<OrderRow, 'venue' | 'isBuy' | 'sz' | 'coin' | 'px' | 'status' | 'filledUnits' | 'cloid'>>;
}

/** The `keeper history` screen: newest intents first, each with its transactions. */
export function formatHistory(rows: readonly HistoryRow[]): string {
  if (rows.length === 0) return 'the journal is empty: the keeper has not acted';
  return rows
    .map((r) => {
      const head = `#${r.id} ${new Date(r.createdAtMs).toISOString()} block ${r.block ?? '?'}  ${r.kind}  ${r.status.toUpperCase()}${r.detail ? ` (${r.detail})` : ''}`;
      const txs = r.txs.map((t) => `    ${t.label}  nonce ${t.nonce}  ${t.status}${t.block ? ` in block ${t.block}` : ''}${t.gasUsed ? `, gas ${t.gasUsed}` : ''}  ${t.hash}`);
      // Orders on an off-chain venue (Hyperliquid): journaled before they were sent, with what filled.
      const orders = (r.orders ?? []).map((o) => `    ${o.venue} order ${o.isBuy ? 'buy' : 'sell'} ${o.sz} ${o.coin} IOC at ${o.px}  ${o.status}${o.filledUnits !== null ? `, filled ${o.filledUnits} units` : ''}  cloid ${o.cloid}`);
      return [head, `    why: ${r.reason}`, ...txs, ...orders].join('\n');
    })
    .join('\n\n');
}
