import { Gauge, type Registry } from 'prom-client';
import { MAX_UINT256 } from '../core/format.js';
import type { PortfolioTickResult } from '../runner/portfolio-tick.js';
import { pnlComponents, pnlUsdNumber } from '../runner/portfolio-pnl.js';

/**
 * The portfolio keeper's gauges, labelled by asset and by venue (and collateral bucket: a perp
 * market's asset, or `account` for a cross-margin venue). Amounts are in the asset's own units,
 * as people read them; prices and USD values in dollars.
 */

const pow10 = (d: number) => 10 ** d;

/** bigint base units -> float for a gauge: exact enough for display (never fed back into calldata). */
function units(v: bigint, decimals: number): number {
  const scale = 10n ** BigInt(decimals);
  return Number(v / scale) + Number(v % scale) / pow10(decimals);
}

export function createPortfolioGauges(registry: Registry, prefix: string) {
  const registers = [registry];
  const g = (name: string, help: string, labelNames: string[]) => new Gauge({ name: prefix + name, help, labelNames, registers });
  const price = g('asset_price_usd', 'Oracle price of the asset, USD', ['asset']);
  const spot = g('asset_spot', 'Spot exposure (wallet + LP), asset units', ['asset']);
  const hedge = g('asset_hedge', 'Hedge over all venues (short negative), asset units', ['asset']);
  const target = g('asset_target_hedge', 'Hedge the policy aims at, asset units', ['asset']);
  const delta = g('asset_delta', 'Net delta (spot + hedge), asset units', ['asset']);
  const deltaUsd = g('asset_delta_usd', 'Net delta valued at the oracle price, USD', ['asset']);
  const deviation = g('asset_deviation', 'Hedge minus target hedge, asset units', ['asset']);
  const band = g('asset_band', 'Half-width of the delta band, asset units', ['asset']);
  const inBand = g('asset_in_band', '1 when the asset\'s deviation is inside its band', ['asset']);
  const assetSafe = g('asset_safe_mode', '1 while the asset is not hedged because its price is doubted', ['asset']);
  const instrumentHedge = g('instrument_hedge', 'Hedge carried by one instrument, asset units', ['asset', 'venue']);
  const ratio = g('venue_ratio', 'Collateral ratio of a venue bucket (perp margin ratio, Aave health factor; +Inf without a position)', ['venue', 'bucket']);
  const trigger = g('venue_trigger_ratio', 'Ratio under which the bucket is topped up', ['venue', 'bucket']);
  const targetRatio = g('venue_target_ratio', 'Ratio a top-up restores', ['venue', 'bucket']);
  const liqRatio = g('venue_liquidation_ratio', 'Ratio at which the venue liquidates', ['venue', 'bucket']);
  const liqPrice = g('venue_liquidation_price_usd', 'Oracle price of the asset at which the bucket is liquidated (others fixed)', ['venue', 'bucket', 'asset']);
  const liqDistance = g('venue_liquidation_distance_pct', 'Move of the asset to its liquidation price, percent, signed', ['venue', 'bucket', 'asset']);
  const venueSafe = g('venue_safe_mode', '1 while the venue is left alone (its account does not match the model)', ['venue']);
  const netUsd = g('portfolio_delta_usd', 'Net delta of the whole portfolio, USD', []);
  const var99 = g('portfolio_var99_usd', '1-day 99% VaR of the net position (delta-gamma), USD', []);
  const es99 = g('portfolio_es99_usd', '1-day 99% expected shortfall of the net position, USD', []);
  const volAnnual = g('asset_vol_annual', 'Annualised volatility of the asset (EWMA of hourly returns, or the prior), fraction', ['asset']);
  const correlation = g('asset_correlation', 'Correlation of two assets\' hourly returns (EWMA, or the prior)', ['asset', 'other']);
  const liqSigmas = g('venue_liquidation_distance_sigmas', 'ln(liquidation price / price) in daily sigmas of the asset, signed', ['venue', 'bucket', 'asset']);
  // A gauge, not a counter: P&L lines go down as well as up.
  const pnlTotal = g('pnl_usd_total', 'P&L since the keeper started, by line (lp_fees, lp_price_move, lp_loss_vs_holding, hedge_<venue>, funding_interest, trading_fees, gas, unexplained, total), USD', ['component']);
  const pnl24h = g('pnl_usd_24h', 'P&L over the last 24 h of block time, by line (as pnl_usd_total), USD', ['component']);
  // Proxy hedges (issue 12, item 2): what the correlated instruments leave of each proxied asset.
  const proxyResidual = g('proxy_residual_var99_usd', '1-day 99% VaR of what the proxy hedge leaves of a proxied asset (normal, on the planning covariance), USD', ['asset']);
  const proxyRatio = g('proxy_hedge_ratio', 'h*: USD of the proxy shorted per USD of the proxied asset (minimum variance)', ['asset', 'proxy']);
  // The portfolio VaR limit (issue 12, item 3), on the ticks whose plan it drove; NaN on the others.
  const varLimit = g('var_limit_usd', 'The configured portfolio VaR limit, USD (on ticks where the VaR exceeded it)', []);
  const varLimitBefore = g('var_limit_var_before_usd', 'Portfolio 1-day 99% VaR that exceeded the limit, after the band trades, USD', []);
  const varLimitAfter = g('var_limit_var_after_usd', 'Portfolio 1-day 99% VaR predicted after the VaR-limit trades, USD', []);
  const varLimitTriggered = g('var_limit_triggered', '1 when this tick\'s plan traded to bring the portfolio VaR under its limit', []);

  return (result: PortfolioTickResult): void => {
    const a = result.assessment;
    netUsd.set(units(a.netUsdE8, 8));
    if (result.pnl) for (const [component, v] of pnlComponents(result.pnl.sinceStart)) pnlTotal.set({ component }, pnlUsdNumber(v));
    if (result.pnl?.last24h) for (const [component, v] of pnlComponents(result.pnl.last24h)) pnl24h.set({ component }, pnlUsdNumber(v));
    for (const h of result.assessment.proxies ?? []) {
      proxyResidual.set({ asset: h.asset }, h.residualVar99Usd);
      for (const leg of h.legs) proxyRatio.set({ asset: h.asset, proxy: leg.asset }, leg.ratio);
    }
    const vl = result.plan?.varLimit;
    varLimitTriggered.set(vl ? 1 : 0);
    varLimit.set(vl ? vl.limitUsd : Number.NaN);
    varLimitBefore.set(vl ? vl.varBeforeUsd : Number.NaN);
    varLimitAfter.set(vl ? vl.varAfterUsd : Number.NaN);
    for (const x of a.assets) {
      const l = { asset: x.asset };
      price.set(l, units(x.priceE8, 8));
      spot.set(l, units(x.spotUnits, x.decimals));
      hedge.set(l, units(x.hedgeUnits, x.decimals));
      target.set(l, units(x.targetHedgeUnits, x.decimals));
      delta.set(l, units(x.netUnits, x.decimals));
      deltaUsd.set(l, units(x.netUsdE8, 8));
      deviation.set(l, units(x.deviationUnits, x.decimals));
      band.set(l, units(x.bandUnits, x.decimals));
      inBand.set(l, x.inBand ? 1 : 0);
      assetSafe.set(l, result.doubts.assets[x.asset] ? 1 : 0);
      for (const i of x.instruments) instrumentHedge.set({ asset: x.asset, venue: i.venue }, units(i.hedgeUnits, x.decimals));
    }
    for (const v of a.venues) {
      venueSafe.set({ venue: v.venue }, result.doubts.venues[v.venue] ? 1 : 0);
      for (const b of v.buckets) {
        const l = { venue: v.venue, bucket: b.asset ?? 'account' };
        ratio.set(l, b.ratioE18 >= MAX_UINT256 ? Infinity : units(b.ratioE18, 18));
        trigger.set(l, units(b.triggerE18, 18));
        targetRatio.set(l, units(b.targetE18, 18));
        liqRatio.set(l, units(b.liquidationRatioE18, 18));
        for (const [asset, p] of Object.entries(b.liquidationPricesE8)) {
          const px = a.prices.pricesE8[asset] ?? 0n;
          liqPrice.set({ ...l, asset }, p === null ? Number.NaN : units(p, 8));
          liqDistance.set({ ...l, asset }, p === null || px <= 0n ? Number.NaN : (units(p - px, 8) / units(px, 8)) * 100);
        }
      }
    }
    const r = result.risk;
    if (!r) return;
    var99.set(r.var99Usd);
    es99.set(r.es99Usd);
    r.assets.forEach((asset, i) => {
      volAnnual.set({ asset }, r.volAnnual[asset] ?? Number.NaN);
      r.assets.forEach((other, j) => correlation.set({ asset, other }, r.correlation[i]?.[j] ?? Number.NaN));
    });
    for (const l of r.liquidation) liqSigmas.set({ venue: l.venue, bucket: l.bucket, asset: l.asset }, l.sigmas ?? Number.NaN);
  };
}
