import { checkOracleRound, FEED_DECIMALS } from '../core/oracle-check.js';
import type { OracleRound } from '../core/types.js';
import type { AssetId, Portfolio, PortfolioSnapshot, VenueId } from '../portfolio/model.js';

/**
 * What the keeper does not believe in a portfolio read, at the narrowest scope that explains it:
 * an asset whose feed is doubtful is not hedged and no venue holding it is topped up on its price;
 * a venue whose account the model cannot explain is left alone; a doubtful quote feed stops
 * everything (every value is in it).
 */
export interface PortfolioDoubts {
  /** Everything stops (the quote feed; nothing can be valued). */
  portfolio: string | null;
  assets: Readonly<Record<AssetId, string>>;
  venues: Readonly<Record<VenueId, string>>;
}

export interface PortfolioSanityOptions {
  /** Largest gap between a pool's price and the feeds' ratio of its two tokens, bps. */
  maxPoolDeviationBps: number;
  /** Grace over each feed's heartbeat before its round counts as stale, seconds. */
  heartbeatGraceSec?: number;
  /** A venue's own doubts (e.g. Aave's account data that the model cannot reproduce): reason or null. */
  venueCheck?: (venue: VenueId, snapshot: PortfolioSnapshot) => string | null;
}

/** The price of token1 in token0 raw units implied by a pool's sqrt price, as num/den (Q192 scaled). */
const Q192 = 2n ** 192n;

/**
 * |pool − feeds| / feeds in bps for a pool whose two tokens both have a price (USD E8): the pool's
 * raw price p = token1 per token0 (raw units) should equal price0 / price1 × 10^(dec1 − dec0).
 */
export function poolDeviationBps(sqrtPriceX96: bigint, price0E8: bigint, dec0: number, price1E8: bigint, dec1: number): bigint {
  // Feeds' raw ratio as a fraction fn/fd; pool's as sq/Q192.
  const fn = price0E8 * 10n ** BigInt(Math.max(dec1 - dec0, 0));
  const fd = price1E8 * 10n ** BigInt(Math.max(dec0 - dec1, 0));
  const sq = sqrtPriceX96 * sqrtPriceX96;
  // |sq/Q192 − fn/fd| / (fn/fd) = |sq·fd − fn·Q192| / (fn·Q192)
  const diff = sq * fd - fn * Q192;
  return ((diff < 0n ? -diff : diff) * 10_000n) / (fn * Q192);
}

export function createPortfolioSanity(portfolio: Portfolio, opts: PortfolioSanityOptions) {
  // The highest round seen per feed: a feed going back to an older round is refused.
  const highest = new Map<string, OracleRound>();
  const grace = opts.heartbeatGraceSec ?? 0;

  function checkRound(round: OracleRound | undefined, name: string, maxAgeSec: number, blockTimestampSec: bigint): string | null {
    if (!round) return null;
    const prev = highest.get(round.feed) ?? null;
    const bad = checkOracleRound(prev, round, { blockTimestampSec, expectedDecimals: FEED_DECIMALS, maxAgeSec, name, maxAgeVar: `the ${name} feed's heartbeat + grace` });
    if (!prev || round.roundId > prev.roundId) highest.set(round.feed, round);
    return bad;
  }

  return (s: PortfolioSnapshot): PortfolioDoubts => {
    const assets: Record<AssetId, string> = {};
    const venues: Record<VenueId, string> = {};
    let whole: string | null = null;
    if (s.quotePriceE8 <= 0n) whole = `quote price not usable: ${portfolio.quote.id}/USD answered ${s.quotePriceE8}`;
    for (const a of portfolio.assets) {
      const p = s.prices[a.id];
      if (!p || p.priceE8 <= 0n) {
        assets[a.id] = `no usable ${a.id}/USD price (${p ? `answer ${p.priceE8}` : 'not read'})`;
        continue;
      }
      const bad = checkRound(p.round, `${a.id}/USD`, a.heartbeatSec + grace, s.blockTimestampSec);
      if (bad) assets[a.id] = bad;
    }
    // A pool far from the feeds: the assets in it are doubtful (the feed or the pool is wrong,
    // and LP amounts and swaps both come from the pool).
    const priceOf = (id: string): { priceE8: bigint; decimals: number } | null => {
      if (id === portfolio.quote.id) return { priceE8: s.quotePriceE8, decimals: portfolio.quote.decimals };
      const a = portfolio.assets.find((x) => x.id === id);
      const p = s.prices[id]?.priceE8 ?? 0n;
      return a && p > 0n ? { priceE8: p, decimals: a.decimals } : null;
    };
    for (const pool of portfolio.pools) {
      const st = s.pools[pool.id];
      const p0 = priceOf(pool.token0);
      const p1 = priceOf(pool.token1);
      if (!st || !p0 || !p1 || st.sqrtPriceX96 <= 0n) continue;
      const dev = poolDeviationBps(st.sqrtPriceX96, p0.priceE8, p0.decimals, p1.priceE8, p1.decimals);
      if (dev > BigInt(opts.maxPoolDeviationBps)) {
        const why = `pool ${pool.id} is ${dev} bps from the feeds (MAX_POOL_DEVIATION_BPS ${opts.maxPoolDeviationBps})`;
        for (const t of [pool.token0, pool.token1]) if (t !== portfolio.quote.id) assets[t] ??= why;
      }
    }
    for (const v of portfolio.venues) {
      const unread = s.unreadVenues?.[v.id];
      const bad = unread !== undefined ? `account not read: ${unread}` : (opts.venueCheck?.(v.id, s) ?? null);
      if (bad) venues[v.id] = bad;
    }
    return { portfolio: whole, assets, venues };
  };
}

