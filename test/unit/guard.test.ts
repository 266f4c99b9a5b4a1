import { describe, expect, it } from 'vitest';
import type { Action, GuardPolicy, GuardState } from '../../src/core/types.js';
import { checkAction, initialGuardState, isAllowedCall, recordAction, utcDay } from '../../src/core/guard.js';

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;
const USD_E8 = 10n ** 8n;
const PRICE = 2000n * USD_E8;
const DAY = 86_400;
const NOON = 19_700 * DAY + DAY / 2; // some UTC noon

const policy: GuardPolicy = { maxTradeWei: 50n * ETH, maxNotionalPerDayUsdE8: 1_000_000n * USD_E8, maxTopUpUnits: 100_000n * USDC };
const fresh: GuardState = initialGuardState(NOON);
const hedge = (sizeDeltaWei: bigint): Action => ({ kind: 'adjustHedge', sizeDeltaWei, reason: 't' });
const topUp = (amountUnits: bigint): Action => ({ kind: 'topUp', amountUnits, reason: 't' });

describe('guard.checkAction', () => {
  // [name, action, state, priceE8, nowSec, expected reason fragment or null = ok]
  const cases: [string, Action, GuardState, bigint, number, string | null][] = [
    ['top-up within the cap', topUp(100_000n * USDC), fresh, PRICE, NOON, null],
    ['top-up over the cap', topUp(100_000n * USDC + 1n), fresh, PRICE, NOON, 'exceeds the per-action cap 100000.00 USDC'],
    ['zero top-up', topUp(0n), fresh, PRICE, NOON, 'not positive'],
    ['negative top-up', topUp(-5n), fresh, PRICE, NOON, 'not positive'],
    ['short at the size cap', hedge(-50n * ETH), fresh, PRICE, NOON, null],
    ['buy over the size cap', hedge(50n * ETH + 1n), fresh, PRICE, NOON, 'trade 50.000000000000000001 ETH exceeds the per-trade cap 50 ETH'],
    ['zero-size trade', hedge(0n), fresh, PRICE, NOON, 'zero size'],
    ['no oracle price', hedge(ETH), fresh, 0n, NOON, 'no usable oracle price'],
    ['daily notional exactly used up', hedge(-50n * ETH), { day: utcDay(NOON), notionalTodayUsdE8: 900_000n * USD_E8 }, PRICE, NOON, null],
    ['daily notional exceeded', hedge(-50n * ETH), { day: utcDay(NOON), notionalTodayUsdE8: 900_000n * USD_E8 + 1n }, PRICE, NOON,
      'trade notional $100000.00 + $900000.00 already traded today exceeds the daily cap $1000000.00'],
    ['yesterday does not count', hedge(-50n * ETH), { day: utcDay(NOON) - 1, notionalTodayUsdE8: 1_000_000n * USD_E8 }, PRICE, NOON, null],
    ['a new UTC day starts at midnight', hedge(ETH), { day: utcDay(NOON), notionalTodayUsdE8: 1_000_000n * USD_E8 }, PRICE, (utcDay(NOON) + 1) * DAY, null],
    ['one second before midnight is still today', hedge(ETH), { day: utcDay(NOON), notionalTodayUsdE8: 1_000_000n * USD_E8 }, PRICE, (utcDay(NOON) + 1) * DAY - 1, 'daily cap'],
    ['unknown action kind', { kind: 'withdraw', amountUnits: 1n, reason: '' } as unknown as Action, fresh, PRICE, NOON, 'unknown action kind withdraw'],
  ];
  it.each(cases)('%s', (_n, action, state, priceE8, nowSec, fragment) => {
    const v = checkAction(action, policy, state, { priceE8, nowSec });
    if (fragment === null) {
      expect(v).toEqual({ ok: true });
    } else {
      expect(v.ok).toBe(false);
      expect(v.ok ? '' : v.reason).toContain(fragment);
    }
  });
});

describe('guard.recordAction', () => {
  it('accumulates hedge notional, ignores top-ups, resets on a new day', () => {
    const ctx = { priceE8: PRICE, nowSec: NOON };
    let s = recordAction(fresh, hedge(-10n * ETH), ctx);
    s = recordAction(s, hedge(5n * ETH), ctx);
    s = recordAction(s, topUp(1000n * USDC), ctx);
    expect(s).toEqual({ day: utcDay(NOON), notionalTodayUsdE8: 30_000n * USD_E8 });
    const tomorrow = recordAction(s, hedge(ETH), { priceE8: PRICE, nowSec: NOON + DAY });
    expect(tomorrow).toEqual({ day: utcDay(NOON) + 1, notionalTodayUsdE8: 2_000n * USD_E8 });
  });
});

describe('guard.isAllowedCall', () => {
  const exchange = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
  const allow = [{ target: exchange, functions: ['trade', 'deposit'] }] as const;
  it.each([
    [exchange, 'trade', true],
    [exchange.toLowerCase(), 'deposit', true],
    [exchange, 'withdraw', false],
    ['0x0000000000000000000000000000000000000001', 'trade', false],
    [exchange, 'Trade', false],
  ])('%s.%s -> %s', (target, fn, expected) => {
    expect(isAllowedCall(target, fn, allow)).toBe(expected);
  });
  it('an empty allow-list allows nothing', () => {
    expect(isAllowedCall(exchange, 'trade', [])).toBe(false);
  });
});
