import { describe, expect, it } from 'vitest';
import { checkMinNotional, checkPrice, checkSize, DAY_MS, NonceWindow } from '../../src/devnet/hyperliquid/rules.js';
import {
  decimalToScaled,
  isValidPrice,
  meetsMinNotional,
  roundPriceToTick,
  scaledToDecimal,
  unitsToLots,
} from '../../src/venues/hyperliquid-rules.js';
import { buildHedgeOrder } from '../../src/venues/hyperliquid-orders.js';
import type { AssetSpec, HyperliquidMarketAccount } from '../../src/portfolio/model.js';

const E8 = 10n ** 8n;

describe('tick rule: 5 significant figures, at most 6 − szDecimals decimals, integers always valid', () => {
  const cases: Array<[string, number, 'up' | 'down', string]> = [
    ['1234.567', 4, 'down', '1234.5'],
    ['1234.567', 4, 'up', '1234.6'],
    ['1234.5', 4, 'up', '1234.5'],
    ['123456.7', 4, 'down', '123456'],
    ['123456.7', 4, 'up', '123457'],
    ['0.123456789', 0, 'down', '0.12345'],
    ['0.123456789', 2, 'down', '0.1234'],
    ['0.0012345678', 0, 'up', '0.001235'],
    ['9.99995', 1, 'up', '10'],
    ['3000.00001', 4, 'up', '3000.1'],
    ['99999.5', 5, 'down', '99999'],
  ];
  it.each(cases)('%s (szDecimals %i) rounded %s = %s', (px, szDec, dir, want) => {
    const got = scaledToDecimal(roundPriceToTick(decimalToScaled(px, 12), 12, szDec, dir), 12);
    expect(got).toBe(want);
    expect(checkPrice(got, szDec)).toEqual({ ok: true });
  });

  it('the exchange refuses what breaks the rule, and agrees with the builder on what is valid', () => {
    expect(checkPrice('1234.56', 4)).toEqual({ ok: false, error: 'Order has invalid price.' });
    expect(checkPrice('0.1234567', 0)).toEqual({ ok: false, error: 'Order has invalid price.' });
    expect(checkPrice('123456', 4)).toEqual({ ok: true });
    expect(isValidPrice(decimalToScaled('1234.56', 8), 8, 4)).toBe(false);
    expect(isValidPrice(decimalToScaled('123456', 8), 8, 4)).toBe(true);
  });
});

describe('lot rule and minimum notional', () => {
  it('truncates asset units to szDecimals lots, toward zero', () => {
    expect(unitsToLots(1_234_567_890_123_456_789n, 18, 4)).toBe(12_345n);
    expect(unitsToLots(99_999_999_999_999n, 18, 4)).toBe(0n);
    expect(checkSize('1.2345', 4)).toEqual({ ok: true });
    expect(checkSize('1.23456', 4)).toEqual({ ok: false, error: 'Order has invalid size.' });
  });

  it('$10 exactly passes, a unit under it does not', () => {
    expect(meetsMinNotional(50n, 2000n * E8, 4)).toBe(true); // 0.005 × 2000 = 10
    expect(meetsMinNotional(49n, 2000n * E8, 4)).toBe(false);
    expect(checkMinNotional('2000', '0.005')).toEqual({ ok: true });
    expect(checkMinNotional('1999.9', '0.005')).toEqual({ ok: false, error: 'Order must have minimum value of $10.' });
  });
});

describe('nonce window', () => {
  const now = 1_700_000_000_000;
  it('accepts recent unique nonces, refuses duplicates and nonces outside (now − 2 days, now + 1 day)', () => {
    const w = new NonceWindow();
    expect(w.check('0xA', now, now).ok).toBe(true);
    w.use('0xA', now);
    expect(w.check('0xa', now, now)).toEqual({ ok: false, error: `Invalid nonce: duplicate nonce ${now}` });
    expect(w.check('0xb', now, now).ok).toBe(true); // per signer
    expect(w.check('0xA', now - 2 * DAY_MS, now).ok).toBe(false);
    expect(w.check('0xA', now - 2 * DAY_MS + 1, now).ok).toBe(true);
    expect(w.check('0xA', now + DAY_MS, now).ok).toBe(false);
    expect(w.check('0xA', now + DAY_MS - 1, now).ok).toBe(true);
  });

  it('once 100 nonces are held, one at or below the smallest is refused', () => {
    const w = new NonceWindow();
    for (let i = 1; i <= 100; i++) w.use('0xa', now + i);
    expect(w.check('0xa', now + 1, now).ok).toBe(false);
    expect(w.check('0xa', now - 5, now).ok).toBe(false);
    expect(w.check('0xa', now + 101, now).ok).toBe(true);
    w.use('0xa', now + 101); // drops now+1: now+2 is the floor
    expect(w.check('0xa', now + 2, now).ok).toBe(false);
  });
});

describe('buildHedgeOrder', () => {
  const eth: AssetSpec = { id: 'ETH', token: '0x0000000000000000000000000000000000000001', decimals: 18, feed: '0x0000000000000000000000000000000000000002', heartbeatSec: 3600, wrapsNative: true };
  const market = (sizeUnits: bigint): HyperliquidMarketAccount => ({
    coin: 'ETH', assetIndex: 1, szDecimals: 4, maxLeverage: 25, sizeUnits, entryPriceE8: 0n,
    markPriceE8: 3000n * E8, oraclePriceE8: 3000n * E8, fundingRateHourlyE18: 0n, liquidationPriceE8: null,
  });

  it('a sell is priced at oracle − slippage rounded down onto the tick, size truncated to lots', () => {
    const b = buildHedgeOrder({ asset: eth, market: market(0n), sizeDeltaUnits: -123_456_789_000_000_000n, oraclePriceE8: 3012_34567890n, maxSlippageBps: 50 });
    expect(b).toMatchObject({ kind: 'order', order: { isBuy: false, p: '2997.2', s: '0.1234', reduceOnly: false, assetIndex: 1 } });
  });

  it('a buy that shrinks the short is reduce-only and rounds up', () => {
    const b = buildHedgeOrder({ asset: eth, market: market(-(10n ** 18n)), sizeDeltaUnits: 5n * 10n ** 17n, oraclePriceE8: 3012_34567890n, maxSlippageBps: 50 });
    expect(b).toMatchObject({ kind: 'order', order: { isBuy: true, p: '3027.5', s: '0.5', reduceOnly: true } });
  });

  it('a buy past the short is not reduce-only; orders under $10 and under one lot are skipped', () => {
    expect(buildHedgeOrder({ asset: eth, market: market(-(10n ** 17n)), sizeDeltaUnits: 2n * 10n ** 17n, oraclePriceE8: 3000n * E8, maxSlippageBps: 50 })).toMatchObject({ order: { reduceOnly: false } });
    expect(buildHedgeOrder({ asset: eth, market: market(0n), sizeDeltaUnits: -33n * 10n ** 14n, oraclePriceE8: 3000n * E8, maxSlippageBps: 50 }).kind).toBe('skip');
    expect(buildHedgeOrder({ asset: eth, market: market(0n), sizeDeltaUnits: -(10n ** 13n), oraclePriceE8: 3000n * E8, maxSlippageBps: 50 }).kind).toBe('skip');
  });
});
