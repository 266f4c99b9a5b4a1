import type { Address } from 'viem';
import { decimalToScaled, scaledToDecimal } from '../../venues/hyperliquid-rules.js';
import { SyntheticBook, type BookConfig, type BookFill } from './book.js';
import { accountValueE8, applyFill, createAccount, initialMarginE8, maintenanceE8, payFunding, type CoinInfo, type Marks, type UserAccount } from './clearinghouse.js';
import { checkMinNotional, checkPrice, checkSize, NonceWindow } from './rules.js';

/**
 * The state of the local Hyperliquid exchange and the actions it executes once a request's
 * signer is known (server.ts parses, verifies and routes). Prices come from a callback (the
 * devnet's oracle, or a fixed price in tests), refreshed before every request; funding is paid
 * on the hour of the exchange's own clock.
 */

export const HOUR_MS = 3_600_000;

export interface CoinConfig {
  readonly name: string;
  readonly szDecimals: number;
  readonly maxLeverage: number;
  /** Hourly funding rate as the venue quotes it ("0.0000125"); default 0.00125% (the venue's interest-rate floor). */
  readonly fundingRate?: string;
  readonly book?: BookConfig;
}

export interface ExchangeOptions {
  readonly coins: readonly CoinConfig[];
  /** Oracle (and mark) price of a coin, USD E8. */
  readonly priceE8: (coin: string) => bigint | Promise<bigint>;
  readonly book?: BookConfig;
  readonly now?: () => number;
  /** Taker fee, parts per million (450 = 0.045%, the venue's base tier). */
  readonly takerFeeE6?: bigint;
}

export interface OpenOrder {
  readonly user: string;
  readonly coin: string;
  readonly isBuy: boolean;
  readonly pxE8: bigint;
  readonly lots: bigint;
  readonly origLots: bigint;
  readonly oid: number;
  readonly timeMs: number;
  readonly reduceOnly: boolean;
  readonly cloid?: string;
}

export interface OrderWire {
  readonly a: number;
  readonly b: boolean;
  readonly p: string;
  readonly s: string;
  readonly r: boolean;
  readonly t: { limit: { tif: string } } | { trigger: unknown };
  readonly c?: string;
}

/** What `orderStatus` reports of an order the venue accepted (an error answer never got an oid). */
export interface OrderHistory {
  readonly user: string;
  readonly coin: string;
  readonly isBuy: boolean;
  readonly pxE8: bigint;
  readonly origLots: bigint;
  /** Not filled: 0 when filled, the cancelled rest of an IOC, what still rests of a GTC. */
  remainingLots: bigint;
  status: 'open' | 'filled' | 'canceled';
  statusTimeMs: number;
  readonly timeMs: number;
  readonly reduceOnly: boolean;
  readonly tif: string;
  readonly cloid?: string;
}

/** One `userNonFundingLedgerUpdates` entry (deposits only here). */
export interface LedgerUpdate {
  readonly user: string;
  readonly time: number;
  readonly hash: `0x${string}`;
  readonly delta: { type: 'deposit'; usdc: string };
}

export type OrderStatus = { resting: { oid: number; cloid?: string } } | { filled: { totalSz: string; avgPx: string; oid: number; cloid?: string } } | { error: string };

const DEFAULT_BOOK: BookConfig = { levels: 10, spacingBps: 5, levelLots: 10n ** 6n };

export class LocalHyperliquid {
  readonly coins: CoinInfo[];
  readonly coinByName = new Map<string, CoinInfo>();
  readonly books = new Map<string, SyntheticBook>();
  readonly fundingE18 = new Map<string, bigint>();
  readonly accounts = new Map<string, UserAccount>();
  /** agent address -> the user that approved it. */
  readonly agents = new Map<string, string>();
  readonly nonces = new NonceWindow();
  readonly openOrders: OpenOrder[] = [];
  /** Every accepted order by oid, and `user:cloid` -> oid: what orderStatus answers. */
  readonly history = new Map<number, OrderHistory>();
  readonly oidByCloid = new Map<string, number>();
  readonly ledger: LedgerUpdate[] = [];
  /** Runs first in every refresh() (the bridge watcher: src/devnet/hyperliquid/bridge.ts). */
  beforeRefresh: (() => Promise<void>) | null = null;
  readonly now: () => number;
  readonly takerFeeE6: bigint;
  private readonly prices = new Map<string, bigint>();
  private lastFundingMs: number;
  private nextOid = 1;
  private nextTid = 1;

  constructor(private readonly opts: ExchangeOptions) {
    this.now = opts.now ?? Date.now;
    this.takerFeeE6 = opts.takerFeeE6 ?? 450n;
    this.coins = opts.coins.map((c, index) => ({ name: c.name, index, szDecimals: c.szDecimals, maxLeverage: c.maxLeverage }));
    for (const [i, c] of opts.coins.entries()) {
      this.coinByName.set(c.name, this.coins[i]!);
      this.books.set(c.name, new SyntheticBook(c.szDecimals, c.book ?? opts.book ?? DEFAULT_BOOK));
      this.fundingE18.set(c.name, decimalToScaled(c.fundingRate ?? '0.0000125', 18));
    }
    this.lastFundingMs = Math.floor(this.now() / HOUR_MS) * HOUR_MS;
  }

  marks(): Marks {
    return { coins: this.coinByName, markE8: (coin) => this.prices.get(coin) ?? 0n };
  }

  priceOf(coin: string): bigint {
    return this.prices.get(coin) ?? 0n;
  }

  /** Prices from the callback, then the hours of funding due, then liquidations: the state every request sees. */
  async refresh(): Promise<void> {
    await this.beforeRefresh?.();
    for (const c of this.coins) {
      const px = await this.opts.priceE8(c.name);
      this.prices.set(c.name, px);
      this.books.get(c.name)!.setMid(px);
    }
    while (this.lastFundingMs + HOUR_MS <= this.now()) {
      this.lastFundingMs += HOUR_MS;
      for (const acc of this.accounts.values()) {
        for (const c of this.coins) payFunding(acc, c, this.priceOf(c.name), this.fundingE18.get(c.name)!);
      }
    }
    for (const acc of this.accounts.values()) this.liquidateIfDue(acc);
  }

  /** Under maintenance, every position is closed at the oracle price (no backstop, no partial liquidation). */
  private liquidateIfDue(acc: UserAccount): void {
    if (acc.positions.size === 0 || accountValueE8(acc, this.marks()) >= maintenanceE8(acc, this.marks())) return;
    for (const [name, p] of [...acc.positions]) {
      const coin = this.coinByName.get(name)!;
      const isBuy = p.lots < 0n;
      const fill = { pxE8: this.priceOf(name), lots: p.lots < 0n ? -p.lots : p.lots };
      this.record(acc, coin, fill, isBuy, 0, true);
    }
  }

  /**
   * Credit a deposit, in USD E8: a test funding an account directly, or the bridge watcher
   * (bridge.ts) crediting a USDC transfer to the bridge, which also writes the ledger entry.
   */
  deposit(user: Address, usdE8: bigint, ledger?: { hash: `0x${string}`; usdc: string }): void {
    const acc = this.accounts.get(user.toLowerCase()) ?? createAccount();
    acc.cashE8 += usdE8;
    this.accounts.set(user.toLowerCase(), acc);
    if (ledger) this.ledger.push({ user: user.toLowerCase(), time: this.now(), hash: ledger.hash, delta: { type: 'deposit', usdc: ledger.usdc } });
  }

  /** An order by oid or by the user's cloid (orderStatus). */
  orderOf(user: string, oid: number | string): { oid: number; h: OrderHistory } | null {
    const id = typeof oid === 'number' ? oid : this.oidByCloid.get(`${user.toLowerCase()}:${oid.toLowerCase()}`);
    const h = id === undefined ? undefined : this.history.get(id);
    return h === undefined || h.user !== user.toLowerCase() || id === undefined ? null : { oid: id, h };
  }

  private remember(user: string, coin: CoinInfo, o: OrderWire, pxE8: bigint, oid: number, remainingLots: bigint, status: OrderHistory['status']): void {
    const t = this.now();
    const origLots = decimalToScaled(o.s, coin.szDecimals);
    this.history.set(oid, { user, coin: coin.name, isBuy: o.b, pxE8, origLots, remainingLots, status, statusTimeMs: t, timeMs: t, reduceOnly: o.r, tif: 'limit' in o.t ? o.t.limit.tif : 'Gtc', ...(o.c !== undefined ? { cloid: o.c.toLowerCase() } : {}) });
    if (o.c !== undefined) this.oidByCloid.set(`${user}:${o.c.toLowerCase()}`, oid);
  }

  /** The account a signer acts for: itself if it has one, else the user that approved it as an agent. */
  userOf(signer: string): string | null {
    const s = signer.toLowerCase();
    if (this.accounts.has(s)) return s;
    return this.agents.get(s) ?? null;
  }

  private record(acc: UserAccount, coin: CoinInfo, fill: BookFill, isBuy: boolean, oid: number, liquidation: boolean): void {
    const { closedPnlE8, feeE8, startLots } = applyFill(acc, coin, fill, isBuy, liquidation ? 0n : this.takerFeeE6);
    acc.fills.push({ coin: coin.name, pxE8: fill.pxE8, lots: fill.lots, isBuy, timeMs: this.now(), startLots, closedPnlE8, feeE8, oid, tid: this.nextTid++, liquidation });
  }

  placeOrder(user: string, o: OrderWire): OrderStatus {
    const coin = this.coins[o.a];
    if (coin === undefined) return { error: `Invalid asset ${o.a}` };
    if (!('limit' in o.t)) return { error: `Trigger orders are not supported by the local exchange. asset=${o.a}` };
    const tif = o.t.limit.tif;
    for (const check of [checkPrice(o.p, coin.szDecimals), checkSize(o.s, coin.szDecimals), checkMinNotional(o.p, o.s)]) {
      if (!check.ok) return { error: `${check.error} asset=${o.a}` };
    }
    const acc = this.accounts.get(user)!;
    const pxE8 = decimalToScaled(o.p, 8);
    let lots = decimalToScaled(o.s, coin.szDecimals);
    if (lots === 0n) return { error: `Order has invalid size. asset=${o.a}` };
    const held = acc.positions.get(coin.name)?.lots ?? 0n;
    if (o.r) {
      if (held === 0n || held > 0n === o.b) return { error: `Reduce only order would increase position. asset=${o.a}` };
      const abs = held < 0n ? -held : held;
      if (lots > abs) lots = abs;
    }
    const book = this.books.get(coin.name)!;
    const oid = this.nextOid++;
    const cloid = o.c !== undefined ? { cloid: o.c } : {};
    if (tif === 'Alo') {
      const [bids, asks] = book.levels();
      const best = o.b ? asks[0] : bids[0];
      if (best !== undefined && (o.b ? pxE8 >= best.pxE8 : pxE8 <= best.pxE8)) {
        return { error: `Post only order would have immediately matched, bbo was ${best.pxE8}. asset=${o.a}` };
      }
      this.remember(user, coin, o, pxE8, oid, lots, 'open');
      return this.rest(user, coin, o, pxE8, lots, oid, cloid);
    }
    const fills = this.takeWithMargin(acc, coin, o.b, pxE8, lots);
    if (typeof fills === 'string') return { error: `${fills} asset=${o.a}` };
    const filledLots = fills.reduce((s, f) => s + f.lots, 0n);
    for (const f of fills) this.record(acc, coin, f, o.b, oid, false);
    const origLots = decimalToScaled(o.s, coin.szDecimals);
    if (filledLots < lots && tif === 'Gtc') {
      this.remember(user, coin, o, pxE8, oid, origLots - filledLots, 'open');
      return this.rest(user, coin, o, pxE8, lots - filledLots, oid, cloid);
    }
    // An IOC's rest is cancelled; one that filled nothing is an error answer and gets no history.
    if (filledLots > 0n) this.remember(user, coin, o, pxE8, oid, origLots - filledLots, filledLots < origLots ? 'canceled' : 'filled');
    if (filledLots === 0n) return { error: `Order could not immediately match against any resting orders. asset=${o.a}` };
    const avgE8 = fills.reduce((s, f) => s + f.lots * f.pxE8, 0n) / filledLots;
    return { filled: { totalSz: lotsText(filledLots, coin.szDecimals), avgPx: trimE8(avgE8), oid, ...cloid } };
  }

  /**
   * Takes from the book, then checks the account still meets initial margin if the order grew its
   * risk; a refusal puts the liquidity back. (The venue checks margin on the whole order before
   * matching; checking what would fill is the same answer for an IOC.)
   */
  private takeWithMargin(acc: UserAccount, coin: CoinInfo, isBuy: boolean, pxE8: bigint, lots: bigint): BookFill[] | string {
    const book = this.books.get(coin.name)!;
    const fills = book.take(isBuy, pxE8, lots);
    const trial: UserAccount = { cashE8: acc.cashE8, positions: new Map([...acc.positions].map(([k, p]) => [k, { ...p }])), fills: [] };
    const before = acc.positions.get(coin.name)?.lots ?? 0n;
    for (const f of fills) applyFill(trial, coin, f, isBuy, this.takerFeeE6);
    const after = trial.positions.get(coin.name)?.lots ?? 0n;
    const grows = (after < 0n ? -after : after) > (before < 0n ? -before : before);
    if (grows && accountValueE8(trial, this.marks()) < initialMarginE8(trial, this.marks())) {
      book.giveBack(isBuy, fills);
      return 'Insufficient margin to place order.';
    }
    return fills;
  }

  private rest(user: string, coin: CoinInfo, o: OrderWire, pxE8: bigint, lots: bigint, oid: number, cloid: { cloid?: string }): OrderStatus {
    this.openOrders.push({ user, coin: coin.name, isBuy: o.b, pxE8, lots, origLots: decimalToScaled(o.s, coin.szDecimals), oid, timeMs: this.now(), reduceOnly: o.r, ...cloid });
    return { resting: { oid, ...cloid } };
  }

  cancel(user: string, asset: number, oid: number): 'success' | { error: string } {
    const i = this.openOrders.findIndex((o) => o.user === user && o.oid === oid && this.coinByName.get(o.coin)?.index === asset);
    if (i < 0) return { error: `Order was never placed, already canceled, or filled. asset=${asset}` };
    this.openOrders.splice(i, 1);
    const h = this.history.get(oid);
    if (h) Object.assign(h, { status: 'canceled', statusTimeMs: this.now() });
    return 'success';
  }
}

export function lotsText(lots: bigint, szDecimals: number): string {
  return scaledToDecimal(lots, szDecimals);
}

export function trimE8(x: bigint): string {
  return scaledToDecimal(x, 8);
}
