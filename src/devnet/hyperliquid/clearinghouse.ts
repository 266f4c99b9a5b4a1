import type { BookFill } from './book.js';

/**
 * Cross-margin accounting of the local exchange, in bigint: USD E8, prices E8, sizes in lots
 * (10^-szDecimals of a coin). Follows the venue's documented margining: positions marked at the
 * mark price (here the oracle), maintenance margin = notional / (2 × max leverage) (half the
 * initial margin at max leverage), liquidation when the account value falls under the total
 * maintenance margin, the docs' liquidation-price formula, hourly funding paid on the oracle
 * notional. Simplified: one margin tier per coin, liquidation closes at the oracle price with no
 * backstop, funding rates come from configuration rather than the premium index.
 */

export interface CoinInfo {
  readonly name: string;
  readonly index: number;
  readonly szDecimals: number;
  readonly maxLeverage: number;
}

export interface Position {
  lots: bigint;
  entryPxE8: bigint;
  /** Funding paid since the position opened, USD E8 (positive = paid). */
  fundingSinceOpenE8: bigint;
  fundingAllTimeE8: bigint;
}

export interface Fill {
  readonly coin: string;
  readonly pxE8: bigint;
  readonly lots: bigint;
  readonly isBuy: boolean;
  readonly timeMs: number;
  readonly startLots: bigint;
  readonly closedPnlE8: bigint;
  readonly feeE8: bigint;
  readonly oid: number;
  readonly tid: number;
  readonly liquidation: boolean;
}

export interface UserAccount {
  /** Cash: deposits + realized PnL − fees − funding, USD E8. */
  cashE8: bigint;
  readonly positions: Map<string, Position>;
  readonly fills: Fill[];
}

const E6 = 1_000_000n;

export function notionalE8(lots: bigint, pxE8: bigint, szDecimals: number): bigint {
  return ((lots < 0n ? -lots : lots) * pxE8) / 10n ** BigInt(szDecimals);
}

export function createAccount(): UserAccount {
  return { cashE8: 0n, positions: new Map(), fills: [] };
}

/** Everything a margin figure needs: coin info and its mark price, by coin name. */
export interface Marks {
  readonly coins: ReadonlyMap<string, CoinInfo>;
  readonly markE8: (coin: string) => bigint;
}

export function unrealizedE8(coin: CoinInfo, p: Position, markE8: bigint): bigint {
  return (p.lots * (markE8 - p.entryPxE8)) / 10n ** BigInt(coin.szDecimals);
}

export function accountValueE8(acc: UserAccount, marks: Marks): bigint {
  let v = acc.cashE8;
  for (const [name, p] of acc.positions) v += unrealizedE8(marks.coins.get(name)!, p, marks.markE8(name));
  return v;
}

export function totalNotionalE8(acc: UserAccount, marks: Marks): bigint {
  let n = 0n;
  for (const [name, p] of acc.positions) n += notionalE8(p.lots, marks.markE8(name), marks.coins.get(name)!.szDecimals);
  return n;
}

export function maintenanceE8(acc: UserAccount, marks: Marks): bigint {
  let m = 0n;
  for (const [name, p] of acc.positions) {
    const c = marks.coins.get(name)!;
    m += notionalE8(p.lots, marks.markE8(name), c.szDecimals) / BigInt(2 * c.maxLeverage);
  }
  return m;
}

/** Initial margin at each coin's leverage (here its max leverage: the venue's default for cross). */
export function initialMarginE8(acc: UserAccount, marks: Marks): bigint {
  let m = 0n;
  for (const [name, p] of acc.positions) {
    const c = marks.coins.get(name)!;
    m += notionalE8(p.lots, marks.markE8(name), c.szDecimals) / BigInt(c.maxLeverage);
  }
  return m;
}

/**
 * The docs' cross liquidation price: price − side × margin_available / |size| / (1 − l × side),
 * l = 1 / MAINTENANCE_LEVERAGE = 1 / (2 × max leverage), margin_available = account value −
 * maintenance margin. Null when none exists (a long whose price would have to go negative).
 */
export function liquidationPxE8(acc: UserAccount, marks: Marks, coin: CoinInfo): bigint | null {
  const p = acc.positions.get(coin.name);
  if (p === undefined || p.lots === 0n) return null;
  const available = accountValueE8(acc, marks) - maintenanceE8(acc, marks);
  const side = p.lots > 0n ? 1n : -1n;
  const abs = p.lots * side;
  const ml = BigInt(2 * coin.maxLeverage);
  // available / size / (1 − side/ml) = available × 10^szDec × ml / (abs × (ml − side)), in E8.
  const move = (available * 10n ** BigInt(coin.szDecimals) * ml) / (abs * (ml - side));
  const px = marks.markE8(coin.name) - side * move;
  return px > 0n ? px : null;
}

/** Books one taker fill: re-averages the entry while the position grows, realizes PnL on what it closes. */
export function applyFill(acc: UserAccount, coin: CoinInfo, fill: BookFill, isBuy: boolean, takerFeeE6: bigint): { closedPnlE8: bigint; feeE8: bigint; startLots: bigint } {
  const p = acc.positions.get(coin.name) ?? { lots: 0n, entryPxE8: 0n, fundingSinceOpenE8: 0n, fundingAllTimeE8: 0n };
  const startLots = p.lots;
  const delta = isBuy ? fill.lots : -fill.lots;
  const scale = 10n ** BigInt(coin.szDecimals);
  let closedPnlE8 = 0n;
  if (p.lots === 0n || p.lots > 0n === delta > 0n) {
    const total = p.lots + delta;
    const absOld = p.lots < 0n ? -p.lots : p.lots;
    p.entryPxE8 = (absOld * p.entryPxE8 + fill.lots * fill.pxE8) / (total < 0n ? -total : total);
    p.lots = total;
  } else {
    const absOld = p.lots < 0n ? -p.lots : p.lots;
    const closed = fill.lots < absOld ? fill.lots : absOld;
    const sign = p.lots > 0n ? 1n : -1n;
    closedPnlE8 = (sign * closed * (fill.pxE8 - p.entryPxE8)) / scale;
    p.lots += delta;
    if (p.lots !== 0n && p.lots > 0n === delta > 0n) {
      p.entryPxE8 = fill.pxE8;
      p.fundingSinceOpenE8 = 0n;
    }
  }
  const feeE8 = (notionalE8(fill.lots, fill.pxE8, coin.szDecimals) * takerFeeE6 + E6 - 1n) / E6;
  acc.cashE8 += closedPnlE8 - feeE8;
  if (p.lots === 0n) acc.positions.delete(coin.name);
  else acc.positions.set(coin.name, p);
  return { closedPnlE8, feeE8, startLots };
}

/** One hourly funding payment: size × oracle price × rate; a positive rate has longs pay shorts. */
export function payFunding(acc: UserAccount, coin: CoinInfo, oracleE8: bigint, rateE18: bigint): void {
  const p = acc.positions.get(coin.name);
  if (p === undefined) return;
  const signedNotional = (p.lots * oracleE8) / 10n ** BigInt(coin.szDecimals);
  const paid = (signedNotional * rateE18) / 10n ** 18n;
  acc.cashE8 -= paid;
  p.fundingSinceOpenE8 += paid;
  p.fundingAllTimeE8 += paid;
}
