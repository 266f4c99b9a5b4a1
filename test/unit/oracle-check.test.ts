import { describe, expect, it } from 'vitest';
import type { OracleReading, OracleRound } from '../../src/core/types.js';
import { checkOracleRound, createOracleChecker, FEED_DECIMALS, QUOTE_FEED_MAX_AGE_SEC } from '../../src/core/oracle-check.js';

const FEED = '0x00000000000000000000000000000000000000fe';
const USDC_FEED = '0x00000000000000000000000000000000000000fd';
const NOW = 1_700_000_000n;
const ctx = { blockTimestampSec: NOW, expectedDecimals: 8, maxAgeSec: 3600, name: 'ETH/USD', maxAgeVar: 'ORACLE_MAX_AGE_SEC' };

function round(over: Partial<OracleRound> = {}): OracleRound {
  return { feed: FEED, roundId: 10n, answer: 2000n * 10n ** 8n, startedAt: NOW - 60n, updatedAt: NOW - 60n, answeredInRound: 10n, decimals: 8, ...over };
}

describe('checkOracleRound', () => {
  // [name, previous round, current round, expected fragment (null = accepted)]
  const cases: [string, OracleRound | null, OracleRound, string | null][] = [
    ['a fresh round, first tick', null, round(), null],
    ['the same round again', round(), round(), null],
    ['a newer round', round(), round({ roundId: 11n, answeredInRound: 11n }), null],
    ['answer 0', null, round({ answer: 0n }), `oracle answer not a price: ETH/USD feed ${FEED} answered 0 in round 10`],
    ['negative answer', null, round({ answer: -1n }), 'answered -1'],
    ['answer 1 (smallest positive)', null, round({ answer: 1n }), null],
    ['roundId going backwards', round({ roundId: 12n, answeredInRound: 12n }), round(), `oracle round went backwards: ETH/USD feed ${FEED} reports round 10 after round 12`],
    ['answeredInRound < roundId', null, round({ answeredInRound: 9n }), 'oracle answer carried over: ETH/USD feed 0x00000000000000000000000000000000000000fe answeredInRound 9 < roundId 10'],
    ['answeredInRound > roundId (proxy phases): accepted', null, round({ answeredInRound: 11n }), null],
    ['updatedAt 1 s in the future', null, round({ updatedAt: NOW + 1n }), `oracle updatedAt in the future: ETH/USD feed ${FEED} round 10 updatedAt ${NOW + 1n} is 1s after the block timestamp ${NOW}`],
    ['updatedAt exactly the block time', null, round({ updatedAt: NOW }), null],
    ['updatedAt 0 (round never completed)', null, round({ updatedAt: 0n }), 'oracle round incomplete'],
    ['18 decimals', null, round({ decimals: 18 }), `oracle decimals: ETH/USD feed ${FEED} has 18 decimals, the keeper reads prices with 8`],
    ['stale by one second', null, round({ updatedAt: NOW - 3601n }), `oracle stale: the feed's answer is 3601s old, its heartbeat is 3600s (ORACLE_MAX_AGE_SEC; ETH/USD feed ${FEED})`],
    ['exactly the heartbeat old', null, round({ updatedAt: NOW - 3600n }), null],
    ['decimals are checked before the answer', null, round({ decimals: 6, answer: 0n }), 'oracle decimals'],
  ];
  it.each(cases)('%s', (_n, prev, cur, fragment) => {
    const reason = checkOracleRound(prev, cur, ctx);
    if (fragment === null) expect(reason).toBeNull();
    else expect(reason).toContain(fragment);
  });

  it('other expected decimals are honoured', () => {
    expect(checkOracleRound(null, round({ decimals: 18 }), { ...ctx, expectedDecimals: 18 })).toBeNull();
    expect(checkOracleRound(null, round(), { ...ctx, expectedDecimals: 18 })).toContain('has 8 decimals');
  });
});

describe('createOracleChecker', () => {
  const reading = (eth: Partial<OracleRound>, usd?: Partial<OracleRound> | null): OracleReading => ({
    priceE8: 2000n * 10n ** 8n,
    updatedAtSec: NOW,
    quotePriceE8: 10n ** 8n,
    round: round(eth),
    quoteRound: usd === null || usd === undefined ? null : round({ feed: USDC_FEED, answer: 10n ** 8n, ...usd }),
  });

  it('remembers the highest round: a feed stuck on an older round stays refused', () => {
    const c = createOracleChecker({ maxAgeSec: 3600 });
    expect(c.check(reading({ roundId: 12n, answeredInRound: 12n }), NOW)).toBeNull();
    expect(c.check(reading({}), NOW)).toContain('reports round 10 after round 12');
    expect(c.check(reading({}), NOW)).toContain('reports round 10 after round 12');
    expect(c.check(reading({ roundId: 13n, answeredInRound: 13n }), NOW)).toBeNull();
  });

  it('checks the USDC feed the same way, naming it', () => {
    const c = createOracleChecker({ maxAgeSec: 3600 });
    expect(c.check(reading({}, {}), NOW)).toBeNull();
    expect(c.check(reading({}, { answer: 0n }), NOW)).toBe(`oracle answer not a price: USDC/USD feed ${USDC_FEED} answered 0 in round 10`);
    expect(c.check(reading({}, { roundId: 9n, answeredInRound: 9n }), NOW)).toContain(`USDC/USD feed ${USDC_FEED} reports round 9 after round 10`);
    expect(c.check(reading({}, { updatedAt: NOW + 5n }), NOW)).toContain('USDC/USD feed');
    // The ETH feed's problem is named first when both are wrong.
    expect(c.check(reading({ answer: -5n }, { answer: 0n }), NOW)).toContain('ETH/USD feed');
  });

  it('holds the USDC feed to its own 24 h heartbeat, never less than the ETH one', () => {
    const c = createOracleChecker({ maxAgeSec: 3600 });
    expect(c.check(reading({}, { updatedAt: NOW - 7200n }), NOW)).toBeNull();
    expect(c.check(reading({}, { updatedAt: NOW - BigInt(QUOTE_FEED_MAX_AGE_SEC) - 1n }), NOW)).toContain('oracle stale: the feed\'s answer is 86401s old');
    const long = createOracleChecker({ maxAgeSec: 200_000 });
    expect(long.check(reading({ updatedAt: NOW - 100_000n }, { updatedAt: NOW - 100_000n }), NOW)).toBeNull();
  });

  it('a reading without its round (backtest, stub) still gets the answer and age checks', () => {
    const c = createOracleChecker({ maxAgeSec: 3600 });
    const bare: OracleReading = { priceE8: 2000n * 10n ** 8n, updatedAtSec: NOW - 10n, quotePriceE8: 10n ** 8n };
    expect(c.check(bare, NOW)).toBeNull();
    expect(c.check({ ...bare, updatedAtSec: NOW - 4000n }, NOW)).toContain('4000s old');
    expect(c.check({ ...bare, priceE8: 0n }, NOW)).toContain('answered 0');
    expect(FEED_DECIMALS).toBe(8);
  });
});
