import type { AssetId, Portfolio, VenueId } from '../portfolio/model.js';
import type { PnlParts } from '../runner/portfolio-pnl.js';
import type { PortfolioRun } from './portfolio-run.js';
import type { PortfolioData, PortfolioScenario } from './portfolio-scenario.js';

/**
 * What a portfolio backtest reports: `portfolio-backtest.json` and a one-screen summary.
 * costUsd = trading fees and slippage + gas + net funding and interest paid (the attribution's
 * three cost lines, negated). perCloseStdUsd = standard deviation of the portfolio value's change
 * from one close to the next (the risk the hedge leaves), for the hedged run and the unhedged
 * baseline (the same chain, the keeper never acting).
 */

export interface PortfolioBacktestReport {
  assets: AssetId[];
  sources: Record<AssetId, string>;
  from: string;
  to: string;
  steps: number;
  trades: number;
  costUsd: number;
  perCloseStdUsd: number;
  initialValueUsd: number;
  finalValueUsd: number;
  pnlUsd: number;
  attribution: {
    lpFees: number; lpPriceMove: number; lpLossVsHolding: number; hedge: number; fundingInterest: number;
    tradingFees: number; gas: number; unexplained: number; total: number;
  };
  perAsset: Record<AssetId, { trades: number; meanAbsDeltaUsd: number }>;
  perVenue: Record<VenueId, { kind: string; trades: number; topUps: number; topUpUsd: number; moves: number; failed: number; blocked: number; liquidations: number; hedgeUsd: number }>;
  unhedged: { perCloseStdUsd: number; finalValueUsd: number; pnlUsd: number };
  /** 1 - hedged variance / unhedged variance, per close. */
  hedgeEffectiveness: number | null;
  scenario: PortfolioScenario;
  timings: { engineMs: number; commandMs?: number };
}

const usd = (e8: bigint): number => Number(e8) / 1e8;

/** Population standard deviation of consecutive differences, USD. */
export function perCloseStdUsd(values: readonly bigint[]): number {
  const d: number[] = [];
  for (let i = 1; i < values.length; i++) d.push(usd(values[i]! - values[i - 1]!));
  if (d.length === 0) return 0;
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  return Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
}

export function hedgeTotal(parts: PnlParts): bigint {
  return Object.values(parts.hedge).reduce((s, x) => s + x, 0n);
}

export function portfolioReport(p: Portfolio, data: PortfolioData, scenario: PortfolioScenario, hedged: PortfolioRun, unhedged: PortfolioRun, engineMs: number): PortfolioBacktestReport {
  const a = hedged.attribution;
  const std = perCloseStdUsd(hedged.values);
  const stdU = perCloseStdUsd(unhedged.values);
  const iso = (sec: number) => new Date(sec * 1000).toISOString();
  const first = hedged.values[0]!;
  return {
    assets: p.assets.map((x) => x.id),
    sources: data.sources,
    from: iso(data.timesSec[0]!),
    to: iso(data.timesSec.at(-1)!),
    steps: hedged.steps,
    trades: Object.values(hedged.trades.byAsset).reduce((s, x) => s + x, 0),
    costUsd: -usd(a.tradingFees + a.gas + a.fundingInterest),
    perCloseStdUsd: std,
    initialValueUsd: usd(first),
    finalValueUsd: usd(hedged.values.at(-1)!),
    pnlUsd: usd(hedged.values.at(-1)! - first),
    attribution: {
      lpFees: usd(a.lpFees), lpPriceMove: usd(a.lpPriceMove), lpLossVsHolding: usd(a.lpLossVsHolding), hedge: usd(hedgeTotal(a)),
      fundingInterest: usd(a.fundingInterest), tradingFees: usd(a.tradingFees), gas: usd(a.gas), unexplained: usd(a.unexplained), total: usd(a.total),
    },
    perAsset: Object.fromEntries(p.assets.map((x) => [x.id, { trades: hedged.trades.byAsset[x.id] ?? 0, meanAbsDeltaUsd: hedged.meanAbsDeltaUsd[x.id] ?? 0 }])),
    perVenue: Object.fromEntries(p.venues.map((v) => {
      const c = hedged.venueCounts[v.id]!;
      return [v.id, {
        kind: v.kind, trades: hedged.trades.byVenue[v.id] ?? 0, topUps: c.topUps, topUpUsd: Number(c.topUpUnits) / 10 ** p.quote.decimals,
        moves: c.moves, failed: c.failed, blocked: c.blocked, liquidations: hedged.liquidations[v.id] ?? 0, hedgeUsd: usd(a.hedge[v.id] ?? 0n),
      }];
    })),
    unhedged: { perCloseStdUsd: stdU, finalValueUsd: usd(unhedged.values.at(-1)!), pnlUsd: usd(unhedged.values.at(-1)! - unhedged.values[0]!) },
    hedgeEffectiveness: stdU > 0 ? 1 - (std * std) / (stdU * stdU) : null,
    scenario,
    timings: { engineMs },
  };
}

const money = (x: number): string => `${x < 0 ? '-' : ''}$${Math.abs(x).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The one-screen summary. */
export function portfolioSummaryText(r: PortfolioBacktestReport): string {
  const a = r.attribution;
  const rows: [string, number][] = [
    ['LP fees', a.lpFees], ['LP price move', a.lpPriceMove], ['LP loss vs holding', a.lpLossVsHolding], ['hedge', a.hedge],
    ['funding / interest', a.fundingInterest], ['trading fees + slippage', a.tradingFees], ['gas', a.gas], ['unexplained', a.unexplained], ['total', a.total],
  ];
  const pad = Math.max(...rows.map(([k]) => k.length));
  return [
    `portfolio backtest: ${r.assets.join(', ')} over ${r.steps} hourly closes (${r.from.slice(0, 16)} to ${r.to.slice(0, 16)})`,
    `  value ${money(r.initialValueUsd)} -> ${money(r.finalValueUsd)} (P&L ${money(r.pnlUsd)}); unhedged ${money(r.unhedged.finalValueUsd)} (P&L ${money(r.unhedged.pnlUsd)})`,
    `  per-close std ${money(r.perCloseStdUsd)} hedged, ${money(r.unhedged.perCloseStdUsd)} unhedged` +
      (r.hedgeEffectiveness === null ? '' : ` (variance removed ${(r.hedgeEffectiveness * 100).toFixed(1)}%)`),
    `  trades ${r.trades}, cost ${money(r.costUsd)}`,
    '  where the money went:',
    ...rows.map(([k, v]) => `    ${k.padEnd(pad)}  ${money(v).padStart(16)}`),
    `  per asset: ${Object.entries(r.perAsset).map(([id, x]) => `${id} ${x.trades} trades, mean |delta| ${money(x.meanAbsDeltaUsd)}`).join('; ')}`,
    `  per venue: ${Object.entries(r.perVenue).map(([id, v]) => `${id} (${v.kind}) ${v.trades} trades, ${v.topUps} top-ups ${money(v.topUpUsd)}, hedge ${money(v.hedgeUsd)}` +
      (v.failed ? `, ${v.failed} failed` : '') + (v.blocked ? `, ${v.blocked} blocked` : '') + (v.liquidations ? `, ${v.liquidations} LIQUIDATIONS` : '')).join('; ')}`,
    '',
  ].join('\n');
}
