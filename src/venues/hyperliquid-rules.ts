/**
 * Hyperliquid's order rules as pure bigint arithmetic (docs: "Tick and lot size"): a perp price has
 * at most 5 significant figures and at most (6 − szDecimals) decimals, an integer price is always
 * allowed; a size has at most szDecimals decimals; an order is worth at least $10. The venue speaks
 * decimal strings, so the conversions live here too: one place for the scales.
 */

/** Largest decimals a perp price may have before szDecimals is taken off. */
export const MAX_PERP_PRICE_DECIMALS = 6;
export const MAX_PRICE_SIG_FIGS = 5;
/** Minimum order value, USD E8 (the venue's $10). */
export const MIN_ORDER_NOTIONAL_USD_E8 = 10n * 10n ** 8n;

/**
 * A decimal string ("-12.345") as a bigint with `decimals` decimals. Extra digits are truncated
 * toward zero: a reading never looks bigger than what the venue reported.
 */
export function decimalToScaled(value: string, decimals: number): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (m === null) throw new RangeError(`not a decimal number: ${JSON.stringify(value)}`);
  const frac = (m[3] ?? '').slice(0, decimals).padEnd(decimals, '0');
  const abs = BigInt(m[2] + frac);
  return m[1] === '-' ? -abs : abs;
}

/** A scaled bigint back to the venue's decimal string: no trailing zeros, no trailing dot. */
export function scaledToDecimal(value: bigint, decimals: number): string {
  const neg = value < 0n;
  const digits = (neg ? -value : value).toString().padStart(decimals + 1, '0');
  const int = digits.slice(0, digits.length - decimals);
  const frac = decimals > 0 ? digits.slice(digits.length - decimals).replace(/0+$/, '') : '';
  const text = frac === '' ? int : `${int}.${frac}`;
  return neg && text !== '0' ? `-${text}` : text;
}

/** floor(log10(x)) of a positive bigint read at `scale` decimals (the magnitude of its first digit). */
function magnitude(x: bigint, scale: number): number {
  return x.toString().length - 1 - scale;
}

/**
 * Decimals a perp price of this magnitude may carry: min(6 − szDecimals, 4 − magnitude), at least 0
 * (an integer price is always valid, however many figures it has).
 */
export function priceDecimalsAllowed(priceScaled: bigint, scale: number, szDecimals: number): number {
  if (priceScaled <= 0n) throw new RangeError(`price must be positive (${priceScaled})`);
  const bySigFigs = MAX_PRICE_SIG_FIGS - 1 - magnitude(priceScaled, scale);
  return Math.max(0, Math.min(MAX_PERP_PRICE_DECIMALS - szDecimals, bySigFigs));
}

/**
 * Rounds a price (scaled by `scale` decimals) onto the venue's tick, up or down: the caller picks
 * the side that is worse for itself (a buy rounds up, a sell down), so the rounding never makes a
 * limit tighter than the slippage it was given. Rounding up can carry into a new magnitude
 * (9.99995 → 10): the result is re-checked once, which settles it.
 */
export function roundPriceToTick(priceScaled: bigint, scale: number, szDecimals: number, direction: 'up' | 'down'): bigint {
  let p = priceScaled;
  for (let i = 0; i < 2; i++) {
    const decimals = priceDecimalsAllowed(p, scale, szDecimals);
    if (decimals >= scale) return p;
    const step = 10n ** BigInt(scale - decimals);
    const rem = p % step;
    if (rem === 0n) return p;
    p = direction === 'down' ? p - rem : p - rem + step;
    if (p === 0n) throw new RangeError(`price ${scaledToDecimal(priceScaled, scale)} rounds to zero on the tick`);
  }
  return p;
}

export function isValidPrice(priceScaled: bigint, scale: number, szDecimals: number): boolean {
  return priceScaled > 0n && roundPriceToTick(priceScaled, scale, szDecimals, 'down') === priceScaled;
}

/** Asset units (token decimals) -> venue lots (szDecimals), truncated toward zero. */
export function unitsToLots(units: bigint, tokenDecimals: number, szDecimals: number): bigint {
  if (szDecimals > tokenDecimals) throw new RangeError(`szDecimals ${szDecimals} finer than the token's ${tokenDecimals} decimals`);
  return units / 10n ** BigInt(tokenDecimals - szDecimals);
}

export function lotsToUnits(lots: bigint, tokenDecimals: number, szDecimals: number): bigint {
  if (szDecimals > tokenDecimals) throw new RangeError(`szDecimals ${szDecimals} finer than the token's ${tokenDecimals} decimals`);
  return lots * 10n ** BigInt(tokenDecimals - szDecimals);
}

/** Order value of `lots` at a price E8, USD E8 (exact: lots × price / 10^szDecimals, truncated). */
export function notionalUsdE8(lots: bigint, priceE8: bigint, szDecimals: number): bigint {
  const abs = lots < 0n ? -lots : lots;
  return (abs * priceE8) / 10n ** BigInt(szDecimals);
}

export function meetsMinNotional(lots: bigint, priceE8: bigint, szDecimals: number): boolean {
  return notionalUsdE8(lots, priceE8, szDecimals) >= MIN_ORDER_NOTIONAL_USD_E8;
}
