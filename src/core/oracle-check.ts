import type { OracleReading, OracleRound } from './types.js';

/**
 * Validation of Chainlink-compatible feed rounds. Pure: the block time, the expected decimals
 * and the heartbeat come in as context, the previous round as an argument. A round that fails
 * any check names its feed and what is wrong; the keeper then enters safe mode with that reason
 * (nothing is sized on the price: no hedge, no top-up).
 */

/** The core's prices are E8: a feed with other decimals would be misread by 10^n. */
export const FEED_DECIMALS = 8;

/**
 * Heartbeat of the USDC/USD feed: Chainlink's is 24 h on mainnet and the main L2s, far longer
 * than ETH/USD's, so ORACLE_MAX_AGE_SEC (the ETH feed's) would flag it every hour.
 */
export const QUOTE_FEED_MAX_AGE_SEC = 86_400;

export interface RoundCheckContext {
  blockTimestampSec: bigint;
  expectedDecimals: number;
  maxAgeSec: number;
  /** Name of the feed in the reason, e.g. `ETH/USD`; default `feed`. */
  name?: string;
  /** The variable that sets maxAgeSec, named in the stale reason. */
  maxAgeVar?: string;
}

/**
 * null when the round can be used; otherwise why not. Order: what makes the number meaningless
 * (decimals, answer, incomplete round) before what makes it old (round order, time).
 */
export function checkOracleRound(prev: OracleRound | null, cur: OracleRound, ctx: RoundCheckContext): string | null {
  const feed = `${ctx.name ?? 'feed'} feed ${cur.feed}`;
  if (cur.decimals !== ctx.expectedDecimals) {
    return `oracle decimals: ${feed} has ${cur.decimals} decimals, the keeper reads prices with ${ctx.expectedDecimals}`;
  }
  if (cur.answer <= 0n) return `oracle answer not a price: ${feed} answered ${cur.answer} in round ${cur.roundId}`;
  if (cur.updatedAt === 0n) return `oracle round incomplete: ${feed} round ${cur.roundId} has updatedAt 0`;
  if (cur.answeredInRound < cur.roundId) {
    return `oracle answer carried over: ${feed} answeredInRound ${cur.answeredInRound} < roundId ${cur.roundId}`;
  }
  if (prev && cur.roundId < prev.roundId) {
    return `oracle round went backwards: ${feed} reports round ${cur.roundId} after round ${prev.roundId}`;
  }
  if (cur.updatedAt > ctx.blockTimestampSec) {
    return (
      `oracle updatedAt in the future: ${feed} round ${cur.roundId} updatedAt ${cur.updatedAt} is ` +
      `${cur.updatedAt - ctx.blockTimestampSec}s after the block timestamp ${ctx.blockTimestampSec}`
    );
  }
  const ageSec = ctx.blockTimestampSec - cur.updatedAt;
  if (ageSec > BigInt(ctx.maxAgeSec)) {
    return (
      `oracle stale: the feed's answer is ${ageSec}s old, its heartbeat is ${ctx.maxAgeSec}s ` +
      `(${ctx.maxAgeVar ?? 'max age'}; ${feed})`
    );
  }
  return null;
}

/**
 * A reading made without its round (a backtest's simulated chain, a stub) is checked as round 0
 * of the expected decimals: the answer and age checks still apply.
 */
function roundOf(oracle: OracleReading, expectedDecimals: number): OracleRound {
  return (
    oracle.round ?? {
      feed: '0x0000000000000000000000000000000000000000',
      roundId: 0n,
      answer: oracle.priceE8,
      startedAt: oracle.updatedAtSec,
      updatedAt: oracle.updatedAtSec,
      answeredInRound: 0n,
      decimals: expectedDecimals,
    }
  );
}

/** The later of two rounds by id: a feed that went backwards is compared with its highest round. */
function highest(a: OracleRound | null, b: OracleRound): OracleRound {
  return a && a.roundId >= b.roundId ? a : b;
}

export interface OracleChecker {
  /** Check both feeds of a reading; remembers the highest round of each for the next call. */
  check(oracle: OracleReading, blockTimestampSec: bigint): string | null;
}

/**
 * Round-to-round checks need the previous round: this keeps the highest round seen of each feed
 * (not the last one, or a feed stuck on an older round would pass from its second tick on).
 */
export function createOracleChecker(opts: { maxAgeSec: number; quoteMaxAgeSec?: number; expectedDecimals?: number }): OracleChecker {
  const expectedDecimals = opts.expectedDecimals ?? FEED_DECIMALS;
  let prevBase: OracleRound | null = null;
  let prevQuote: OracleRound | null = null;
  return {
    check(oracle, blockTimestampSec) {
      const base = roundOf(oracle, expectedDecimals);
      const baseCtx = { blockTimestampSec, expectedDecimals, maxAgeSec: opts.maxAgeSec, name: 'ETH/USD', maxAgeVar: 'ORACLE_MAX_AGE_SEC' };
      const bad = checkOracleRound(prevBase, base, baseCtx);
      prevBase = highest(prevBase, base);
      const quote = oracle.quoteRound ?? null;
      if (!quote) return bad;
      const quoteMaxAgeSec = opts.quoteMaxAgeSec ?? Math.max(opts.maxAgeSec, QUOTE_FEED_MAX_AGE_SEC);
      const quoteCtx = { blockTimestampSec, expectedDecimals, maxAgeSec: quoteMaxAgeSec, name: 'USDC/USD', maxAgeVar: 'the USDC feed heartbeat' };
      const badQuote = checkOracleRound(prevQuote, quote, quoteCtx);
      prevQuote = highest(prevQuote, quote);
      return bad ?? badQuote;
    },
  };
}
