import { fixedToString, fmtRatioE18, MAX_UINT256 } from '../core/format.js';
import type { PortfolioAssessment } from '../core/portfolio/assess.js';
import { fmtUnits } from '../core/portfolio/exposure.js';
import { describeProxyHedge } from '../core/portfolio/proxy.js';
import type { Portfolio, PortfolioSnapshot } from '../portfolio/model.js';
import type { PortfolioDoubts } from './portfolio-sanity.js';
import { EMBEDDED_STATUS_NOTE } from './status.js';
import { createPortfolioRisk, type PortfolioRiskFigures } from './portfolio-risk.js';
import { formatPnlReport, type PnlReport } from './portfolio-pnl.js';
import { fmtAprPct, shortCostAprE18, venueRateAssets } from '../venues/venue-rates.js';
import type { OrderRow } from '../journal/orders.js';

function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`).join('\n');
}

const usd = (e8: bigint) => `$${fixedToString(e8, 8, 2)}`;

/** `keeper status` of a portfolio: per asset (spot, hedge, target, band) and per venue bucket (ratio, liquidation prices). */
export function formatPortfolioStatus(
  p: Portfolio, s: PortfolioSnapshot, a: PortfolioAssessment, doubts: PortfolioDoubts,
  opts: { embedded?: boolean; risk?: PortfolioRiskFigures; pnl?: PnlReport | null; unsettledOrders?: Readonly<Record<string, readonly OrderRow[]>> } = {},
): string {
  const assetRows = [
    ['asset', 'price', 'spot', 'hedge', 'target', 'net', 'band', ''],
    ...a.assets.map((x) => {
      const f = (u: bigint) => fmtUnits(u, x.decimals, '').trim();
      const doubt = doubts.assets[x.asset];
      return [
        x.asset, usd(x.priceE8), f(x.spotUnits), f(x.hedgeUnits), f(x.targetHedgeUnits), `${f(x.netUnits)} (${usd(x.netUsdE8)})`, `±${f(x.bandUnits)}`,
        doubt ? `SAFE MODE: ${doubt}` : x.inBand ? 'in band' : 'OUTSIDE the band',
      ];
    }),
  ];
  const instrumentRows = a.assets.flatMap((x) => [
    ...x.instruments.map((i) => [i.instrument, fmtUnits(i.hedgeUnits, x.decimals, x.asset)]),
    // Counted in the hedge, never traded: a position where the asset has no instrument.
    ...Object.entries(x.untrackedHedgeUnits ?? {}).map(([venue, u]) => [`${venue}:${x.asset} (no instrument: counted, not traded)`, fmtUnits(u, x.decimals, x.asset)]),
  ]);
  const orderLines = Object.entries(opts.unsettledOrders ?? {}).flatMap(([venue, rows]) =>
    rows.map((o) => `  ${venue}: order ${o.cloid} (${o.isBuy ? 'buy' : 'sell'} ${o.sz} ${o.coin} at ${o.px}) ${o.status}: the venue is asked before anything else is sent there`),
  );
  const venueRows = [
    ['venue', 'bucket', 'ratio', 'trigger / target', 'liquidation prices', ''],
    ...a.venues.flatMap((v) => {
      if (v.account === null) return [[v.venue, '-', 'not read', '', '', '']];
      return v.buckets.map((b) => [
        v.venue,
        b.asset ?? 'account',
        b.ratioE18 >= MAX_UINT256 ? 'no position' : fmtRatioE18(b.ratioE18),
        `${fmtRatioE18(b.triggerE18)} / ${fmtRatioE18(b.targetE18)}`,
        Object.entries(b.liquidationPricesE8).map(([k, px]) => `${k} ${px === null ? 'none' : usd(px)}`).join(', ') || 'none',
        doubts.venues[v.venue] ? `SAFE MODE: ${doubts.venues[v.venue]}` : b.breached ? 'UNDER THE TRIGGER' : '',
      ]);
    }),
  ];
  // What a short costs per year on each venue's market (negative: the short earns funding).
  const rateRows = [
    ['venue', 'market', 'short cost (APR)'],
    ...p.venues.flatMap((spec) => {
      const account = a.venues.find((v) => v.venue === spec.id)?.account ?? null;
      try {
        return venueRateAssets(spec).map((asset) => [spec.id, asset, account === null ? 'not read' : fmtAprPct(shortCostAprE18(spec, account, asset))]);
      } catch (e) {
        // The rates inform; a venue whose rate cannot be shown does not take the status down.
        return [[spec.id, '-', `unknown (${(e as Error).message})`]];
      }
    }),
  ];
  const wallet = [...p.assets.map((x) => fmtUnits(s.wallet.balances[x.id] ?? 0n, x.decimals, x.id)), fmtUnits(s.wallet.balances[p.quote.id] ?? 0n, p.quote.decimals, p.quote.id)];
  const lps = s.lps.map((lp) => {
    const pool = p.pools.find((x) => x.id === lp.pool);
    const dec = (id: string | undefined) => (id === p.quote.id ? p.quote.decimals : p.assets.find((x) => x.id === id)?.decimals ?? 18);
    const amt = (u: bigint, f: bigint, id: string | undefined) => fmtUnits(u + f, dec(id), id ?? '?');
    return [`LP #${lp.tokenId} ${lp.pool}`, `${amt(lp.amount0, lp.fees0, pool?.token0)} + ${amt(lp.amount1, lp.fees1, pool?.token1)} (fees included), ${lp.inRange ? 'in range' : 'OUT OF RANGE'}`];
  });
  return [
    ...(opts.embedded ? [EMBEDDED_STATUS_NOTE, ''] : []),
    `block ${s.blockNumber} (chain ${s.chainId}), account ${s.account}`,
    ...(doubts.portfolio ? ['', `SAFE MODE: ${doubts.portfolio}`] : []),
    '',
    'assets',
    table(assetRows),
    '',
    'spot',
    table([['wallet', wallet.join(', ')], ...(lps.length ? lps : [['LP', 'none']])]),
    '',
    'hedge by instrument',
    table(instrumentRows.length ? instrumentRows : [['none', '']]),
    '',
    'venues',
    table(venueRows),
    '',
    'venue rates (negative = the short earns)',
    table(rateRows),
    '',
    ...(orderLines.length ? ['orders of unknown fate (journal)', ...orderLines, ''] : []),
    // Without the keeper's figures (its record), the prior's: marked as such.
    ...riskLines(opts.risk ?? createPortfolioRisk({ assets: p.assets, pools: p.pools, quote: p.quote }).figures(s, a)),
    '',
    ...(a.proxies?.length ? ['', 'hedged by proxy', ...a.proxies.map((h) => `  ${describeProxyHedge(h)}`)] : []),
    `portfolio net delta ${usd(a.netUsdE8)} (spot ${usd(a.spotUsdE8)})`,
    // Absent = the caller did not ask (library use); null = no keeper has run in this process.
    ...(opts.pnl !== undefined ? ['', ...formatPnlReport(opts.pnl)] : []),
  ].join('\n');
}

/** The risk table: VaR/ES and the model that answered, vol and correlations per asset, liquidation distance in daily sigmas. */
function riskLines(f: PortfolioRiskFigures): string[] {
  const money = (x: number) => `$${x.toFixed(2)}`;
  const volRows = [
    ['asset', 'vol/yr', ...f.assets.map((id) => `corr ${id}`)],
    ...f.assets.map((id, i) => [id, `${((f.volAnnual[id] ?? NaN) * 100).toFixed(1)}%`, ...(f.correlation[i] ?? []).map((c) => c.toFixed(2))]),
  ];
  const liqRows = [
    ['venue', 'bucket', 'asset', 'liquidation distance'],
    ...f.liquidation.map((l) => [l.venue, l.bucket, l.asset, l.sigmas === null ? 'none' : `${l.sigmas.toFixed(2)} daily sigmas`]),
  ];
  return [
    `risk${f.covarianceSource === 'prior' ? ' (PRIOR: too few hourly returns yet)' : ''}`,
    table([
      ['1-day 99% VaR', money(f.var99Usd)],
      ['1-day 99% ES', money(f.es99Usd)],
      ['model', `${f.varModel}: ${f.varBasis}`],
      ['default model (fhs-ewma)', typeof f.fhsVar99Usd === 'number' ? money(f.fhsVar99Usd) : f.fhsVar99Usd],
    ]),
    table(volRows),
    ...(f.liquidation.length ? [table(liqRows)] : []),
  ];
}
