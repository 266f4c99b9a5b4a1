import { formatPrice, formatSize } from '@nktkas/hyperliquid/utils';
import { MIN_ORDER_NOTIONAL_USD_E8, decimalToScaled } from '../../venues/hyperliquid-rules.js';

/**
 * The local exchange's own checks of an order and a nonce. Prices and sizes are judged with the
 * SDK's formatters (a valid number is one they leave unchanged), not with the keeper's rounding
 * in src/venues/hyperliquid-rules.ts: the exchange must catch that code's mistakes, not share them.
 */

export const DAY_MS = 86_400_000;
/** Nonces kept per signer (the docs' "100 highest nonces"). */
export const NONCE_SET_SIZE = 100;

export type RuleResult = { ok: true } | { ok: false; error: string };

export function checkPrice(px: string, szDecimals: number): RuleResult {
  let formatted: string;
  try {
    formatted = formatPrice(px, szDecimals, 'perp');
  } catch {
    return { ok: false, error: 'Order has invalid price.' };
  }
  return formatted === px ? { ok: true } : { ok: false, error: 'Order has invalid price.' };
}

export function checkSize(sz: string, szDecimals: number): RuleResult {
  let formatted: string;
  try {
    formatted = formatSize(sz, szDecimals);
  } catch {
    return { ok: false, error: 'Order has invalid size.' };
  }
  return formatted === sz ? { ok: true } : { ok: false, error: 'Order has invalid size.' };
}

/** Order value at its limit price (the venue's $10 rule), exact in E8. */
export function checkMinNotional(px: string, sz: string): RuleResult {
  const valueE16 = decimalToScaled(px, 8) * decimalToScaled(sz, 8);
  return valueE16 >= MIN_ORDER_NOTIONAL_USD_E8 * 10n ** 8n ? { ok: true } : { ok: false, error: 'Order must have minimum value of $10.' };
}

/**
 * The venue's nonce rule, per signer (the user, or the agent that signed): within
 * (now − 2 days, now + 1 day), never used before, and above the smallest of the signer's 100
 * highest nonces once it holds 100.
 */
export class NonceWindow {
  private readonly used = new Map<string, number[]>();

  check(signer: string, nonce: number, nowMs: number): RuleResult {
    if (!(nonce > nowMs - 2 * DAY_MS && nonce < nowMs + DAY_MS)) {
      return { ok: false, error: `Invalid nonce: ${nonce} is outside the window (now ${nowMs} − 2 days, + 1 day)` };
    }
    const set = this.used.get(signer.toLowerCase()) ?? [];
    if (set.includes(nonce)) return { ok: false, error: `Invalid nonce: duplicate nonce ${nonce}` };
    if (set.length >= NONCE_SET_SIZE && nonce <= set[0]!) {
      return { ok: false, error: `Invalid nonce: ${nonce} is not above the lowest of the last ${NONCE_SET_SIZE} (${set[0]})` };
    }
    return { ok: true };
  }

  /** Records an accepted nonce (only after the signature checked out: a forged request burns nothing). */
  use(signer: string, nonce: number): void {
    const key = signer.toLowerCase();
    const set = [...(this.used.get(key) ?? []), nonce].sort((a, b) => a - b);
    this.used.set(key, set.length > NONCE_SET_SIZE ? set.slice(set.length - NONCE_SET_SIZE) : set);
  }
}
