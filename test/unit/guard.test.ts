import { describe, expect, it } from 'vitest';
import type { Action, GuardPolicy, GuardState } from '../../src/core/types.js';
import { checkAction, initialGuardState, isAllowedCall, recordAction, topUpAllowance, utcDay } from '../../src/core/guard.js';

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;
const USD_E8 = 10n ** 8n;
const PRICE = 2000n * USD_E8;
const DAY = 86_400;
const NOON = 19_700 * DAY + DAY / 2; // some UTC noon

const policy: GuardPolicy = {
  maxTradeWei: 50n * ETH, maxNotionalPerDayUsdE8: 1_000_000n * USD_E8, maxTopUpUnits: 100_000n * USDC, maxTopUpPerDayUnits: 250_000n * USDC,
};
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
    ['daily top-ups exactly used up', topUp(50_000n * USDC), { ...fresh, topUpTodayUnits: 200_000n * USDC }, PRICE, NOON, null],
    ['daily top-ups exceeded by one unit', topUp(50_000n * USDC + 1n), { ...fresh, topUpTodayUnits: 200_000n * USDC }, PRICE, NOON,
      'top-up 50000.00 USDC + 200000.00 USDC already topped up today exceeds the daily cap 250000.00 USDC (MAX_TOPUP_PER_DAY_USDC)'],
    ['top-ups of yesterday do not count', topUp(100_000n * USDC), { ...fresh, day: utcDay(NOON) - 1, topUpTodayUnits: 250_000n * USDC }, PRICE, NOON, null],
    ['a state without a top-up counter counts 0', topUp(100_000n * USDC), { day: utcDay(NOON), notionalTodayUsdE8: 0n }, PRICE, NOON, null],
    ['top-up counter at the cap, midnight passed', topUp(USDC), { ...fresh, topUpTodayUnits: 250_000n * USDC }, PRICE, (utcDay(NOON) + 1) * DAY, null],
    ['the per-action cap is checked before the daily one', topUp(100_000n * USDC + 1n), { ...fresh, topUpTodayUnits: 250_000n * USDC }, PRICE, NOON, 'per-action cap'],
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
  it('accumulates hedge notional and top-ups separately, resets both on a new day', () => {
    const ctx = { priceE8: PRICE, nowSec: NOON };
    let s = recordAction(fresh, hedge(-10n * ETH), ctx);
    s = recordAction(s, hedge(5n * ETH), ctx);
    s = recordAction(s, topUp(1000n * USDC), ctx);
    s = recordAction(s, topUp(500n * USDC), ctx);
    expect(s).toEqual({ day: utcDay(NOON), notionalTodayUsdE8: 30_000n * USD_E8, topUpTodayUnits: 1500n * USDC });
    const tomorrow = recordAction(s, hedge(ETH), { priceE8: PRICE, nowSec: NOON + DAY });
    expect(tomorrow).toEqual({ day: utcDay(NOON) + 1, notionalTodayUsdE8: 2_000n * USD_E8, topUpTodayUnits: 0n });
  });

  it('the daily top-up cap binds across recorded top-ups', () => {
    const ctx = { priceE8: PRICE, nowSec: NOON };
    let s = fresh;
    for (let i = 0; i < 2; i++) {
      expect(checkAction(topUp(100_000n * USDC), policy, s, ctx)).toEqual({ ok: true });
      s = recordAction(s, topUp(100_000n * USDC), ctx);
    }
    expect(checkAction(topUp(100_000n * USDC), policy, s, ctx).ok).toBe(false);
    expect(checkAction(topUp(50_000n * USDC), policy, s, ctx)).toEqual({ ok: true });
  });

  it('refuses every top-up when the policy has no daily cap (deny by default)', () => {
    const { maxTopUpPerDayUnits: _omitted, ...partial } = policy;
    const v = checkAction(topUp(USDC), partial as GuardPolicy, fresh, { priceE8: PRICE, nowSec: NOON });
    expect(v.ok ? '' : v.reason).toContain('no daily top-up cap');
  });
});

describe('guard.topUpAllowance', () => {
  // [name, top-ups today, nowSec, expected units, limitedBy fragment]
  const cases: [string, bigint, number, bigint, string][] = [
    ['nothing spent: the per-action cap', 0n, NOON, 100_000n * USDC, 'per-action cap 100000.00 USDC (MAX_TOPUP_USDC)'],
    ['daily left equals the per-action cap', 150_000n * USDC, NOON, 100_000n * USDC, 'MAX_TOPUP_USDC'],
    ['daily left below the per-action cap', 200_000n * USDC, NOON, 50_000n * USDC, 'daily top-up cap (50000.00 USDC left of 250000.00 USDC, MAX_TOPUP_PER_DAY_USDC)'],
    ['daily cap used up', 250_000n * USDC, NOON, 0n, 'daily top-up cap (0.00 USDC left'],
    ['over the cap (counted from the journal): 0, never negative', 300_000n * USDC, NOON, 0n, 'daily top-up cap'],
    ['a new day: the per-action cap again', 250_000n * USDC, NOON + DAY, 100_000n * USDC, 'MAX_TOPUP_USDC'],
  ];
  it.each(cases)('%s', (_n, spent, nowSec, units, fragment) => {
    const a = topUpAllowance(policy, { ...fresh, topUpTodayUnits: spent }, nowSec);
    expect(a.units).toBe(units);
    expect(a.limitedBy).toContain(fragment);
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
