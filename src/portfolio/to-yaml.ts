import { fixedToString } from '../core/format.js';
import { assertNever, type Portfolio, type VenueSpec } from './model.js';

/**
 * A portfolio written back as keeper.yaml text: what `keeper portfolio from-env` prints so a
 * single-asset configuration can move to a portfolio file. Amounts in each token's whole units,
 * exact (the loader converts them back to the same bigints: a test round-trips it).
 */

/** Shortest exact decimal text of value / 10^decimals. */
function dec(value: bigint, decimals: number): string {
  const s = fixedToString(value, decimals, decimals);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

const ratio = (e18: bigint) => dec(e18, 18);

function venueLines(v: VenueSpec, quoteDecimals: number): string[] {
  const c = v.collateral;
  const tail = [`trigger: ${ratio(c.triggerE18)}`, `target: ${ratio(c.targetE18)}`, `maxTopUp: ${dec(c.maxTopUpUnits, quoteDecimals)}`, `maxTopUpPerDay: ${dec(c.maxTopUpPerDayUnits, quoteDecimals)}`];
  switch (v.kind) {
    case 'perp':
      return [`  ${v.id}:`, '    kind: perp', `    exchange: ${v.exchange}`, `    markets: { ${Object.entries(v.markets).map(([a, m]) => `${a}: ${m}`).join(', ')} }`, ...tail.map((t) => `    ${t}`)];
    case 'aave':
      return [
        `  ${v.id}:`, '    kind: aave', `    addressesProvider: ${v.addressesProvider}`, `    swapRouter: ${v.swapRouter}`, `    quoter: ${v.quoter}`,
        `    swapPools: { ${Object.entries(v.swapPools).map(([a, p]) => `${a}: ${p}`).join(', ')} }`, ...tail.map((t) => `    ${t}`),
      ];
    case 'morpho':
      throw new Error(`portfolioToYaml: venue ${v.id}: kind morpho is not written by this command (from-env never produces it)`);
    case 'hyperliquid':
      throw new Error(`portfolioToYaml: venue ${v.id}: kind hyperliquid is not written by this command (from-env never produces it)`);
    default:
      return assertNever(v, 'venue kind');
  }
}

export function portfolioToYaml(p: Portfolio, header: readonly string[] = []): string {
  const out: string[] = [...header.map((h) => `# ${h}`)];
  if (p.positionManager) out.push(`positionManager: ${p.positionManager}`);
  out.push(`quote: { symbol: ${p.quote.id}, token: ${p.quote.token}, decimals: ${p.quote.decimals}${p.quote.feed ? `, feed: ${p.quote.feed}` : ''} }`);
  out.push('assets:');
  for (const a of p.assets) {
    out.push(`  ${a.id}: { token: ${a.token}, decimals: ${a.decimals}, feed: ${a.feed}, heartbeat: ${a.heartbeatSec}${a.wrapsNative ? ', wrapsNative: true' : ''} }`);
  }
  out.push('pools:');
  for (const x of p.pools) out.push(`  ${x.id}: { address: ${x.address}, token0: ${x.token0}, token1: ${x.token1}, fee: ${x.fee} }`);
  out.push('venues:');
  for (const v of p.venues) out.push(...venueLines(v, p.quote.decimals));
  out.push('instruments:');
  for (const i of p.instruments) {
    const dec0 = p.assets.find((a) => a.id === i.asset)?.decimals ?? 18;
    out.push(`  - { id: ${i.id}, venue: ${i.venue}, asset: ${i.asset}, priority: ${i.priority}, weight: ${i.weight}${i.maxSizeUnits !== null ? `, maxSize: ${dec(i.maxSizeUnits, dec0)}` : ''} }`);
  }
  out.push('policy:', `  cooldown: ${p.policy.cooldownSec}`, `  maxSlippageBps: ${p.policy.maxSlippageBps}`, `  includeNative: ${p.policy.includeNative}`, '  assets:');
  for (const [id, a] of Object.entries(p.policy.assets)) {
    const d = p.assets.find((x) => x.id === id)?.decimals ?? 18;
    out.push(
      `    ${id}: { hedgeRatio: ${ratio(a.hedgeRatioE18)}, band: ${dec(a.bandUnits, d)}, bandPct: ${ratio(a.bandPctE18)}, hysteresis: ${ratio(a.hysteresisE18)}, ` +
        `minTrade: ${dec(a.minTradeUnits, d)}, maxTrade: ${dec(a.maxTradeUnits, d)}, maxNotionalPerDayUsd: ${dec(a.maxNotionalPerDayUsdE8, 8)} }`,
    );
  }
  return `${out.join('\n')}\n`;
}
